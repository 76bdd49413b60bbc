package store

import (
	"errors"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
)

// ErrNotFound is returned for an unknown host, check or waiver.
var ErrNotFound = errors.New("not found")

// Outcome says what Apply did with one report.
type Outcome int

// Outcomes of Apply.
const (
	// Applied: the report became the host's latest state.
	Applied Outcome = iota + 1
	// Duplicate: a report with this scan id was already stored (redelivery).
	Duplicate
	// OutOfOrder: the host already has a report with an equal or higher
	// sequence; the scan is recorded but creates no drift and does not
	// change the latest state.
	OutOfOrder
)

// String names an outcome for logs and metrics.
func (o Outcome) String() string {
	switch o {
	case Applied:
		return "applied"
	case Duplicate:
		return "duplicate"
	case OutOfOrder:
		return "out_of_order"
	}
	return "unknown"
}

// Result is what Apply did with one report of a batch.
type Result struct {
	Outcome Outcome
	// Events are the drift events this report created, with ids assigned.
	Events []report.DriftEvent
}

// Rejection is a message the ingest refused, kept for inspection.
type Rejection struct {
	ID      int64     `json:"id"`
	Subject string    `json:"subject"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
	// Size is the original message size; Data holds at most the first
	// MaxRejectedBytes of it.
	Size int    `json:"size"`
	Data []byte `json:"data,omitempty"`
}

// MaxRejectedBytes bounds the copy of a rejected message that is kept.
const MaxRejectedBytes = 64 << 10

// HostFilter narrows Hosts.
type HostFilter struct {
	// Failing keeps hosts with at least one open deviation.
	Failing bool
	// Stale keeps stale hosts.
	Stale bool
	// Group keeps hosts of one group.
	Group string
}

// HostSummary is one row of the fleet view.
type HostSummary struct {
	ID              string    `json:"id"`
	Hostname        string    `json:"hostname,omitempty"`
	Group           string    `json:"group,omitempty"`
	OS              string    `json:"os,omitempty"`
	Platform        string    `json:"platform,omitempty"`
	AgentVersion    string    `json:"agent_version,omitempty"`
	FirstSeen       time.Time `json:"first_seen"`
	LastReportAt    time.Time `json:"last_report_at"`
	LastHeartbeatAt time.Time `json:"last_heartbeat_at,omitzero"`
	LastSequence    uint64    `json:"last_sequence"`
	// IntervalSeconds is the agent's scan interval (from its reports or
	// heartbeats; the server default when it never said).
	IntervalSeconds int64 `json:"interval_seconds"`
	// AgentError is why the agent's last scan failed, from its latest
	// heartbeat (empty when it succeeded); Spooled and SpoolDropped are
	// its unsent reports and those it had to drop for space.
	AgentError   string `json:"agent_error,omitempty"`
	Spooled      int    `json:"spooled"`
	SpoolDropped uint64 `json:"spool_dropped"`
	Stale        bool   `json:"stale"`
	// Summary counts the latest results by status.
	Summary report.Summary `json:"summary"`
	// Score is 100 × PASS / (PASS + open deviations): waived failures,
	// ERROR, NOT_APPLICABLE and SKIPPED do not count. Nil when the host has
	// no PASS and no open deviation.
	Score          *float64 `json:"score"`
	OpenDeviations int      `json:"open_deviations"`
	Waived         int      `json:"waived"`
}

// HostDetail is one host with its latest results.
type HostDetail struct {
	HostSummary
	Identity   report.Identity    `json:"identity"`
	Facts      report.Facts       `json:"facts"`
	Baseline   report.BaselineRef `json:"baseline"`
	Plugins    []report.PluginRef `json:"plugins"`
	LastScanID string             `json:"last_scan_id"`
	Results    []ResultRow        `json:"results"`
}

// ResultRow is the latest result of one check on one host.
type ResultRow struct {
	CheckID  string            `json:"check_id"`
	Title    string            `json:"title"`
	Status   checks.Status     `json:"status"`
	Severity checks.Severity   `json:"severity"`
	Message  string            `json:"message,omitempty"`
	Evidence []checks.Evidence `json:"evidence,omitempty"`
	// Since is when the check entered its current status.
	Since time.Time `json:"since"`
	// Deviation is true while the status is FAIL and no live waiver covers it.
	Deviation bool    `json:"deviation"`
	Waiver    *Waiver `json:"waiver,omitempty"`
}

// CheckSummary is one check across the fleet.
type CheckSummary struct {
	ID       string          `json:"id"`
	Title    string          `json:"title"`
	Severity checks.Severity `json:"severity"`
	Hosts    int             `json:"hosts"`
	Summary  report.Summary  `json:"summary"`
	// FailingHosts lists hosts with an open deviation on this check.
	FailingHosts []string `json:"failing_hosts"`
}

// DeviationFilter narrows Deviations.
type DeviationFilter struct {
	HostID, CheckID string
	// IncludeWaived also returns waived failures (with their waiver).
	IncludeWaived bool
}

// Deviation is a check currently FAIL on a host.
type Deviation struct {
	HostID    string            `json:"host_id"`
	CheckID   string            `json:"check_id"`
	Title     string            `json:"title"`
	Severity  checks.Severity   `json:"severity"`
	FirstSeen time.Time         `json:"first_seen"`
	LastSeen  time.Time         `json:"last_seen"`
	Message   string            `json:"message,omitempty"`
	Evidence  []checks.Evidence `json:"evidence,omitempty"`
	Waiver    *Waiver           `json:"waiver,omitempty"`
}

// DriftFilter narrows Drift. Zero fields do not filter.
type DriftFilter struct {
	HostID, CheckID string
	Kind            report.DriftKind
	Since           time.Time
	// AfterID returns events with a larger id (for paging and tailing).
	AfterID int64
	// Tail returns the oldest Limit events after AfterID (still newest
	// first), so that a client following the log from AfterID 0 skips
	// nothing. It is implied by AfterID > 0.
	Tail bool
	// BeforeID returns events with a smaller id (for paging back from the
	// oldest event of a previous page).
	BeforeID int64
	// Limit caps the number of events (newest first); 0 means 1000.
	Limit int
}

// Waiver accepts a deviation until it expires.
type Waiver struct {
	// HostID is a host id, or "*" for every host.
	HostID  string    `json:"host_id"`
	CheckID string    `json:"check_id"`
	Owner   string    `json:"owner"`
	Reason  string    `json:"reason"`
	Expires time.Time `json:"expires"`
	Created time.Time `json:"created"`
}

// Stats are fleet-wide counts for /metrics and /healthz.
type Stats struct {
	Hosts          int `json:"hosts"`
	StaleHosts     int `json:"stale_hosts"`
	OpenDeviations int `json:"open_deviations"`
	DriftEvents    int `json:"drift_events"`
	Rejected       int `json:"rejected"`
}
