package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
)

// benchBatch is how many reports ingest applies per transaction (its
// default fetch batch).
const benchBatch = 256

// benchResults is a realistic report body: 150 checks, a fifth failing,
// one to three evidence items each.
func benchResults() []checks.Result {
	rs := make([]checks.Result, 150)
	for i := range rs {
		st := checks.StatusPass
		if i%5 == 0 {
			st = checks.StatusFail
		}
		r := checks.Result{
			ID:       fmt.Sprintf("cis.5.%d.%d", i/10, i%10),
			Title:    fmt.Sprintf("Ensure password expiration is %d days or less (control %d)", 90+i, i),
			Status:   st,
			Severity: checks.Severity(1 + i%5),
			Message:  fmt.Sprintf("PASS_MAX_DAYS is %d in /etc/login.defs", 60+i),
			Duration: checks.Duration(time.Duration(i) * time.Microsecond),
		}
		for j := range 1 + i%3 {
			r.Evidence = append(r.Evidence, checks.Evidence{
				Key: fmt.Sprintf("PASS_MAX_DAYS_%d", j), Expected: "<= 90", Actual: fmt.Sprint(60 + i + j),
				OK: st == checks.StatusPass, Path: "/etc/login.defs", Line: 100 + j,
			})
		}
		rs[i] = r
	}
	return rs
}

func benchReport(host string, seq uint64, rs []checks.Result) *report.Report {
	r := mkReport(host, seq, rs...)
	r.ScanIntervalSeconds = 3600
	return r
}

// applyAll applies reports in ingest-sized batches.
func applyAll(b *testing.B, s *Store, rs []*report.Report, at time.Time) {
	for len(rs) > 0 {
		n := min(benchBatch, len(rs))
		if _, err := s.Apply(context.Background(), rs[:n], at); err != nil {
			b.Fatal(err)
		}
		rs = rs[n:]
	}
}

// BenchmarkApply measures ingest throughput: one op is one report.
//
// steady: 1000 hosts already known, each report a host's next scan,
// 1 in 100 with one check changing status (the rest identical apart from
// durations and facts). first-load: every report is a new host's first.
func BenchmarkApply(b *testing.B) {
	b.Run("steady", func(b *testing.B) {
		const hosts = 1000
		s := openTest(b, Options{})
		base := benchResults()
		current := make([][]checks.Result, hosts)
		seq := make([]uint64, hosts)
		var load []*report.Report
		for h := range hosts {
			current[h], seq[h] = base, 1
			load = append(load, benchReport(fmt.Sprintf("host-%04d", h), 1, base))
		}
		applyAll(b, s, load, t0)
		// Reports are built before the clock starts: decoding is ingest's
		// cost, not the store's.
		reports := make([]*report.Report, b.N)
		for i := range reports {
			h := i % hosts
			seq[h]++
			if i%100 == 50 {
				next := append([]checks.Result(nil), current[h]...)
				k := (i / 100) % len(next)
				if next[k].Status == checks.StatusPass {
					next[k].Status = checks.StatusFail
				} else {
					next[k].Status = checks.StatusPass
				}
				current[h] = next
			}
			reports[i] = benchReport(fmt.Sprintf("host-%04d", h), seq[h], current[h])
		}
		b.ReportAllocs()
		b.ResetTimer()
		applyAll(b, s, reports, t0.Add(time.Hour))
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
	})
	b.Run("first-load", func(b *testing.B) {
		s := openTest(b, Options{})
		base := benchResults()
		reports := make([]*report.Report, b.N)
		for i := range reports {
			reports[i] = benchReport(fmt.Sprintf("host-%06d", i), 1, base)
		}
		b.ReportAllocs()
		b.ResetTimer()
		applyAll(b, s, reports, t0)
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
	})
}

// BenchmarkQueries measures the API's reads on a 1000-host fleet with 150
// results each.
func BenchmarkQueries(b *testing.B) {
	const hosts = 1000
	s := openTest(b, Options{})
	base := benchResults()
	var load []*report.Report
	for h := range hosts {
		load = append(load, benchReport(fmt.Sprintf("host-%04d", h), 1, base))
	}
	applyAll(b, s, load, t0)
	ctx := context.Background()
	for _, q := range []struct {
		name string
		run  func() error
	}{
		{"Hosts", func() error { _, err := s.Hosts(ctx, HostFilter{}); return err }},
		{"Host", func() error { _, err := s.Host(ctx, "host-0500"); return err }},
		{"Checks", func() error { _, err := s.Checks(ctx); return err }},
		{"Deviations/check", func() error { _, err := s.Deviations(ctx, DeviationFilter{CheckID: "cis.5.0.0"}); return err }},
		{"Drift/latest100", func() error { _, err := s.Drift(ctx, DriftFilter{Limit: 100}); return err }},
		{"Stats", func() error { _, err := s.Stats(ctx, t0); return err }},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if err := q.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
