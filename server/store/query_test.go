package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
)

func sev(r checks.Result, s checks.Severity) checks.Result { r.Severity = s; return r }

func withGroup(r *report.Report, g string) *report.Report { r.Group = g; return r }

// fleet stores four hosts:
//
//	h1 (web): a FAIL high, b FAIL low, c PASS, d ERROR, e NOT_APPLICABLE
//	h2 (web): a PASS, b PASS, c PASS
//	h3 (db):  a FAIL critical, c FAIL medium (waived), d SKIPPED
//	h4:       d ERROR
func fleet(t *testing.T) *Store {
	t.Helper()
	s := openTest(t, Options{})
	mustApply(t, s, t0,
		withGroup(mkReport("h1", 1, sev(fail("a"), checks.SeverityHigh), sev(fail("b"), checks.SeverityLow),
			pass("c"), errored("d"), result("e", checks.StatusNotApplicable, checks.SeverityMedium)), "web"),
		withGroup(mkReport("h2", 1, pass("a"), pass("b"), pass("c")), "web"),
		withGroup(mkReport("h3", 1, sev(fail("a"), checks.SeverityCritical), fail("c"),
			result("d", checks.StatusSkipped, checks.SeverityMedium)), "db"),
		mkReport("h4", 1, errored("d")),
	)
	if err := s.Waive(context.Background(), Waiver{HostID: "h3", CheckID: "c", Owner: "alice", Reason: "decommissioning",
		Expires: t0.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return s
}

func ptr(f float64) *float64 { return &f }

func TestHosts(t *testing.T) {
	t.Parallel()
	s := fleet(t)
	all, err := s.Hosts(context.Background(), HostFilter{})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID, Group      string
		Score          *float64
		Open, Waived   int
		Summary        report.Summary
		Interval       int64
		Hostname, Plat string
	}
	var got []row
	for _, h := range all {
		got = append(got, row{h.ID, h.Group, h.Score, h.OpenDeviations, h.Waived, h.Summary, h.IntervalSeconds, h.Hostname, h.Platform})
	}
	want := []row{
		{"h1", "web", ptr(100.0 / 3), 2, 0, report.Summary{Pass: 1, Fail: 2, Error: 1, NotApplicable: 1}, 3600, "h1.example", "debian:12"},
		{"h2", "web", ptr(100), 0, 0, report.Summary{Pass: 3}, 3600, "h2.example", "debian:12"},
		{"h3", "db", ptr(0), 1, 1, report.Summary{Fail: 2, Skipped: 1}, 3600, "h3.example", "debian:12"},
		{"h4", "", nil, 0, 0, report.Summary{Error: 1}, 3600, "h4.example", "debian:12"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Hosts:\n got %+v\nwant %+v", got, want)
	}
	h := all[0]
	if !h.FirstSeen.Equal(t0) || !h.LastReportAt.Equal(t0) || h.LastSequence != 1 || h.AgentVersion != "1.0.0" ||
		h.OS != "linux" || h.Stale || !h.LastHeartbeatAt.IsZero() {
		t.Errorf("h1 summary %+v", h)
	}

	tests := []struct {
		name string
		f    HostFilter
		want []string
	}{
		{"group", HostFilter{Group: "web"}, []string{"h1", "h2"}},
		{"failing", HostFilter{Failing: true}, []string{"h1", "h3"}},
		{"failing in group", HostFilter{Group: "db", Failing: true}, []string{"h3"}},
		{"unknown group", HostFilter{Group: "nope"}, nil},
		{"stale", HostFilter{Stale: true}, nil},
	}
	for _, tt := range tests {
		hosts, err := s.Hosts(context.Background(), tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, h := range hosts {
			ids = append(ids, h.ID)
		}
		if !reflect.DeepEqual(ids, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, ids, tt.want)
		}
	}
}

func TestHost(t *testing.T) {
	t.Parallel()
	s := fleet(t)
	ctx := context.Background()
	tests := []struct {
		id        string
		order     []string
		deviation []bool
		waived    []bool
	}{
		// Open deviations by severity, then the rest by check id.
		{"h1", []string{"a", "b", "c", "d", "e"}, []bool{true, true, false, false, false}, []bool{false, false, false, false, false}},
		// The waived failure is not a deviation and sorts with the rest.
		{"h3", []string{"a", "c", "d"}, []bool{true, false, false}, []bool{false, true, false}},
	}
	for _, tt := range tests {
		h, err := s.Host(ctx, tt.id)
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		var dev, waived []bool
		for _, r := range h.Results {
			order, dev, waived = append(order, r.CheckID), append(dev, r.Deviation), append(waived, r.Waiver != nil)
		}
		if !reflect.DeepEqual(order, tt.order) || !reflect.DeepEqual(dev, tt.deviation) || !reflect.DeepEqual(waived, tt.waived) {
			t.Errorf("%s: order %v deviation %v waived %v, want %v %v %v", tt.id, order, dev, waived, tt.order, tt.deviation, tt.waived)
		}
	}
	h, err := s.Host(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	if h.Identity.ID != "h1" || h.Identity.Hostname != "h1.example" || h.Facts.Kernel != "6.1.0" ||
		h.Baseline.SHA256 != "sha-debian-12" || len(h.Plugins) != 1 || h.Plugins[0].Name != "dlp" || h.LastScanID != "h1-1" {
		t.Errorf("h1 detail %+v", h)
	}
	if h.OpenDeviations != 2 || h.Score == nil || *h.Score != 100.0/3 {
		t.Errorf("h1: open %d score %v", h.OpenDeviations, h.Score)
	}
	if _, err := s.Host(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown host: err = %v, want ErrNotFound", err)
	}
}

func TestChecks(t *testing.T) {
	t.Parallel()
	s := fleet(t)
	got, err := s.Checks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []CheckSummary{
		{ID: "a", Title: "Title of a", Severity: checks.SeverityCritical, Hosts: 3, Summary: report.Summary{Pass: 1, Fail: 2}, FailingHosts: []string{"h1", "h3"}},
		{ID: "b", Title: "Title of b", Severity: checks.SeverityMedium, Hosts: 2, Summary: report.Summary{Pass: 1, Fail: 1}, FailingHosts: []string{"h1"}},
		{ID: "c", Title: "Title of c", Severity: checks.SeverityMedium, Hosts: 3, Summary: report.Summary{Pass: 2, Fail: 1}, FailingHosts: []string{}},
		{ID: "d", Title: "Title of d", Severity: checks.SeverityMedium, Hosts: 3, Summary: report.Summary{Error: 2, Skipped: 1}, FailingHosts: []string{}},
		{ID: "e", Title: "Title of e", Severity: checks.SeverityMedium, Hosts: 1, Summary: report.Summary{NotApplicable: 1}, FailingHosts: []string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Checks:\n got %+v\nwant %+v", got, want)
	}
}

func TestDeviations(t *testing.T) {
	t.Parallel()
	s := fleet(t)
	tests := []struct {
		name string
		f    DeviationFilter
		want []string // host/check
	}{
		{"open, by severity", DeviationFilter{}, []string{"h3/a", "h1/a", "h1/b"}},
		{"with waived", DeviationFilter{IncludeWaived: true}, []string{"h3/a", "h1/a", "h3/c", "h1/b"}},
		{"host", DeviationFilter{HostID: "h1"}, []string{"h1/a", "h1/b"}},
		{"check", DeviationFilter{CheckID: "a"}, []string{"h3/a", "h1/a"}},
		{"host and check", DeviationFilter{HostID: "h3", CheckID: "c", IncludeWaived: true}, []string{"h3/c"}},
		{"only waived one, not included", DeviationFilter{HostID: "h3", CheckID: "c"}, nil},
		{"passing host", DeviationFilter{HostID: "h2"}, nil},
	}
	for _, tt := range tests {
		devs, err := s.Deviations(context.Background(), tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range devs {
			got = append(got, d.HostID+"/"+d.CheckID)
			if (d.Waiver != nil) != (d.HostID == "h3" && d.CheckID == "c") {
				t.Errorf("%s: %s/%s waiver %+v", tt.name, d.HostID, d.CheckID, d.Waiver)
			}
			if !d.FirstSeen.Equal(t0) || !d.LastSeen.Equal(t0) || d.Title == "" || d.Message == "" {
				t.Errorf("%s: %+v", tt.name, d)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDriftFilters(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	mustApply(t, s, t0, mkReport("h1", 1, pass("a"), pass("b")), mkReport("h2", 1, pass("a"))) // 1, 2 new_host
	mustApply(t, s, t0.Add(time.Hour), mkReport("h1", 2, fail("a"), fail("b")), mkReport("h2", 2, fail("a")))
	// 3 h1/a regressed, 4 h1/b regressed, 5 h2/a regressed
	mustApply(t, s, t0.Add(2*time.Hour), mkReport("h1", 3, pass("a"), fail("b"))) // 6 h1/a resolved

	tests := []struct {
		name string
		f    DriftFilter
		want []int64
	}{
		{"all, newest first", DriftFilter{}, []int64{6, 5, 4, 3, 2, 1}},
		{"host", DriftFilter{HostID: "h1"}, []int64{6, 4, 3, 1}},
		{"check", DriftFilter{CheckID: "a"}, []int64{6, 5, 3}},
		{"kind", DriftFilter{Kind: report.DriftRegressed}, []int64{5, 4, 3}},
		{"host level kind", DriftFilter{Kind: report.DriftNewHost}, []int64{2, 1}},
		{"host and kind", DriftFilter{HostID: "h1", Kind: report.DriftRegressed}, []int64{4, 3}},
		{"since", DriftFilter{Since: t0.Add(time.Hour)}, []int64{6, 5, 4, 3}},
		{"limit", DriftFilter{Limit: 2}, []int64{6, 5}},
		{"after id: the oldest after it, so tailing skips nothing", DriftFilter{AfterID: 2, Limit: 2}, []int64{4, 3}},
		{"after id, rest", DriftFilter{AfterID: 4}, []int64{6, 5}},
		{"after the last", DriftFilter{AfterID: 6}, nil},
		{"before id", DriftFilter{BeforeID: 4}, []int64{3, 2, 1}},
		{"before id, page", DriftFilter{BeforeID: 4, Limit: 2}, []int64{3, 2}},
		{"unknown host", DriftFilter{HostID: "nope"}, nil},
	}
	for _, tt := range tests {
		evs, err := s.Drift(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, e := range evs {
			ids = append(ids, e.ID)
		}
		if !reflect.DeepEqual(ids, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, ids, tt.want)
		}
	}
	if _, err := s.Drift(ctx, DriftFilter{Kind: "bogus"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown kind: err = %v, want ErrInvalid", err)
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	s := fleet(t)
	ctx := context.Background()
	if err := s.Reject(ctx, Rejection{Subject: "x", Reason: "y"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		now  time.Time
		want Stats
	}{
		{"waiver live", t0, Stats{Hosts: 4, OpenDeviations: 3, DriftEvents: 4, Rejected: 1}},
		{"waiver expired", t0.Add(25 * time.Hour), Stats{Hosts: 4, OpenDeviations: 4, DriftEvents: 4, Rejected: 1}},
	}
	for _, tt := range tests {
		got, err := s.Stats(ctx, tt.now)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
	empty := openTest(t, Options{})
	if got, err := empty.Stats(ctx, t0); err != nil || got != (Stats{}) {
		t.Errorf("empty store: %+v, %v", got, err)
	}
}

// checkStatsFromResults is Checks' counting done the slow way.
func checkStatsFromResults(t *testing.T, s *Store) map[string]CheckSummary {
	t.Helper()
	rows, err := s.r.Query(`
SELECT check_id, COUNT(*), SUM(status = 'PASS'), SUM(status = 'FAIL'), SUM(status = 'ERROR'),
	SUM(status = 'NOT_APPLICABLE'), SUM(status = 'SKIPPED'),
	CASE WHEN COUNT(DISTINCT title) = 1 THEN MAX(title) ELSE '' END,
	CASE WHEN COUNT(DISTINCT severity) = 1 THEN MAX(severity) ELSE 0 END
FROM results GROUP BY check_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]CheckSummary{}
	for rows.Next() {
		var c CheckSummary
		if err := rows.Scan(&c.ID, &c.Hosts, &c.Summary.Pass, &c.Summary.Fail, &c.Summary.Error,
			&c.Summary.NotApplicable, &c.Summary.Skipped, &c.Title, &c.Severity); err != nil {
			t.Fatal(err)
		}
		out[c.ID] = c
	}
	return out
}

// The per-check counts Apply maintains match the results they summarise,
// through random reports, checks entering and leaving, duplicates,
// out-of-order reports and failed batches.
func TestCheckStatsStayConsistent(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	statuses := []checks.Status{checks.StatusPass, checks.StatusFail, checks.StatusError, checks.StatusNotApplicable, checks.StatusSkipped}
	seq := map[string]uint64{}
	randomReport := func() *report.Report {
		host := fmt.Sprintf("h%d", rng.IntN(6))
		seq[host]++
		var rs []checks.Result
		for c := range 20 {
			if rng.IntN(3) == 0 {
				continue
			}
			rs = append(rs, result(fmt.Sprintf("c%02d", c), statuses[rng.IntN(len(statuses))], checks.Severity(1+c%5)))
		}
		return mkReport(host, seq[host], rs...)
	}
	for round := range 80 {
		var batch []*report.Report
		for range 1 + rng.IntN(4) {
			batch = append(batch, randomReport())
		}
		switch rng.IntN(6) {
		case 0: // redelivery
			batch = append(batch, batch[0])
		case 1: // an old report arriving late
			old := *batch[0]
			old.ScanID += "-late"
			old.Sequence--
			batch = append(batch, &old)
		case 2: // the batch fails at its last report and is retried
			last := batch[len(batch)-1]
			rawExec(t, s.w, fmt.Sprintf(`CREATE TEMP TRIGGER fault BEFORE INSERT ON main.scans WHEN NEW.scan_id = '%s'
BEGIN SELECT RAISE(ABORT, 'injected fault'); END`, last.ScanID))
			if _, err := s.Apply(ctx, batch, t0); err == nil {
				t.Fatalf("round %d: injected fault did not fail the batch", round)
			}
			rawExec(t, s.w, `DROP TRIGGER temp.fault`)
		}
		mustApply(t, s, t0.Add(time.Duration(round)*time.Minute), batch...)

		want := checkStatsFromResults(t, s)
		got, err := s.Checks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("round %d: %d checks, want %d", round, len(got), len(want))
		}
		for _, c := range got {
			w := want[c.ID]
			if c.Hosts != w.Hosts || c.Summary != w.Summary {
				t.Fatalf("round %d: check %s: %d hosts %+v, want %d hosts %+v", round, c.ID, c.Hosts, c.Summary, w.Hosts, w.Summary)
			}
			if c.Title != w.Title || c.Severity != w.Severity {
				t.Fatalf("round %d: check %s: title %q severity %v, want %q %v", round, c.ID, c.Title, c.Severity, w.Title, w.Severity)
			}
		}
	}
	// Stats counts drift events by their largest id: failed batches must
	// not have left gaps.
	evs, err := s.Drift(ctx, DriftFilter{Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := s.Stats(ctx, t0); err != nil || st.DriftEvents != len(evs) {
		t.Errorf("stats count %d drift events (%v), the log holds %d", st.DriftEvents, err, len(evs))
	}
}
