// Package drift decides which changes between two consecutive reports of a
// host are drift events (DESIGN.md, "Drift semantics"). It is pure: the
// store hands it the host's previous state and the new report, and writes
// the events it returns.
package drift

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
)

// State is what the server remembers of one check on one host between
// reports: enough to tell whether the next result differs, and to show the
// "before" side of a drift event.
type State struct {
	Status   checks.Status
	Severity checks.Severity
	Title    string
	Message  string
	Evidence []checks.Evidence
	// Fingerprint is Fingerprint of the result the state was taken from.
	// When empty it is computed from Evidence.
	Fingerprint string
}

// NewState is the state a result leaves behind.
func NewState(r checks.Result) State {
	return State{
		Status:      r.Status,
		Severity:    r.Severity,
		Title:       r.Title,
		Message:     r.Message,
		Evidence:    r.Evidence,
		Fingerprint: Fingerprint(r),
	}
}

// fingerprintBytes is the length of a fingerprint before hex encoding: 64
// bits is ample to tell one host's consecutive results of one check apart.
const fingerprintBytes = 8

// Fingerprint is a short hex hash of a result's evidence: key, expected,
// actual, OK and path of every item, in order. Line is left out on
// purpose, so that a comment added above a setting (which moves it down a
// line) is not drift, while the value itself changing is. Status, message
// and title are left out too: status has its own event kinds, and messages
// carry no fact the evidence does not.
func Fingerprint(r checks.Result) string {
	return fingerprintEvidence(r.Evidence)
}

func fingerprintEvidence(ev []checks.Evidence) string {
	// One buffer and one Sum256: hashing field by field through hash.Hash
	// costs more than the hashing itself for values this short.
	n := binary.MaxVarintLen64
	for _, e := range ev {
		n += len(e.Key) + len(e.Expected) + len(e.Actual) + len(e.Path) + 4*binary.MaxVarintLen64 + 1
	}
	b := make([]byte, 0, n)
	b = binary.AppendUvarint(b, uint64(len(ev)))
	for _, e := range ev {
		b = AppendEvidence(b, e)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:fingerprintBytes])
}

// AppendEvidence appends an unambiguous encoding of e without its line
// number: what drift compares. Fields are length-prefixed, so that no two
// different evidence lists encode the same ("a"+"bc" vs "ab"+"c").
func AppendEvidence(b []byte, e checks.Evidence) []byte {
	b = appendString(b, e.Key)
	b = appendString(b, e.Expected)
	b = appendString(b, e.Actual)
	if e.OK {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return appendString(b, e.Path)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Kind is the drift kind of a status change of one check. ERROR is its
// own axis: entering it is errored and leaving it is recovered, whatever
// the other side, so an undecidable check never reads as a regression or a
// fix. Any move into FAIL is regressed, because a new deviation must not
// hide from someone watching regressions; only FAIL→PASS is resolved,
// because FAIL→SKIPPED or FAIL→NOT_APPLICABLE closes the deviation without
// fixing anything (a skip added to the baseline, a package removed) and an
// auditor reading "resolved" would believe otherwise: those, and moves
// among PASS, SKIPPED and NOT_APPLICABLE, are changed, with both statuses
// in the event. ok is false when the status did not change; the caller
// then compares fingerprints (a different fingerprint is DriftChanged).
func Kind(from, to checks.Status) (report.DriftKind, bool) {
	switch {
	case from == to:
		return "", false
	case to == checks.StatusError:
		return report.DriftErrored, true
	case from == checks.StatusError:
		return report.DriftRecovered, true
	case to == checks.StatusFail:
		return report.DriftRegressed, true
	case from == checks.StatusFail && to == checks.StatusPass:
		return report.DriftResolved, true
	default:
		return report.DriftChanged, true
	}
}

// Compare returns the drift events between a host's previous state (prev,
// by check id) and its next report r, stamped with at. first says r is the
// host's first report: that is one new_host event and nothing per check,
// since there is no "before" to drift from. Events are sorted by check id
// so that the same input always gives the same output.
//
// Compare does not decide whether r should be compared at all: duplicate
// and out-of-order reports must not reach it (the store filters them).
func Compare(hostID string, prev map[string]State, first bool, r *report.Report, at time.Time) []report.DriftEvent {
	base := report.DriftEvent{
		Schema:   report.DriftSchema,
		HostID:   hostID,
		ScanID:   r.ScanID,
		Sequence: r.Sequence,
		At:       at,
	}
	if first {
		e := base
		e.Kind = report.DriftNewHost
		s := r.Summary
		e.Message = fmt.Sprintf("first report: %d checks (%d pass, %d fail, %d error, %d not applicable, %d skipped)",
			len(r.Results), s.Pass, s.Fail, s.Error, s.NotApplicable, s.Skipped)
		return []report.DriftEvent{e}
	}

	var events []report.DriftEvent
	seen := make(map[string]bool, len(r.Results))
	for _, res := range r.Results {
		seen[res.ID] = true
		old, had := prev[res.ID]
		e := base
		e.CheckID = res.ID
		e.Severity = res.Severity
		e.Message = res.Message
		if !had {
			e.Kind = report.DriftAdded
			e.To = res.Status
			e.ToEvidence = res.Evidence
			events = append(events, e)
			continue
		}
		kind, ok := Kind(old.Status, res.Status)
		if !ok {
			oldFP := old.Fingerprint
			if oldFP == "" {
				oldFP = fingerprintEvidence(old.Evidence)
			}
			if oldFP == Fingerprint(res) {
				continue
			}
			kind = report.DriftChanged
		}
		e.Kind = kind
		e.From, e.To = old.Status, res.Status
		e.FromEvidence, e.ToEvidence = old.Evidence, res.Evidence
		events = append(events, e)
	}
	for id, old := range prev {
		if seen[id] {
			continue
		}
		e := base
		e.Kind = report.DriftRemoved
		e.CheckID = id
		e.Severity = old.Severity
		e.From = old.Status
		e.FromEvidence = old.Evidence
		events = append(events, e)
	}
	slices.SortFunc(events, func(a, b report.DriftEvent) int { return cmp.Compare(a.CheckID, b.CheckID) })
	return events
}
