package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestWaiveValidation(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	s := openTest(t, Options{Now: clk.Now})
	mustApply(t, s, t0, mkReport("h1", 1, fail("a")))
	ok := Waiver{HostID: "h1", CheckID: "a", Owner: "alice", Reason: "vendor fix pending", Expires: t0.Add(time.Hour)}
	tests := []struct {
		name   string
		mod    func(w *Waiver)
		want   error
		phrase string
	}{
		{"empty check", func(w *Waiver) { w.CheckID = " " }, ErrInvalid, "check id"},
		{"empty owner", func(w *Waiver) { w.Owner = "\t" }, ErrInvalid, "owner"},
		{"empty reason", func(w *Waiver) { w.Reason = "" }, ErrInvalid, "reason"},
		{"expires now", func(w *Waiver) { w.Expires = t0 }, ErrInvalid, "not in the future"},
		{"expired", func(w *Waiver) { w.Expires = t0.Add(-time.Hour) }, ErrInvalid, "not in the future"},
		{"no expiry", func(w *Waiver) { w.Expires = time.Time{} }, ErrInvalid, "not in the future"},
		{"empty host", func(w *Waiver) { w.HostID = "" }, ErrInvalid, "host id"},
		{"bad host id", func(w *Waiver) { w.HostID = "h1.example" }, ErrInvalid, "host id"},
		{"unknown host", func(w *Waiver) { w.HostID = "h9" }, ErrNotFound, "h9"},
	}
	for _, tt := range tests {
		w := ok
		tt.mod(&w)
		err := s.Waive(context.Background(), w)
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.phrase) {
			t.Errorf("%s: err = %v, want %v mentioning %q", tt.name, err, tt.want, tt.phrase)
		}
	}
	if ws, _ := s.Waivers(context.Background()); len(ws) != 0 {
		t.Errorf("refused waivers were stored: %+v", ws)
	}
	// An unknown check is accepted: a waiver may precede the check's rollout.
	for _, w := range []Waiver{ok, {HostID: AllHosts, CheckID: "not-yet", Owner: "bob", Reason: "r", Expires: t0.Add(time.Hour)}} {
		if err := s.Waive(context.Background(), w); err != nil {
			t.Errorf("Waive(%+v): %v", w, err)
		}
	}
}

// state is one deviation's state as a waiver lifecycle test sees it.
type state struct {
	Open        bool
	WaiverOwner string // "" for none
	WaiverHost  string
}

func deviationState(t *testing.T, s *Store, host, check string) state {
	t.Helper()
	h, err := s.Host(context.Background(), host)
	if err != nil {
		t.Fatal(err)
	}
	r := findResult(t, h, check)
	st := state{Open: r.Deviation}
	if r.Waiver != nil {
		st.WaiverOwner, st.WaiverHost = r.Waiver.Owner, r.Waiver.HostID
	}
	// Every view agrees with the host detail.
	devs, err := s.Deviations(context.Background(), DeviationFilter{HostID: host, CheckID: check})
	if err != nil {
		t.Fatal(err)
	}
	if (len(devs) == 1) != st.Open {
		t.Errorf("%s/%s: Deviations lists %d, host detail says open=%v", host, check, len(devs), st.Open)
	}
	all, err := s.Deviations(context.Background(), DeviationFilter{HostID: host, CheckID: check, IncludeWaived: true})
	if err != nil || len(all) != 1 {
		t.Fatalf("%s/%s with waived: %+v, %v", host, check, all, err)
	}
	if got := all[0].Waiver; (got == nil) != (st.WaiverOwner == "") || got != nil && got.Owner != st.WaiverOwner {
		t.Errorf("%s/%s: Deviations waiver %+v, host detail %+v", host, check, got, st)
	}
	return st
}

