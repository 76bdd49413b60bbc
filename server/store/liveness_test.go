package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/checks/report/reporttest"
)

func withInterval(r *report.Report, seconds int64) *report.Report {
	r.ScanIntervalSeconds = seconds
	return r
}

func hb(host string, at time.Time, version string, interval int64) report.Heartbeat {
	return report.Heartbeat{Schema: report.HeartbeatSchema, HostID: host, At: at, AgentVersion: version, ScanIntervalSeconds: interval}
}

func TestSweepStale(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{DefaultInterval: time.Hour, StaleGrace: 5 * time.Minute})
	ctx := context.Background()
	// h1 scans every 10 minutes: stale after 25 minutes of silence; h2
	// never said: the default hour gives 2h05m.
	mustApply(t, s, t0, withInterval(mkReport("h1", 1, pass("a")), 600), mkReport("h2", 1, pass("a")))

	type step struct {
		name  string
		do    func()
		sweep time.Time
		want  []string // hosts flagged by this sweep
		stale []string // Hosts(Stale) afterwards
	}
	steps := []step{
		{name: "exactly at the deadline: not yet", sweep: t0.Add(25 * time.Minute)},
		{name: "h1 late", sweep: t0.Add(25*time.Minute + time.Second), want: []string{"h1"}, stale: []string{"h1"}},
		{name: "once per silence", sweep: t0.Add(time.Hour), stale: []string{"h1"}},
		{name: "heartbeats do not clear it", do: func() {
			if err := s.Heartbeats(ctx, []report.Heartbeat{hb("h1", t0.Add(61*time.Minute), "1.0.0", 600)}); err != nil {
				t.Fatal(err)
			}
		}, sweep: t0.Add(62 * time.Minute), stale: []string{"h1"}},
		{name: "h2 on the default interval", sweep: t0.Add(2*time.Hour + 5*time.Minute + time.Second), want: []string{"h2"}, stale: []string{"h1", "h2"}},
		{name: "a report clears it", do: func() {
			got := mustApply(t, s, t0.Add(3*time.Hour), mkReport("h1", 2, pass("a")))[0]
			if got.Outcome != Applied || len(got.Events) != 0 {
				t.Errorf("report after silence: %+v, want applied without events", got)
			}
		}, sweep: t0.Add(3 * time.Hour), stale: []string{"h2"}},
		{name: "an out-of-order report does not", do: func() {
			r := mkReport("h2", 1, pass("a"))
			r.ScanID = "h2-1-late"
			if got := mustApply(t, s, t0.Add(3*time.Hour), r)[0]; got.Outcome != OutOfOrder {
				t.Errorf("late report: %v, want out of order", got.Outcome)
			}
		}, sweep: t0.Add(3 * time.Hour), stale: []string{"h2"}},
		{name: "h1 silent again: a new episode", sweep: t0.Add(3*time.Hour + 26*time.Minute), want: []string{"h1"}, stale: []string{"h1", "h2"}},
	}
	for _, st := range steps {
		if st.do != nil {
			st.do()
		}
		evs, err := s.SweepStale(ctx, st.sweep)
		if err != nil {
			t.Fatal(err)
		}
		var flagged []string
		for _, e := range evs {
			flagged = append(flagged, e.HostID)
			if e.Kind != report.DriftStale || e.CheckID != "" || e.ScanID != "" || !e.At.Equal(st.sweep) || e.ID == 0 || e.Message == "" {
				t.Errorf("%s: stale event %+v", st.name, e)
			}
		}
		if !reflect.DeepEqual(flagged, st.want) {
			t.Errorf("%s: flagged %v, want %v", st.name, flagged, st.want)
		}
		hosts, err := s.Hosts(ctx, HostFilter{Stale: true})
		if err != nil {
			t.Fatal(err)
		}
		var stale []string
		for _, h := range hosts {
			stale = append(stale, h.ID)
		}
		if !reflect.DeepEqual(stale, st.stale) {
			t.Errorf("%s: stale hosts %v, want %v", st.name, stale, st.stale)
		}
	}
	logged, err := s.Drift(ctx, DriftFilter{Kind: report.DriftStale})
	if err != nil {
		t.Fatal(err)
	}
	if len(logged) != 3 || logged[0].HostID != "h1" || logged[1].HostID != "h2" || logged[2].HostID != "h1" {
		t.Errorf("stale events logged: %+v, want h1, h2, h1 (newest first)", logged)
	}
	if st, _ := s.Stats(ctx, t0); st.StaleHosts != 2 {
		t.Errorf("stats: %d stale hosts, want 2", st.StaleHosts)
	}
}

