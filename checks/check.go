// Package checks is the vocabulary of scanning: what a check is, what it
// returns, the Host it reads through, the baseline that selects checks and sets
// their parameters, and the evaluator that runs them.
package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Check is one configuration control. Run must read the host only through h,
// honour ctx, and return ERROR (never FAIL or PASS) when it cannot decide.
type Check interface {
	Meta() Meta
	Run(ctx context.Context, h Host, p Params) Result
}

// ParamValidator is implemented by checks whose parameters need more
// validation than their declared kinds give (for example a list of objects).
// The baseline loader calls it so that a bad value is rejected at load time
// with the file and line, not at scan time.
type ParamValidator interface {
	ValidateParams(p Params) error
}

// Unavailable is implemented by a stand-in for a check whose provider (a
// plugin that failed to start) is missing: a baseline naming it still
// loads, with its parameters unchecked, and the check reports ERROR with
// the reason instead of the scan refusing to run.
type Unavailable interface {
	Unavailable() error
}

// Status is the outcome of one check.
type Status int

// The statuses. ERROR means the check could not decide; it never counts as FAIL.
const (
	StatusPass Status = iota + 1
	StatusFail
	StatusError
	StatusNotApplicable
	StatusSkipped
)

var statusNames = map[Status]string{
	StatusPass:          "PASS",
	StatusFail:          "FAIL",
	StatusError:         "ERROR",
	StatusNotApplicable: "NOT_APPLICABLE",
	StatusSkipped:       "SKIPPED",
}

// String returns the wire name, e.g. "NOT_APPLICABLE".
func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// ParseStatus is the inverse of String.
func ParseStatus(name string) (Status, error) {
	for s, n := range statusNames {
		if n == name {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown status %q (want PASS, FAIL, ERROR, NOT_APPLICABLE or SKIPPED)", name)
}

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) {
	if _, ok := statusNames[s]; !ok {
		return nil, fmt.Errorf("invalid status %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Severity ranks how much a failing check matters.
type Severity int

// The severities, lowest first.
const (
	SeverityInfo Severity = iota + 1
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = map[Severity]string{
	SeverityInfo:     "info",
	SeverityLow:      "low",
	SeverityMedium:   "medium",
	SeverityHigh:     "high",
	SeverityCritical: "critical",
}

// String returns the wire name, e.g. "high".
func (s Severity) String() string {
	if n, ok := severityNames[s]; ok {
		return n
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// ParseSeverity is the inverse of String.
func ParseSeverity(name string) (Severity, error) {
	for s, n := range severityNames {
		if n == strings.ToLower(name) {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want info, low, medium, high or critical)", name)
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) {
	if _, ok := severityNames[s]; !ok {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Evidence is one observed fact behind a result: what was expected, what was
// found, and where it was found.
type Evidence struct {
	Key      string `json:"key"`
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual"`
	// OK reports whether this piece of evidence met the expectation; a FAIL
	// result has at least one evidence item with OK false.
	OK bool `json:"ok"`
	// Path is the host path (inside the scanned root) the value came from.
	Path string `json:"path,omitempty"`
	// Line is the 1-based line in Path, or 0 when not line-oriented.
	Line int `json:"line,omitempty"`
}

// Source renders Path and Line as "path:line" (or just path).
func (e Evidence) Source() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d", e.Path, e.Line)
	}
	return e.Path
}

// Result is the outcome of running one check on one host.
type Result struct {
	ID       string     `json:"id"`
	Title    string     `json:"title"`
	Status   Status     `json:"status"`
	Severity Severity   `json:"severity"`
	Message  string     `json:"message"`
	Evidence []Evidence `json:"evidence,omitempty"`
	Duration Duration   `json:"duration_ms"`
}

// Duration marshals as fractional milliseconds, which is what people compare.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(float64(time.Duration(d).Microseconds()) / 1000)
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return fmt.Errorf("duration_ms: %w", err)
	}
	*d = Duration(time.Duration(ms * float64(time.Millisecond)))
	return nil
}

// Pass builds a PASS result.
func Pass(msg string, ev ...Evidence) Result {
	return Result{Status: StatusPass, Message: msg, Evidence: ev}
}

// Fail builds a FAIL result.
func Fail(msg string, ev ...Evidence) Result {
	return Result{Status: StatusFail, Message: msg, Evidence: ev}
}

// Errorf builds an ERROR result: the check could not decide, and says why.
func Errorf(format string, args ...any) Result {
	return Result{Status: StatusError, Message: fmt.Sprintf(format, args...)}
}

// NotApplicable builds a NOT_APPLICABLE result with the reason.
func NotApplicable(reason string, ev ...Evidence) Result {
	return Result{Status: StatusNotApplicable, Message: reason, Evidence: ev}
}

// Judge returns PASS when every evidence item is OK and FAIL otherwise, with
// the matching message. It is the common ending of a check that compares.
func Judge(passMsg, failMsg string, ev ...Evidence) Result {
	for _, e := range ev {
		if !e.OK {
			return Fail(failMsg, ev...)
		}
	}
	return Pass(passMsg, ev...)
}

// SyntaxError is a problem at a line of a file a check reads; parsers return
// it so that every message names the file and line.
type SyntaxError struct {
	Path string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg) }
