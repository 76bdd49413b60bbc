package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
)

// t0 is when the tests' first report arrives.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *clock { return &clock{now: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// openTest opens a store on a fresh file in t.TempDir(), closed at cleanup.
func openTest(t testing.TB, o Options) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "plumbline.db"), o)
}

func openAt(t testing.TB, path string, o Options) *Store {
	t.Helper()
	if o.Now == nil {
		o.Now = newClock(t0).Now
	}
	s, err := Open(context.Background(), path, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func result(id string, st checks.Status, sev checks.Severity, ev ...checks.Evidence) checks.Result {
	return checks.Result{ID: id, Title: "Title of " + id, Status: st, Severity: sev,
		Message: fmt.Sprintf("%s is %s", id, st), Evidence: ev, Duration: checks.Duration(3 * time.Millisecond)}
}

func pass(id string, ev ...checks.Evidence) checks.Result {
	return result(id, checks.StatusPass, checks.SeverityMedium, ev...)
}

func fail(id string, ev ...checks.Evidence) checks.Result {
	return result(id, checks.StatusFail, checks.SeverityMedium, ev...)
}

func errored(id string) checks.Result { return result(id, checks.StatusError, checks.SeverityMedium) }

// maxDays is login.defs evidence as the password family reports it.
func maxDays(value string, line int) checks.Evidence {
	n, _ := strconv.Atoi(value)
	return checks.Evidence{Key: "PASS_MAX_DAYS", Expected: "<= 90", Actual: value, OK: n <= 90,
		Path: "/etc/login.defs", Line: line}
}

// mkReport builds a valid report; its scan id is "<host>-<seq>".
func mkReport(host string, seq uint64, rs ...checks.Result) *report.Report {
	return &report.Report{
		Schema:     report.Schema,
		ScanID:     fmt.Sprintf("%s-%d", host, seq),
		Sequence:   seq,
		Host:       report.Identity{ID: host, IDSource: "config", Hostname: host + ".example"},
		Facts:      report.Facts{OS: "linux", Platform: "debian:12", Kernel: "6.1.0", UptimeSeconds: seq * 3600},
		Baseline:   report.BaselineRef{Name: "debian-12", Version: "1", SHA256: "sha-debian-12"},
		Plugins:    []report.PluginRef{{Name: "dlp", Version: "1.0.0", SHA256: "sha-dlp"}},
		StartedAt:  t0.Add(time.Duration(seq) * time.Hour),
		FinishedAt: t0.Add(time.Duration(seq)*time.Hour + time.Second),
		Summary:    report.Summarize(rs),
		Results:    rs,
		Agent:      "1.0.0",
	}
}

func mustApply(t testing.TB, s *Store, at time.Time, rs ...*report.Report) []Result {
	t.Helper()
	out, err := s.Apply(context.Background(), rs, at)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(out) != len(rs) {
		t.Fatalf("Apply returned %d results for %d reports", len(out), len(rs))
	}
	return out
}

// change is the part of a drift event a sequence test pins down.
type change struct {
	Kind     report.DriftKind
	Check    string
	From, To checks.Status
}

func changes(evs []report.DriftEvent) []change {
	var out []change
	for _, e := range evs {
		out = append(out, change{e.Kind, e.CheckID, e.From, e.To})
	}
	return out
}

const (
	sPass = checks.StatusPass
	sFail = checks.StatusFail
	sErr  = checks.StatusError
)

func TestApplyDriftSequence(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	steps := []struct {
		name    string
		results []checks.Result
		want    []change
	}{
		{
			name:    "first report: new_host only",
			results: []checks.Result{pass("a"), fail("b"), pass("c", maxDays("90", 160)), errored("d")},
			want:    []change{{Kind: report.DriftNewHost}},
		},
		{
			name:    "regressed, resolved, changed evidence, recovered",
			results: []checks.Result{fail("a"), pass("b"), pass("c", maxDays("60", 160)), pass("d")},
			want: []change{
				{report.DriftRegressed, "a", sPass, sFail},
				{report.DriftResolved, "b", sFail, sPass},
				{report.DriftChanged, "c", sPass, sPass},
				{report.DriftRecovered, "d", sErr, sPass},
			},
		},
		{
			name:    "errored, added, removed",
			results: []checks.Result{errored("a"), pass("c", maxDays("60", 160)), pass("d"), fail("e")},
			want: []change{
				{report.DriftErrored, "a", sFail, sErr},
				{report.DriftRemoved, "b", sPass, 0},
				{report.DriftAdded, "e", 0, sFail},
			},
		},
		{
			name:    "line moved: no drift",
			results: []checks.Result{errored("a"), pass("c", maxDays("60", 161)), pass("d"), fail("e")},
		},
		{
			name:    "identical: no drift",
			results: []checks.Result{errored("a"), pass("c", maxDays("60", 161)), pass("d"), fail("e")},
		},
		{
			name:    "ERROR to FAIL is recovered",
			results: []checks.Result{fail("a"), pass("c", maxDays("60", 161)), pass("d"), fail("e")},
			want:    []change{{report.DriftRecovered, "a", sErr, sFail}},
		},
	}
	var all []report.DriftEvent
	var lastID int64
	for i, step := range steps {
		seq := uint64(i + 1)
		at := t0.Add(time.Duration(i) * time.Hour)
		got := mustApply(t, s, at, mkReport("h1", seq, step.results...))[0]
		if got.Outcome != Applied {
			t.Fatalf("step %d (%s): outcome %v, want applied", seq, step.name, got.Outcome)
		}
		if c := changes(got.Events); !reflect.DeepEqual(c, step.want) {
			t.Errorf("step %d (%s):\n got %+v\nwant %+v", seq, step.name, c, step.want)
		}
		for _, e := range got.Events {
			if e.ID <= lastID {
				t.Errorf("step %d: event id %d not above %d", seq, e.ID, lastID)
			}
			lastID = e.ID
			if e.HostID != "h1" || e.ScanID != fmt.Sprintf("h1-%d", seq) || e.Sequence != seq ||
				!e.At.Equal(at) || e.Schema != report.DriftSchema {
				t.Errorf("step %d: event %+v: wrong host, scan, sequence, time or schema", seq, e)
			}
		}
		all = append(all, got.Events...)
		h, err := s.Host(ctx, "h1")
		if err != nil {
			t.Fatal(err)
		}
		if h.LastSequence != seq || h.LastScanID != fmt.Sprintf("h1-%d", seq) || h.Summary != report.Summarize(step.results) {
			t.Errorf("step %d: host at sequence %d scan %s summary %+v", seq, h.LastSequence, h.LastScanID, h.Summary)
		}
		// The stored state is the report's, down to evidence line numbers.
		for _, r := range step.results {
			row := findResult(t, h, r.ID)
			if row.Status != r.Status || row.Message != r.Message || !reflect.DeepEqual(row.Evidence, r.Evidence) {
				t.Errorf("step %d: stored %s = %+v, want %+v", seq, r.ID, row, r)
			}
		}
		if len(h.Results) != len(step.results) {
			t.Errorf("step %d: %d stored results, want %d", seq, len(h.Results), len(step.results))
		}
	}

	// What Apply returned is exactly what the log serves, newest first.
	logged, err := s.Drift(ctx, DriftFilter{HostID: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	if !reflect.DeepEqual(logged, all) {
		t.Errorf("Drift log differs from Apply's events:\n got %+v\nwant %+v", logged, all)
	}
	// The changed event carries both sides of the evidence.
	for _, e := range logged {
		if e.Kind == report.DriftChanged {
			if e.FromEvidence[0].Actual != "90" || e.ToEvidence[0].Actual != "60" {
				t.Errorf("changed event evidence %+v -> %+v, want 90 -> 60", e.FromEvidence, e.ToEvidence)
			}
		}
	}
}

func findResult(t *testing.T, h *HostDetail, id string) ResultRow {
	t.Helper()
	for _, r := range h.Results {
		if r.CheckID == id {
			return r
		}
	}
	t.Fatalf("host %s has no result %s", h.ID, id)
	return ResultRow{}
}

// status_since moves only when the status does.
func TestStatusSince(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	t1, t2, t3 := t0, t0.Add(time.Hour), t0.Add(2*time.Hour)
	mustApply(t, s, t1, mkReport("h1", 1, fail("a", maxDays("120", 1)), pass("b")))
	// a: other evidence, still FAIL; b: PASS -> FAIL.
	mustApply(t, s, t2, mkReport("h1", 2, fail("a", maxDays("150", 1)), fail("b")))
	// c added later.
	mustApply(t, s, t3, mkReport("h1", 3, fail("a", maxDays("150", 1)), fail("b"), pass("c")))
	h, err := s.Host(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]time.Time{"a": t1, "b": t2, "c": t3} {
		if got := findResult(t, h, id).Since; !got.Equal(want) {
			t.Errorf("%s since %v, want %v", id, got, want)
		}
	}
	devs, err := s.Deviations(ctx, DeviationFilter{HostID: "h1", CheckID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 || !devs[0].FirstSeen.Equal(t1) || !devs[0].LastSeen.Equal(t3) {
		t.Errorf("deviation a: %+v, want first seen %v, last seen %v", devs, t1, t3)
	}
}

// scanOutcomes reads the scans table: scan id -> outcome.
func scanOutcomes(t *testing.T, s *Store) map[string]string {
	t.Helper()
	rows, err := s.r.Query(`SELECT scan_id, outcome FROM scans`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, o string
		if err := rows.Scan(&id, &o); err != nil {
			t.Fatal(err)
		}
		out[id] = o
	}
	return out
}

func TestDuplicateAndOutOfOrder(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	mustApply(t, s, t0, mkReport("h1", 4, pass("a"), fail("b")))
	latest := mkReport("h1", 5, pass("a"), pass("b"))
	mustApply(t, s, t0.Add(time.Hour), latest)

	withScan := func(r *report.Report, id string) *report.Report { r.ScanID = id; return r }
	tests := []struct {
		name    string
		r       *report.Report
		want    Outcome
		outcome string // the scans row, "" for none added
	}{
		{"redelivered", latest, Duplicate, ""},
		{"redelivered copy", mkReport("h1", 5, pass("a"), pass("b")), Duplicate, ""},
		{"redelivered with other content", mkReport("h1", 5, fail("a")), Duplicate, ""},
		{"lower sequence", withScan(mkReport("h1", 3, fail("a"), fail("b")), "h1-3x"), OutOfOrder, "out_of_order"},
		{"equal sequence, new scan id", withScan(mkReport("h1", 5, fail("a"), fail("b")), "h1-5x"), OutOfOrder, "out_of_order"},
		{"old check set", withScan(mkReport("h1", 1, fail("zz")), "h1-1x"), OutOfOrder, "out_of_order"},
	}
	before, err := s.Host(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	statsBefore, err := s.Stats(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		scansBefore := scanOutcomes(t, s)
		got := mustApply(t, s, t0.Add(2*time.Hour), tt.r)[0]
		if got.Outcome != tt.want || len(got.Events) != 0 {
			t.Errorf("%s: outcome %v with %d events, want %v and none", tt.name, got.Outcome, len(got.Events), tt.want)
		}
		scans := scanOutcomes(t, s)
		if tt.outcome == "" && len(scans) != len(scansBefore) {
			t.Errorf("%s: scans %v -> %v, want no new row", tt.name, scansBefore, scans)
		}
		if tt.outcome != "" && (len(scans) != len(scansBefore)+1 || scans[tt.r.ScanID] != tt.outcome) {
			t.Errorf("%s: scan %s recorded as %q, want %q", tt.name, tt.r.ScanID, scans[tt.r.ScanID], tt.outcome)
		}
		after, err := s.Host(ctx, "h1")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(after, before) {
			t.Errorf("%s changed the host:\n got %+v\nwant %+v", tt.name, after, before)
		}
		statsAfter, err := s.Stats(ctx, t0)
		if err != nil {
			t.Fatal(err)
		}
		if statsAfter != statsBefore {
			t.Errorf("%s: stats %+v, want %+v", tt.name, statsAfter, statsBefore)
		}
	}
	// The next report in order compares with the latest applied state
	// (a, b PASS), not with anything the refused reports said.
	got := mustApply(t, s, t0.Add(3*time.Hour), mkReport("h1", 6, pass("a"), fail("b")))[0]
	if want := []change{{report.DriftRegressed, "b", sPass, sFail}}; !reflect.DeepEqual(changes(got.Events), want) {
		t.Errorf("next report: %+v, want %+v", changes(got.Events), want)
	}
}

func TestApplyBatchSeesEarlierReports(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	h1v1 := mkReport("h1", 1, pass("a"), pass("b"))
	h1v2 := mkReport("h1", 2, fail("a"), pass("b"))
	h1old := mkReport("h1", 1, fail("b"))
	h1old.ScanID = "h1-1-again"
	batch := []*report.Report{h1v1, mkReport("h2", 1, fail("a")), h1v2, h1v2, h1old,
		mkReport("h1", 3, fail("a"), pass("b"), pass("c"))}
	got := mustApply(t, s, t0, batch...)
	want := []struct {
		o  Outcome
		cs []change
	}{
		{Applied, []change{{Kind: report.DriftNewHost}}},
		{Applied, []change{{Kind: report.DriftNewHost}}},
		{Applied, []change{{report.DriftRegressed, "a", sPass, sFail}}},
		{Duplicate, nil},
		{OutOfOrder, nil},
		{Applied, []change{{report.DriftAdded, "c", 0, sPass}}},
	}
	for i, w := range want {
		if got[i].Outcome != w.o || !reflect.DeepEqual(changes(got[i].Events), w.cs) {
			t.Errorf("report %d: %v %+v, want %v %+v", i+1, got[i].Outcome, changes(got[i].Events), w.o, w.cs)
		}
	}
	hosts, err := s.Hosts(context.Background(), HostFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 2 || hosts[0].LastSequence != 3 || hosts[0].Summary.Pass != 2 || hosts[0].OpenDeviations != 1 {
		t.Errorf("hosts after batch: %+v", hosts)
	}
}

func TestApplyRefusesInvalidBatchWhole(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	badSummary := mkReport("h3", 1, pass("a"))
	badSummary.Summary.Fail = 7
	badSeverity := mkReport("h3", 1, result("a", sPass, checks.SeverityCritical+1))
	bigSeq := mkReport("h3", 1<<63, pass("a"))
	tests := []struct {
		name string
		bad  *report.Report
	}{
		{"nil report", nil},
		{"summary does not match", badSummary},
		{"severity out of range", badSeverity},
		{"sequence above 2^63-1", bigSeq},
		{"no host id", mkReport("", 1, pass("a"))},
	}
	for _, tt := range tests {
		_, err := s.Apply(ctx, []*report.Report{mkReport("h1", 1, pass("a")), tt.bad}, t0)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "report 2 of 2") {
			t.Errorf("%s: err = %v, want ErrInvalid naming report 2 of 2", tt.name, err)
		}
	}
	hosts, err := s.Hosts(ctx, HostFilter{})
	if err != nil || len(hosts) != 0 {
		t.Errorf("after refused batches: hosts %+v, err %v; want none", hosts, err)
	}
	if out, err := s.Apply(ctx, nil, t0); out != nil || err != nil {
		t.Errorf("empty batch: %v, %v", out, err)
	}
}

// A batch that fails part-way, after earlier reports were written, leaves
// nothing behind, and succeeds whole when retried. The fault is a TEMP
// trigger: it lives on the writer connection only and is never stored.
func TestApplyFailureRollsBackWholeBatch(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	mustApply(t, s, t0, mkReport("h1", 1, pass("a"), pass("b")))
	rawExec(t, s.w, `CREATE TEMP TRIGGER inject_fault BEFORE INSERT ON main.hosts WHEN NEW.id = 'h3'
BEGIN SELECT RAISE(ABORT, 'injected fault'); END`)
	before, err := s.Host(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	batch := []*report.Report{
		mkReport("h1", 2, fail("a"), pass("b")), // drift, rows rewritten
		mkReport("h2", 1, pass("a")),            // new host
		mkReport("h3", 1, pass("a")),            // fails
	}
	_, err = s.Apply(ctx, batch, t0.Add(time.Hour))
	if err == nil || !strings.Contains(err.Error(), s.Path()) || !strings.Contains(err.Error(), "report 3 of 3 (host h3") ||
		!strings.Contains(err.Error(), "injected fault") {
		t.Fatalf("Apply: err = %v, want the injected fault, naming %s and report 3", err, s.Path())
	}
	after, err := s.Host(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Errorf("failed batch changed h1:\n got %+v\nwant %+v", after, before)
	}
	if got := scanOutcomes(t, s); len(got) != 1 {
		t.Errorf("failed batch left scans %v", got)
	}
	if st, _ := s.Stats(ctx, t0); st.Hosts != 1 || st.DriftEvents != 1 {
		t.Errorf("failed batch left %+v, want 1 host and its new_host event", st)
	}
	rawExec(t, s.w, `DROP TRIGGER temp.inject_fault`)
	got := mustApply(t, s, t0.Add(time.Hour), batch...)
	for i, r := range got {
		if r.Outcome != Applied {
			t.Errorf("retry report %d: %v, want applied (nothing of the failed attempt kept)", i+1, r.Outcome)
		}
	}
	if want := []change{{report.DriftRegressed, "a", sPass, sFail}}; !reflect.DeepEqual(changes(got[0].Events), want) {
		t.Errorf("retry: h1 events %+v, want %+v", changes(got[0].Events), want)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "plumbline.db")
	clk := newClock(t0)
	o := Options{Now: clk.Now}
	s, err := Open(ctx, path, o)
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, t0, mkReport("h1", 1, pass("a"), pass("b")), mkReport("h2", 1, fail("a")))
	mustApply(t, s, t0.Add(time.Hour), mkReport("h1", 2, fail("a", maxDays("120", 3)), pass("b")))
	if err := s.Waive(ctx, Waiver{HostID: "h2", CheckID: "a", Owner: "alice", Reason: "legacy", Expires: t0.Add(48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Reject(ctx, Rejection{Subject: "plumbline.v1.report.x", Reason: "malformed", Data: []byte("{")}); err != nil {
		t.Fatal(err)
	}
	snap := func(s *Store) []any {
		hosts, err1 := s.Hosts(ctx, HostFilter{})
		h1, err2 := s.Host(ctx, "h1")
		drift, err3 := s.Drift(ctx, DriftFilter{})
		ws, err4 := s.Waivers(ctx)
		rj, err5 := s.Rejected(ctx, 0)
		st, err6 := s.Stats(ctx, t0)
		cs, err7 := s.Checks(ctx)
		schema, err8 := schemaSQL(s)
		if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8); err != nil {
			t.Fatal(err)
		}
		return []any{hosts, h1, drift, ws, rj, st, cs, schema}
	}
	before := snap(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		s, err = Open(ctx, path, o)
		if err != nil {
			t.Fatalf("reopen %d: %v", i+1, err)
		}
		if after := snap(s); !reflect.DeepEqual(after, before) {
			t.Errorf("reopen %d:\n got %+v\nwant %+v", i+1, after, before)
		}
		var version int
		if err := s.r.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != len(migrations) {
			t.Errorf("user_version %d (%v), want %d", version, err, len(migrations))
		}
		if i == 0 {
			s.Close()
		}
	}
	defer s.Close()
	// Ids continue after the reopen, and drift compares with the stored state.
	got := mustApply(t, s, t0.Add(2*time.Hour), mkReport("h1", 3, pass("a"), pass("b")))[0]
	maxID := before[2].([]report.DriftEvent)[0].ID
	if len(got.Events) != 1 || got.Events[0].Kind != report.DriftResolved || got.Events[0].ID != maxID+1 {
		t.Errorf("after reopen: %+v, want one resolved event with id %d", got.Events, maxID+1)
	}
}

func schemaSQL(s *Store) ([]string, error) {
	rows, err := s.r.Query(`SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var q string
		if err := rows.Scan(&q); err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "plumbline.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(ctx, path, Options{})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: err = %v, want an error naming %s and saying newer", err, path)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, path string
	}{
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "p.db")},
		{"directory", dir},
	}
	for _, tt := range tests {
		_, err := Open(context.Background(), tt.path, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.path) {
			t.Errorf("%s: err = %v, want an error naming %s", tt.name, err, tt.path)
		}
	}
	notDB := filepath.Join(dir, "not.db")
	writeFile(t, notDB, strings.Repeat("not a database\n", 100))
	if _, err := Open(context.Background(), notDB, Options{}); err == nil || !strings.Contains(err.Error(), notDB) {
		t.Errorf("not a database: err = %v, want an error naming %s", err, notDB)
	}
}

// Readers never wait for ingest, and see only committed batches (run with
// -race).
func TestConcurrentReadsDuringApply(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	mustApply(t, s, t0, mkReport("h0", 1, pass("a")))
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				hosts, err := s.Hosts(ctx, HostFilter{})
				if err != nil {
					errs <- err
					return
				}
				for _, h := range hosts {
					// A host is written whole with its results, or not at all.
					if d, err := s.Host(ctx, h.ID); err != nil || len(d.Results) != 3 && h.ID != "h0" {
						errs <- fmt.Errorf("host %s: %d results, err %v", h.ID, len(d.Results), err)
						return
					}
				}
			}
		})
	}
	for i := range 50 {
		host := fmt.Sprintf("h%02d", i+1)
		mustApply(t, s, t0, mkReport(host, 1, pass("a"), fail("b"), pass("c")))
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func rawExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// changesOnWriter is SQLite's count of rows the writer connection has
// inserted, updated or deleted since it opened.
func changesOnWriter(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.w.QueryRow(`SELECT total_changes()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The ingest cost is bounded by what changed, not by the report's size.
func TestApplyWritesOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	results := func(mod func([]checks.Result)) []checks.Result {
		rs := make([]checks.Result, 150)
		for i := range rs {
			rs[i] = pass(fmt.Sprintf("c%03d", i), maxDays("90", i+1))
		}
		if mod != nil {
			mod(rs)
		}
		return rs
	}
	tests := []struct {
		name string
		rs   []checks.Result
		// rows: host + scan + results + events + check_stats (once per
		// batch per check touched)
		want int
	}{
		{"first report", results(nil), 1 + 1 + 150 + 1 + 150},
		{"same results, other durations and facts", results(func(rs []checks.Result) {
			for i := range rs {
				rs[i].Duration = checks.Duration(time.Duration(i) * time.Millisecond)
			}
		}), 1 + 1},
		{"one regression", results(func(rs []checks.Result) { rs[7] = fail("c007", maxDays("120", 8)) }), 1 + 1 + 1 + 1 + 1},
		{"one line moved", results(func(rs []checks.Result) {
			rs[7] = fail("c007", maxDays("120", 8))
			rs[9].Evidence[0].Line = 99
		}), 1 + 1 + 1},
		{"one message", results(func(rs []checks.Result) {
			rs[7] = fail("c007", maxDays("120", 8))
			rs[9].Evidence[0].Line = 99
			rs[10].Message = "reworded"
		}), 1 + 1 + 1},
		{"one check dropped", results(func(rs []checks.Result) {
			rs[7] = fail("c007", maxDays("120", 8))
			rs[9].Evidence[0].Line = 99
			rs[10].Message = "reworded"
		})[:149], 1 + 1 + 1 + 1 + 2}, // the last host without the check: its check_stats row goes
	}
	for i, tt := range tests {
		before := changesOnWriter(t, s)
		mustApply(t, s, t0.Add(time.Duration(i)*time.Hour), mkReport("h1", uint64(i+1), tt.rs...))
		if got := changesOnWriter(t, s) - before; got != tt.want {
			t.Errorf("%s: %d rows written, want %d", tt.name, got, tt.want)
		}
	}
}

// A migration step that fails leaves the database at its old version with
// its data, and the error names the step and the file. Not parallel: it
// swaps the package's migration list (parallel tests start only after it
// has put the list back).
func TestMigrationFailureKeepsVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "plumbline.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, t0, mkReport("h1", 1, pass("a")))
	s.Close()

	saved := migrations
	migrations = append(append([]string(nil), saved...),
		`CREATE TABLE scan_notes (id INTEGER PRIMARY KEY); CREATE TABLE hosts (id TEXT)`)
	_, err = Open(ctx, path, Options{})
	migrations = saved
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), fmt.Sprintf("version %d", len(saved)+1)) {
		t.Fatalf("Open with a failing migration: err = %v, want an error naming %s and version %d", err, path, len(saved)+1)
	}
	s = openAt(t, path, Options{})
	var version, notes int
	if err := s.r.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil || version != len(saved) {
		t.Errorf("user_version %d (%v), want %d", version, err, len(saved))
	}
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE name = 'scan_notes'`).Scan(&notes); err != nil || notes != 0 {
		t.Errorf("half-applied migration left scan_notes (%d, %v)", notes, err)
	}
	if _, err := s.Host(ctx, "h1"); err != nil {
		t.Errorf("data after failed migration: %v", err)
	}
}
