// Package report is plumbline's wire schema: the report an agent produces
// for one scan, as published to the server and as printed by
// "plumbline-agent scan --format json". Agent and server both import it;
// neither redefines it.
//
// The schema is versioned by the Schema field. Adding optional fields keeps
// the version; removing or changing the meaning of a field bumps it.
package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/plumbline/plumbline/checks"
)

// Schema is the report schema this package writes and reads.
const Schema = "plumbline.report/v1"

// Report is the outcome of one scan of one host.
type Report struct {
	Schema string `json:"schema"`
	// ScanID is unique per scan; Sequence increases per host so that the
	// server can order reports and drop duplicates.
	ScanID     string          `json:"scan_id"`
	Sequence   uint64          `json:"sequence"`
	Host       Identity        `json:"host"`
	Facts      Facts           `json:"facts"`
	Baseline   BaselineRef     `json:"baseline"`
	Plugins    []PluginRef     `json:"plugins"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt time.Time       `json:"finished_at"`
	Summary    Summary         `json:"summary"`
	Results    []checks.Result `json:"results"`
	// Agent is the plumbline-agent version that produced the report.
	Agent string `json:"agent_version"`
	// ScanIntervalSeconds is the daemon's scan interval (absent for a
	// one-off scan); the server flags the host stale when no report comes
	// within twice this plus a grace period.
	ScanIntervalSeconds int64 `json:"scan_interval_seconds,omitempty"`
	// Group is the agent's configured group, if any.
	Group string `json:"group,omitempty"`
}

// Identity says which host a report is about.
type Identity struct {
	// ID is the stable host id: the ECS instance id when the metadata
	// service answers, else /etc/machine-id, unless configured.
	ID string `json:"id"`
	// IDSource is "ecs-metadata", "machine-id" or "config".
	IDSource   string `json:"id_source"`
	Hostname   string `json:"hostname,omitempty"`
	InstanceID string `json:"instance_id,omitempty"`
	Region     string `json:"region,omitempty"`
	Zone       string `json:"zone,omitempty"`
	ImageID    string `json:"image_id,omitempty"`
	// Root is the scanned root when it is not "/" (an image or chroot).
	Root string `json:"root,omitempty"`
}

// Facts describe the host at scan time.
type Facts struct {
	OS string `json:"os"`
	// Platform is os-release "ID:VERSION_ID" ("rocky:9.4"); IDLike is
	// ID_LIKE, so that references for "rhel:9" apply to Rocky 9.4.
	Platform       string   `json:"platform"`
	IDLike         []string `json:"id_like,omitempty"`
	Kernel         string   `json:"kernel,omitempty"`
	Arch           string   `json:"arch,omitempty"`
	Virtualization string   `json:"virtualization,omitempty"`
	CPUs           int      `json:"cpus,omitempty"`
	MemoryBytes    uint64   `json:"memory_bytes,omitempty"`
	UptimeSeconds  uint64   `json:"uptime_seconds,omitempty"`
}

// BaselineRef pins the exact baseline that judged the host.
type BaselineRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	Source  string `json:"source"`
}

// PluginRef pins a plugin that contributed results.
type PluginRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	// Error says what went wrong with the plugin in this scan (refused,
	// crashed, timed out, broke the protocol); its checks are ERROR.
	Error string `json:"error,omitempty"`
}

// Summary counts results by status.
type Summary struct {
	Pass          int `json:"pass"`
	Fail          int `json:"fail"`
	Error         int `json:"error"`
	NotApplicable int `json:"not_applicable"`
	Skipped       int `json:"skipped"`
}

// Summarize counts results by status.
func Summarize(rs []checks.Result) Summary {
	var s Summary
	for _, r := range rs {
		switch r.Status {
		case checks.StatusPass:
			s.Pass++
		case checks.StatusFail:
			s.Fail++
		case checks.StatusError:
			s.Error++
		case checks.StatusNotApplicable:
			s.NotApplicable++
		case checks.StatusSkipped:
			s.Skipped++
		}
	}
	return s
}

// MaxSize bounds an encoded report; larger ones are rejected by the server.
const MaxSize = 4 << 20

// Decode parses and validates an encoded report.
func Decode(data []byte) (*Report, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("report is %d bytes, above the %d-byte limit", len(data), MaxSize)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode report: %w", err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Validate reports the first structural problem in r.
func (r *Report) Validate() error {
	switch {
	case r.Schema != Schema:
		return fmt.Errorf("report schema %q not supported (want %q)", r.Schema, Schema)
	case r.Host.ID == "":
		return errors.New("report: host.id is empty")
	case ValidHostID(r.Host.ID) != nil:
		return fmt.Errorf("report: host.id: %w", ValidHostID(r.Host.ID))
	case r.ScanID == "":
		return errors.New("report: scan_id is empty")
	case r.Baseline.Name == "" || r.Baseline.SHA256 == "":
		return errors.New("report: baseline name and sha256 are required")
	}
	seen := make(map[string]bool, len(r.Results))
	for i, res := range r.Results {
		if res.ID == "" {
			return fmt.Errorf("report: results[%d]: id is empty", i)
		}
		if seen[res.ID] {
			return fmt.Errorf("report: results[%d]: check %s appears twice", i, res.ID)
		}
		seen[res.ID] = true
		if _, err := checks.ParseStatus(res.Status.String()); err != nil {
			return fmt.Errorf("report: results[%d] (%s): %w", i, res.ID, err)
		}
	}
	if got := Summarize(r.Results); got != r.Summary {
		return fmt.Errorf("report: summary %+v does not match results %+v", r.Summary, got)
	}
	return nil
}

// ExitCode maps a report to plumbline-agent scan's exit status, as oscap
// does: 2 when any check FAILs, 1 when none fails but some could not be
// decided (ERROR), 0 otherwise.
func (r *Report) ExitCode() int {
	switch {
	case r.Summary.Fail > 0:
		return 2
	case r.Summary.Error > 0:
		return 1
	default:
		return 0
	}
}
