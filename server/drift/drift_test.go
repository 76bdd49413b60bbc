package drift

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
)

const (
	pass = checks.StatusPass
	fail = checks.StatusFail
	errS = checks.StatusError
	na   = checks.StatusNotApplicable
	skip = checks.StatusSkipped
)

func TestKind(t *testing.T) {
	t.Parallel()
	type want struct {
		kind report.DriftKind
		ok   bool
	}
	none := want{"", false}
	// Every pair of statuses, so that a new branch in Kind cannot silently
	// change a transition nobody thought of.
	tests := []struct {
		from, to checks.Status
		want     want
	}{
		{pass, pass, none},
		{pass, fail, want{report.DriftRegressed, true}},
		{pass, errS, want{report.DriftErrored, true}},
		{pass, na, want{report.DriftChanged, true}},
		{pass, skip, want{report.DriftChanged, true}},

		{fail, pass, want{report.DriftResolved, true}},
		{fail, fail, none},
		{fail, errS, want{report.DriftErrored, true}},
		{fail, na, want{report.DriftChanged, true}},
		{fail, skip, want{report.DriftChanged, true}},

		{errS, pass, want{report.DriftRecovered, true}},
		{errS, fail, want{report.DriftRecovered, true}},
		{errS, errS, none},
		{errS, na, want{report.DriftRecovered, true}},
		{errS, skip, want{report.DriftRecovered, true}},

		{na, pass, want{report.DriftChanged, true}},
		{na, fail, want{report.DriftRegressed, true}},
		{na, errS, want{report.DriftErrored, true}},
		{na, na, none},
		{na, skip, want{report.DriftChanged, true}},

		{skip, pass, want{report.DriftChanged, true}},
		{skip, fail, want{report.DriftRegressed, true}},
		{skip, errS, want{report.DriftErrored, true}},
		{skip, na, want{report.DriftChanged, true}},
		{skip, skip, none},
	}
	if len(tests) != 25 {
		t.Fatalf("table has %d rows, want all 25 status pairs", len(tests))
	}
	for _, tt := range tests {
		kind, ok := Kind(tt.from, tt.to)
		if got := (want{kind, ok}); got != tt.want {
			t.Errorf("Kind(%v, %v) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

func ev(key, expected, actual string, ok bool, path string, line int) checks.Evidence {
	return checks.Evidence{Key: key, Expected: expected, Actual: actual, OK: ok, Path: path, Line: line}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	base := []checks.Evidence{
		ev("PASS_MAX_DAYS", "<= 90", "90", true, "/etc/login.defs", 160),
		ev("PASS_MIN_DAYS", ">= 1", "1", true, "/etc/login.defs", 161),
	}
	with := func(f func(e []checks.Evidence) []checks.Evidence) checks.Result {
		c := append([]checks.Evidence(nil), base...)
		return checks.Result{ID: "c", Status: pass, Evidence: f(c)}
	}
	ref := Fingerprint(with(func(e []checks.Evidence) []checks.Evidence { return e }))
	if len(ref) != 2*fingerprintBytes {
		t.Fatalf("fingerprint %q: want %d hex digits", ref, 2*fingerprintBytes)
	}
	tests := []struct {
		name string
		r    checks.Result
		same bool
	}{
		{"identical", with(func(e []checks.Evidence) []checks.Evidence { return e }), true},
		{"line moved", with(func(e []checks.Evidence) []checks.Evidence { e[0].Line = 170; e[1].Line = 0; return e }), true},
		{"status, message, title and duration ignored", checks.Result{ID: "other", Title: "t", Status: fail, Message: "m",
			Duration: checks.Duration(time.Second), Evidence: base}, true},
		{"actual", with(func(e []checks.Evidence) []checks.Evidence { e[0].Actual = "60"; return e }), false},
		{"expected", with(func(e []checks.Evidence) []checks.Evidence { e[0].Expected = "<= 60"; return e }), false},
		{"key", with(func(e []checks.Evidence) []checks.Evidence { e[0].Key = "PASS_MAX"; return e }), false},
		{"ok", with(func(e []checks.Evidence) []checks.Evidence { e[1].OK = false; return e }), false},
		{"path", with(func(e []checks.Evidence) []checks.Evidence { e[0].Path = "/etc/login.defs.d/x"; return e }), false},
		{"order", with(func(e []checks.Evidence) []checks.Evidence { e[0], e[1] = e[1], e[0]; return e }), false},
		{"one dropped", with(func(e []checks.Evidence) []checks.Evidence { return e[:1] }), false},
		{"none", with(func([]checks.Evidence) []checks.Evidence { return nil }), false},
		{"field boundary", with(func(e []checks.Evidence) []checks.Evidence {
			// Same concatenated bytes, different fields.
			e[0].Expected, e[0].Actual = "<= 9", "090"
			return e
		}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Fingerprint(tt.r)
			if (got == ref) != tt.same {
				t.Errorf("Fingerprint = %s, reference %s: same = %v, want %v", got, ref, got == ref, tt.same)
			}
			if again := Fingerprint(tt.r); again != got {
				t.Errorf("Fingerprint not deterministic: %s then %s", got, again)
			}
		})
	}
	if a, b := Fingerprint(checks.Result{}), Fingerprint(checks.Result{Evidence: []checks.Evidence{}}); a != b {
		t.Errorf("nil and empty evidence differ: %s vs %s", a, b)
	}
}

func res(id string, st checks.Status, sev checks.Severity, msg string, e ...checks.Evidence) checks.Result {
	return checks.Result{ID: id, Title: "title " + id, Status: st, Severity: sev, Message: msg, Evidence: e}
}

func rep(seq uint64, rs ...checks.Result) *report.Report {
	return &report.Report{
		Schema: report.Schema, ScanID: fmt.Sprintf("scan-%d", seq), Sequence: seq,
		Host:     report.Identity{ID: "h1"},
		Baseline: report.BaselineRef{Name: "debian-12", SHA256: "abc"},
		Summary:  report.Summarize(rs), Results: rs,
	}
}

func states(rs ...checks.Result) map[string]State {
	m := make(map[string]State, len(rs))
	for _, r := range rs {
		m[r.ID] = NewState(r)
	}
	return m
}

func TestCompare(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	med, high := checks.SeverityMedium, checks.SeverityHigh
	maxDays := func(v string, ok bool, line int) checks.Evidence {
		return ev("PASS_MAX_DAYS", "<= 90", v, ok, "/etc/login.defs", line)
	}
	// event fills the fields every per-check event of report 2 carries.
	event := func(kind report.DriftKind, check string, sev checks.Severity, from, to checks.Status,
		fromEv, toEv []checks.Evidence, msg string) report.DriftEvent {
		return report.DriftEvent{Schema: report.DriftSchema, HostID: "h1", Kind: kind, CheckID: check,
			Severity: sev, From: from, To: to, FromEvidence: fromEv, ToEvidence: toEv, Message: msg,
			ScanID: "scan-2", Sequence: 2, At: at}
	}
	evs := func(e ...checks.Evidence) []checks.Evidence { return e }

	tests := []struct {
		name  string
		prev  []checks.Result
		first bool
		next  []checks.Result
		want  []report.DriftEvent
	}{
		{
			name:  "first report is one new_host event",
			first: true,
			next:  []checks.Result{res("a", pass, med, "ok"), res("b", fail, high, "bad"), res("c", errS, med, "?")},
			want: []report.DriftEvent{{Schema: report.DriftSchema, HostID: "h1", Kind: report.DriftNewHost,
				Message: "first report: 3 checks (1 pass, 1 fail, 1 error, 0 not applicable, 0 skipped)",
				ScanID:  "scan-2", Sequence: 2, At: at}},
		},
		{
			name: "nothing changed",
			prev: []checks.Result{res("a", pass, med, "ok", maxDays("90", true, 3)), res("b", fail, high, "bad")},
			next: []checks.Result{res("a", pass, med, "ok", maxDays("90", true, 3)), res("b", fail, high, "bad")},
		},
		{
			name: "line-only change is not drift",
			prev: []checks.Result{res("a", pass, med, "ok", maxDays("90", true, 3))},
			next: []checks.Result{res("a", pass, med, "ok", maxDays("90", true, 4))},
		},
		{
			name: "message, title or severity alone is not drift",
			prev: []checks.Result{res("a", pass, med, "ok", maxDays("90", true, 3))},
			next: []checks.Result{{ID: "a", Title: "new title", Status: pass, Severity: high, Message: "fine",
				Evidence: evs(maxDays("90", true, 3))}},
		},
		{
			name: "evidence-only change: PASS_MAX_DAYS 90 to 60",
			prev: []checks.Result{res("a", pass, med, "ok", maxDays("90", true, 3))},
			next: []checks.Result{res("a", pass, med, "ok", maxDays("60", true, 3))},
			want: []report.DriftEvent{event(report.DriftChanged, "a", med, pass, pass,
				evs(maxDays("90", true, 3)), evs(maxDays("60", true, 3)), "ok")},
		},
		{
			name: "FAIL stays FAIL with other evidence",
			prev: []checks.Result{res("a", fail, high, "bad", maxDays("120", false, 3))},
			next: []checks.Result{res("a", fail, high, "worse", maxDays("99999", false, 3))},
			want: []report.DriftEvent{event(report.DriftChanged, "a", high, fail, fail,
				evs(maxDays("120", false, 3)), evs(maxDays("99999", false, 3)), "worse")},
		},
		{
			name: "regressed",
			prev: []checks.Result{res("a", pass, med, "ok", maxDays("90", true, 3))},
			next: []checks.Result{res("a", fail, high, "too long", maxDays("120", false, 3))},
			want: []report.DriftEvent{event(report.DriftRegressed, "a", high, pass, fail,
				evs(maxDays("90", true, 3)), evs(maxDays("120", false, 3)), "too long")},
		},
		{
			name: "resolved",
			prev: []checks.Result{res("a", fail, high, "too long", maxDays("120", false, 3))},
			next: []checks.Result{res("a", pass, high, "ok", maxDays("90", true, 3))},
			want: []report.DriftEvent{event(report.DriftResolved, "a", high, fail, pass,
				evs(maxDays("120", false, 3)), evs(maxDays("90", true, 3)), "ok")},
		},
		{
			name: "FAIL to NOT_APPLICABLE is resolved",
			prev: []checks.Result{res("a", fail, high, "bad")},
			next: []checks.Result{res("a", na, high, "no such package")},
			want: []report.DriftEvent{event(report.DriftChanged, "a", high, fail, na, nil, nil, "no such package")},
		},
		{
			name: "FAIL to ERROR is errored, not resolved",
			prev: []checks.Result{res("a", fail, high, "bad", maxDays("120", false, 3))},
			next: []checks.Result{res("a", errS, high, "permission denied")},
			want: []report.DriftEvent{event(report.DriftErrored, "a", high, fail, errS,
				evs(maxDays("120", false, 3)), nil, "permission denied")},
		},
		{
			name: "PASS to ERROR is errored, never regressed",
			prev: []checks.Result{res("a", pass, high, "ok")},
			next: []checks.Result{res("a", errS, high, "timeout")},
			want: []report.DriftEvent{event(report.DriftErrored, "a", high, pass, errS, nil, nil, "timeout")},
		},
		{
			name: "ERROR to FAIL is recovered",
			prev: []checks.Result{res("a", errS, high, "timeout")},
			next: []checks.Result{res("a", fail, high, "bad", maxDays("120", false, 3))},
			want: []report.DriftEvent{event(report.DriftRecovered, "a", high, errS, fail,
				nil, evs(maxDays("120", false, 3)), "bad")},
		},
		{
			name: "ERROR stays ERROR with another message",
			prev: []checks.Result{res("a", errS, high, "timeout")},
			next: []checks.Result{res("a", errS, high, "permission denied")},
		},
		{
			name: "PASS to NOT_APPLICABLE is changed",
			prev: []checks.Result{res("a", pass, med, "ok")},
			next: []checks.Result{res("a", na, med, "not installed")},
			want: []report.DriftEvent{event(report.DriftChanged, "a", med, pass, na, nil, nil, "not installed")},
		},
		{
			name: "SKIPPED to PASS is changed",
			prev: []checks.Result{res("a", skip, med, "skipped")},
			next: []checks.Result{res("a", pass, med, "ok")},
			want: []report.DriftEvent{event(report.DriftChanged, "a", med, skip, pass, nil, nil, "ok")},
		},
		{
			name: "added and removed",
			prev: []checks.Result{res("keep", pass, med, "ok"), res("old", fail, high, "bad", maxDays("120", false, 3))},
			next: []checks.Result{res("keep", pass, med, "ok"), res("new", fail, med, "new bad", maxDays("100", false, 3))},
			want: []report.DriftEvent{
				event(report.DriftAdded, "new", med, 0, fail, nil, evs(maxDays("100", false, 3)), "new bad"),
				event(report.DriftRemoved, "old", high, fail, 0, evs(maxDays("120", false, 3)), nil, ""),
			},
		},
		{
			name: "several at once come sorted by check id",
			prev: []checks.Result{res("z", pass, med, "ok"), res("m", fail, med, "bad"), res("a", pass, med, "ok")},
			next: []checks.Result{res("a", fail, med, "bad"), res("z", errS, med, "?"), res("m", pass, med, "ok")},
			want: []report.DriftEvent{
				event(report.DriftRegressed, "a", med, pass, fail, nil, nil, "bad"),
				event(report.DriftResolved, "m", med, fail, pass, nil, nil, "ok"),
				event(report.DriftErrored, "z", med, pass, errS, nil, nil, "?"),
			},
		},
		{
			name: "empty previous state: every check added",
			next: []checks.Result{res("b", pass, med, "ok"), res("a", fail, med, "bad")},
			want: []report.DriftEvent{
				event(report.DriftAdded, "a", med, 0, fail, nil, nil, "bad"),
				event(report.DriftAdded, "b", med, 0, pass, nil, nil, "ok"),
			},
		},
		{
			name: "every check removed",
			prev: []checks.Result{res("a", pass, med, "ok")},
			want: []report.DriftEvent{event(report.DriftRemoved, "a", med, pass, 0, nil, nil, "")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Compare("h1", states(tt.prev...), tt.first, rep(2, tt.next...), at)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Compare:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// A state stored without its fingerprint still compares by evidence.
func TestCompareComputesMissingFingerprint(t *testing.T) {
	t.Parallel()
	e := ev("k", "", "v", true, "/p", 1)
	prev := map[string]State{"a": {Status: pass, Evidence: []checks.Evidence{e}}}
	if got := Compare("h1", prev, false, rep(2, res("a", pass, 0, "", e)), time.Now()); len(got) != 0 {
		t.Errorf("same evidence, no stored fingerprint: got events %+v", got)
	}
	e.Actual = "w"
	if got := Compare("h1", prev, false, rep(2, res("a", pass, 0, "", e)), time.Now()); len(got) != 1 || got[0].Kind != report.DriftChanged {
		t.Errorf("other evidence, no stored fingerprint: got %+v, want one changed event", got)
	}
}