func TestWaiverLifecycle(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	s := openTest(t, Options{Now: clk.Now})
	ctx := context.Background()
	mustApply(t, s, t0, mkReport("h1", 1, fail("a"), fail("b"), pass("c")), mkReport("h2", 1, fail("a")))
	waive := func(w Waiver) {
		t.Helper()
		if err := s.Waive(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	open := state{Open: true}
	steps := []struct {
		name   string
		do     func()
		h1a    state
		h2a    state
		h1Open int
	}{
		{"no waiver", func() {}, open, open, 2},
		{"h1 waived", func() {
			waive(Waiver{HostID: "h1", CheckID: "a", Owner: "alice", Reason: "legacy app", Expires: t0.Add(24 * time.Hour)})
		}, state{false, "alice", "h1"}, open, 1},
		{"fleet-wide waiver; the host's own one wins", func() {
			waive(Waiver{HostID: AllHosts, CheckID: "a", Owner: "carol", Reason: "CAB-12", Expires: t0.Add(48 * time.Hour)})
		}, state{false, "alice", "h1"}, state{false, "carol", "*"}, 1},
		{"waiver replaced", func() {
			waive(Waiver{HostID: "h1", CheckID: "a", Owner: "bob", Reason: "extended", Expires: t0.Add(24 * time.Hour)})
		}, state{false, "bob", "h1"}, state{false, "carol", "*"}, 1},
		{"host waiver expired, fleet-wide one live", func() { clk.Set(t0.Add(24 * time.Hour)) },
			state{false, "carol", "*"}, state{false, "carol", "*"}, 1},
		{"all expired: re-opened, lapsed waiver shown", func() { clk.Set(t0.Add(48 * time.Hour)) },
			state{true, "bob", "h1"}, state{true, "carol", "*"}, 2},
		{"unwaived", func() {
			if err := s.Unwaive(ctx, "h1", "a"); err != nil {
				t.Fatal(err)
			}
		}, state{true, "carol", "*"}, state{true, "carol", "*"}, 2},
		{"fleet-wide unwaived", func() {
			if err := s.Unwaive(ctx, AllHosts, "a"); err != nil {
				t.Fatal(err)
			}
		}, open, open, 2},
	}
	for _, st := range steps {
		st.do()
		if got := deviationState(t, s, "h1", "a"); got != st.h1a {
			t.Errorf("%s: h1/a %+v, want %+v", st.name, got, st.h1a)
		}
		if got := deviationState(t, s, "h2", "a"); got != st.h2a {
			t.Errorf("%s: h2/a %+v, want %+v", st.name, got, st.h2a)
		}
		hosts, err := s.Hosts(ctx, HostFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if hosts[0].OpenDeviations != st.h1Open || hosts[0].Waived != 2-st.h1Open {
			t.Errorf("%s: h1 open %d waived %d, want %d and %d", st.name, hosts[0].OpenDeviations, hosts[0].Waived, st.h1Open, 2-st.h1Open)
		}
	}
	if err := s.Unwaive(ctx, "h1", "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Unwaive of nothing: err = %v, want ErrNotFound", err)
	}
}

func TestWaivers(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	s := openTest(t, Options{Now: clk.Now})
	ctx := context.Background()
	mustApply(t, s, t0, mkReport("h1", 1, fail("a")))
	created := t0.Add(-time.Minute)
	in := []Waiver{
		{HostID: "h1", CheckID: "b", Owner: "alice", Reason: "r1", Expires: t0.Add(time.Hour)},
		{HostID: AllHosts, CheckID: "z", Owner: "bob", Reason: "r2", Expires: t0.Add(2 * time.Hour), Created: created},
		{HostID: "h1", CheckID: "a", Owner: " carol ", Reason: " r3 ", Expires: t0.Add(3 * time.Hour)},
	}
	for _, w := range in {
		if err := s.Waive(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	clk.Set(t0.Add(90 * time.Minute)) // h1/b expired: still listed
	got, err := s.Waivers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Waiver{
		{HostID: "*", CheckID: "z", Owner: "bob", Reason: "r2", Expires: t0.Add(2 * time.Hour), Created: created},
		{HostID: "h1", CheckID: "a", Owner: "carol", Reason: "r3", Expires: t0.Add(3 * time.Hour), Created: t0},
		{HostID: "h1", CheckID: "b", Owner: "alice", Reason: "r1", Expires: t0.Add(time.Hour), Created: t0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Waivers:\n got %+v\nwant %+v", got, want)
	}
}
