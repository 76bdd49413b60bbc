// Package reporttest builds valid reports for tests and benchmarks of the
// server side: a synthetic host with N checks whose statuses and evidence a
// test can flip.
package reporttest

import (
	"fmt"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
)

// Host is a synthetic host: Results are its current check outcomes, which
// a test edits between calls to Report.
type Host struct {
	ID      string
	Results []checks.Result
	seq     uint64
}

// NewHost returns a host with n checks, every seventh failing, each with
// one piece of evidence.
func NewHost(id string, n int) *Host {
	h := &Host{ID: id}
	for i := range n {
		st := checks.StatusPass
		if i%7 == 3 {
			st = checks.StatusFail
		}
		h.Results = append(h.Results, checks.Result{
			ID: fmt.Sprintf("bench.check_%03d", i), Title: fmt.Sprintf("Synthetic control %d", i),
			Status: st, Severity: checks.Severity(1 + i%5), Message: "synthetic",
			Evidence: []checks.Evidence{{Key: "setting", Expected: ">= 14", Actual: "14", OK: st == checks.StatusPass, Path: "/etc/example.conf", Line: i + 1}},
		})
	}
	return h
}

// Set changes check i's status and evidence value.
func (h *Host) Set(i int, st checks.Status, actual string) {
	h.Results[i].Status = st
	h.Results[i].Evidence[0].Actual = actual
	h.Results[i].Evidence[0].OK = st == checks.StatusPass
}

// Report returns the host's next report (sequence counts up from 1).
func (h *Host) Report() *report.Report {
	h.seq++
	return h.ReportAt(h.seq)
}

// ReportAt returns a report with the given sequence without advancing.
func (h *Host) ReportAt(seq uint64) *report.Report {
	rs := append([]checks.Result(nil), h.Results...)
	now := time.Now().UTC()
	return &report.Report{
		Schema: report.Schema, ScanID: fmt.Sprintf("%s-%d", h.ID, seq), Sequence: seq,
		Host:     report.Identity{ID: h.ID, IDSource: "config", Hostname: h.ID},
		Facts:    report.Facts{OS: "Debian GNU/Linux 12 (bookworm)", Platform: "debian:12"},
		Baseline: report.BaselineRef{Name: "synthetic", Version: "1", SHA256: "0000"},
		Plugins:  []report.PluginRef{}, StartedAt: now, FinishedAt: now,
		Results: rs, Summary: report.Summarize(rs), Agent: "test",
		ScanIntervalSeconds: 3600,
	}
}