func TestHeartbeats(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{DefaultInterval: time.Hour})
	ctx := context.Background()
	mustApply(t, s, t0, mkReport("h1", 1, pass("a")))
	invalid := hb("h1", t0, "9.9.9", 5)
	invalid.Schema = "plumbline.heartbeat/v0"

	type host struct {
		HB       time.Time
		Version  string
		Interval int64
	}
	steps := []struct {
		name    string
		batch   []report.Heartbeat
		want    host
		ignored uint64
	}{
		{"none yet", nil, host{time.Time{}, "1.0.0", 3600}, 0},
		{"first", []report.Heartbeat{hb("h1", t0.Add(time.Minute), "1.1.0", 300)}, host{t0.Add(time.Minute), "1.1.0", 300}, 0},
		{"older one changes nothing", []report.Heartbeat{hb("h1", t0.Add(30*time.Second), "0.9.0", 50)}, host{t0.Add(time.Minute), "1.1.0", 300}, 0},
		{"batch out of order: the newest wins", []report.Heartbeat{
			hb("h1", t0.Add(3*time.Minute), "1.2.0", 0), hb("h1", t0.Add(2*time.Minute), "1.1.5", 120),
		}, host{t0.Add(3 * time.Minute), "1.2.0", 300}, 0},
		{"unknown host and invalid heartbeat ignored", []report.Heartbeat{
			hb("h9", t0.Add(4*time.Minute), "1.2.0", 60), invalid,
		}, host{t0.Add(3 * time.Minute), "1.2.0", 300}, 2},
	}
	for _, st := range steps {
		if err := s.Heartbeats(ctx, st.batch); err != nil {
			t.Fatal(err)
		}
		hosts, err := s.Hosts(ctx, HostFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(hosts) != 1 {
			t.Fatalf("%s: hosts %+v, want only h1 (heartbeats create no host)", st.name, hosts)
		}
		h := hosts[0]
		if got := (host{h.LastHeartbeatAt, h.AgentVersion, h.IntervalSeconds}); !got.HB.Equal(st.want.HB) ||
			got.Version != st.want.Version || got.Interval != st.want.Interval {
			t.Errorf("%s: %+v, want %+v", st.name, got, st.want)
		}
		if got := s.IgnoredHeartbeats(); got != st.ignored {
			t.Errorf("%s: %d ignored, want %d", st.name, got, st.ignored)
		}
	}
	// A report's interval wins over an older heartbeat's, and a report
	// without one keeps what the heartbeat said.
	mustApply(t, s, t0.Add(time.Hour), mkReport("h1", 2, pass("a")))
	if hosts, _ := s.Hosts(ctx, HostFilter{}); hosts[0].IntervalSeconds != 300 {
		t.Errorf("interval after a report without one: %d, want 300", hosts[0].IntervalSeconds)
	}
	mustApply(t, s, t0.Add(2*time.Hour), withInterval(mkReport("h1", 3, pass("a")), 900))
	if hosts, _ := s.Hosts(ctx, HostFilter{}); hosts[0].IntervalSeconds != 900 {
		t.Errorf("interval after a report with one: %d, want 900", hosts[0].IntervalSeconds)
	}
}

func TestRejected(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	s := openTest(t, Options{MaxRejected: 3, Now: clk.Now})
	ctx := context.Background()
	big := make([]byte, MaxRejectedBytes+10)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	in := []Rejection{
		{Subject: "s1", Reason: "r1", Data: []byte("one")},
		{Subject: "s2", Reason: "r2", Data: []byte("two")},
		{Subject: "s3", Reason: "oversized", Data: big, At: t0.Add(time.Minute)},
		{Subject: "s4", Reason: "r4", Data: []byte("head"), Size: 5 << 20},
		{Subject: "s5", Reason: "r5"},
	}
	for _, rj := range in {
		if err := s.Reject(ctx, rj); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Rejected(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Rejection{
		{ID: 5, Subject: "s5", Reason: "r5", At: t0},
		{ID: 4, Subject: "s4", Reason: "r4", At: t0, Size: 5 << 20, Data: []byte("head")},
		{ID: 3, Subject: "s3", Reason: "oversized", At: t0.Add(time.Minute), Size: len(big), Data: big[:MaxRejectedBytes]},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Rejected: got %d\n%+v\nwant\n%+v", len(got), summarizeRejections(got), summarizeRejections(want))
	}
	if two, err := s.Rejected(ctx, 2); err != nil || len(two) != 2 || two[0].ID != 5 {
		t.Errorf("Rejected(2): %+v, %v", summarizeRejections(two), err)
	}
	if st, _ := s.Stats(ctx, t0); st.Rejected != 3 {
		t.Errorf("stats: %d rejected, want 3", st.Rejected)
	}
}

func summarizeRejections(rs []Rejection) []Rejection {
	out := make([]Rejection, len(rs))
	for i, r := range rs {
		r.Data = r.Data[:min(len(r.Data), 8)]
		out[i] = r
	}
	return out
}

// No agent can claim an interval that exempts its host from staleness.
func TestIntervalClamped(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	r := reporttest.NewHost("long", 3).ReportAt(1)
	r.ScanIntervalSeconds = 1 << 62
	if _, err := s.Apply(t.Context(), []*report.Report{r}, time.Now()); err != nil {
		t.Fatal(err)
	}
	d, err := s.Host(t.Context(), "long")
	if err != nil || d.IntervalSeconds != MaxIntervalSeconds {
		t.Fatalf("interval %d (%v), want %d", d.IntervalSeconds, err, MaxIntervalSeconds)
	}
	events, err := s.SweepStale(t.Context(), time.Now().Add(15*24*time.Hour))
	if err != nil || len(events) != 1 {
		t.Errorf("stale events after 15 days: %v %v", events, err)
	}
}
