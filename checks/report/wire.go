package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/plumbline/plumbline/checks"
)

// NATS subjects and messages shared by agent and server. Every subject is
// versioned ("plumbline.v1."); a host's id is one subject token, so it is
// restricted to characters NATS accepts in a token (see ValidHostID).
const (
	// SubjectPrefix starts every plumbline subject.
	SubjectPrefix = "plumbline.v1"
	// ReportSubjects is the JetStream stream filter for reports.
	ReportSubjects = SubjectPrefix + ".report.*"
	// DriftSubjects matches every published drift event.
	DriftSubjects = SubjectPrefix + ".drift.*"
	// HeartbeatSubjects matches every agent heartbeat.
	HeartbeatSubjects = SubjectPrefix + ".heartbeat.*"
	// FleetScanSubject asks every agent to scan now. It is outside the
	// per-host "cmd" namespace so that no host id can collide with it.
	FleetScanSubject = SubjectPrefix + ".fleet.cmd.scan"
)

// StreamName is the JetStream stream that holds reports until the server
// has stored them. Agents publish with an expected-stream header so that a
// report is never acknowledged by some other stream.
const StreamName = "PLUMBLINE_REPORTS"

// ReportSubject is where the agent of hostID publishes its reports.
func ReportSubject(hostID string) string { return SubjectPrefix + ".report." + hostID }

// DriftSubject is where the server publishes hostID's new drift events.
func DriftSubject(hostID string) string { return SubjectPrefix + ".drift." + hostID }

// HeartbeatSubject is where the agent of hostID publishes its heartbeats.
func HeartbeatSubject(hostID string) string { return SubjectPrefix + ".heartbeat." + hostID }

// ScanSubject asks one host to scan now (request/reply).
func ScanSubject(hostID string) string { return SubjectPrefix + ".cmd." + hostID + ".scan" }

// GroupScanSubject asks every agent of a group to scan now.
func GroupScanSubject(group string) string { return SubjectPrefix + ".group." + group + ".cmd.scan" }

// MsgID is the JetStream dedupe id ("Nats-Msg-Id") of a host's report with
// the given sequence, so that a re-published report is stored once.
func MsgID(hostID string, seq uint64) string { return fmt.Sprintf("%s:%d", hostID, seq) }

var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// ValidHostID reports whether id can be a host id: 1–128 of [A-Za-z0-9_-],
// so that it is exactly one NATS subject token (machine ids and ECS
// instance ids both are).
func ValidHostID(id string) error {
	if !tokenRE.MatchString(id) {
		return fmt.Errorf("host id %q: want 1-128 characters of A-Z a-z 0-9 _ -", id)
	}
	return nil
}

// ValidGroup reports whether g can name an agent group (same rules as a
// host id).
func ValidGroup(g string) error {
	if !tokenRE.MatchString(g) {
		return fmt.Errorf("group %q: want 1-128 characters of A-Z a-z 0-9 _ -", g)
	}
	return nil
}

// HeartbeatSchema versions Heartbeat.
const HeartbeatSchema = "plumbline.heartbeat/v1"

// Heartbeat tells the server an agent is alive between reports, so that a
// silent host can be told from a healthy one.
type Heartbeat struct {
	Schema       string    `json:"schema"`
	HostID       string    `json:"host_id"`
	At           time.Time `json:"at"`
	AgentVersion string    `json:"agent_version"`
	// ScanIntervalSeconds is the agent's configured scan interval; the
	// server derives the host's staleness deadline from it.
	ScanIntervalSeconds int64 `json:"scan_interval_seconds"`
	// LastSequence is the sequence of the last report the agent produced.
	LastSequence uint64 `json:"last_sequence"`
	// Spooled counts reports waiting in the agent's on-disk spool.
	Spooled int `json:"spooled"`
	// SpoolDropped counts reports the agent dropped because its spool was
	// full, since it started.
	SpoolDropped uint64 `json:"spool_dropped"`
	// LastScanError is why the last scan failed, empty when it succeeded.
	LastScanError string `json:"last_scan_error,omitempty"`
}

// Validate reports the first problem in a heartbeat.
func (h *Heartbeat) Validate() error {
	if h.Schema != HeartbeatSchema {
		return fmt.Errorf("heartbeat schema %q not supported (want %q)", h.Schema, HeartbeatSchema)
	}
	if err := ValidHostID(h.HostID); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	if h.At.IsZero() {
		return errors.New("heartbeat: at is missing")
	}
	return nil
}

// ScanRequest is the body of a scan command (it may be empty: {}).
type ScanRequest struct {
	// Reason is shown in the agent's log ("operator alice via API").
	Reason string `json:"reason,omitempty"`
}

// ScanReply is an agent's answer to a scan command. The scan itself runs
// after the reply; its report arrives through the report stream.
type ScanReply struct {
	HostID   string `json:"host_id"`
	Accepted bool   `json:"accepted"`
	// Queued is true when a scan was already running and the request was
	// folded into the next one.
	Queued bool   `json:"queued,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// DriftSchema versions DriftEvent.
const DriftSchema = "plumbline.drift/v1"

// DriftKind names a drift event kind (see DESIGN.md, "Drift semantics").
type DriftKind string

// Drift event kinds.
const (
	DriftRegressed DriftKind = "regressed" // PASS→FAIL (any non-FAIL, non-ERROR → FAIL)
	DriftResolved  DriftKind = "resolved"  // FAIL→PASS only
	DriftChanged   DriftKind = "changed"   // same status, different evidence; or FAIL→SKIPPED/N/A, or among PASS, SKIPPED, N/A
	DriftErrored   DriftKind = "errored"   // any → ERROR
	DriftRecovered DriftKind = "recovered" // ERROR → any
	DriftAdded     DriftKind = "added"     // check entered the baseline
	DriftRemoved   DriftKind = "removed"   // check left the baseline
	DriftNewHost   DriftKind = "new_host"  // first report of a host
	DriftStale     DriftKind = "stale"     // no report within 2× interval + grace
)

// DriftKinds lists every kind, in documentation order.
var DriftKinds = []DriftKind{DriftRegressed, DriftResolved, DriftChanged, DriftErrored,
	DriftRecovered, DriftAdded, DriftRemoved, DriftNewHost, DriftStale}

// ParseDriftKind validates a kind name.
func ParseDriftKind(s string) (DriftKind, error) {
	for _, k := range DriftKinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown drift kind %q (want one of %v)", s, DriftKinds)
}

// DriftEvent is one flagged change, as stored by the server, served by its
// API and published on DriftSubject(HostID).
type DriftEvent struct {
	Schema string    `json:"schema"`
	ID     int64     `json:"id"`
	HostID string    `json:"host_id"`
	Kind   DriftKind `json:"kind"`
	// CheckID is empty for host-level kinds (new_host, stale).
	CheckID  string          `json:"check_id,omitempty"`
	Severity checks.Severity `json:"severity,omitempty"`
	// From and To are the statuses before and after (empty where the kind
	// has no before or after: added has no From, removed no To).
	From checks.Status `json:"from,omitempty"`
	To   checks.Status `json:"to,omitempty"`
	// FromEvidence and ToEvidence show what changed.
	FromEvidence []checks.Evidence `json:"from_evidence,omitempty"`
	ToEvidence   []checks.Evidence `json:"to_evidence,omitempty"`
	Message      string            `json:"message,omitempty"`
	// ScanID and Sequence name the report that revealed the change (empty
	// for stale).
	ScanID   string    `json:"scan_id,omitempty"`
	Sequence uint64    `json:"sequence,omitempty"`
	At       time.Time `json:"at"`
}

// MarshalJSON keeps an empty Status or Severity out of the JSON rather
// than failing on it.
func (e DriftEvent) MarshalJSON() ([]byte, error) {
	type plain DriftEvent
	type out struct {
		plain
		From     string `json:"from,omitempty"`
		To       string `json:"to,omitempty"`
		Severity string `json:"severity,omitempty"`
	}
	o := out{plain: plain(e)}
	if e.From != 0 {
		o.From = e.From.String()
	}
	if e.To != 0 {
		o.To = e.To.String()
	}
	if e.Severity != 0 {
		o.Severity = e.Severity.String()
	}
	return json.Marshal(o)
}
