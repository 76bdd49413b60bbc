// Package apitest serves the plumbline API over a real SQLite store that
// holds a small, known fleet, for the tests of the API and of its clients
// (the operator CLI). With agents, it also starts a real in-process NATS
// server and fake agents that answer scan requests, so that the scan
// endpoints run end to end.
//
// The fleet, as of Fleet.Now (Start + 1h):
//
//	web-1  group web, interval 1h   seq 1 at Start: all PASS; seq 2 at Start+10m:
//	       sudo.installed PASS, pwd.max_days FAIL (PASS_MAX_DAYS 90→99999,
//	       /etc/login.defs:12), luks.cipher ERROR
//	web-2  group web, interval 1h   seq 1 at Start: all PASS
//	db-1   group db, interval 1m    seq 1 at Start: sudo.installed FAIL (high),
//	       pwd.max_days FAIL (medium), dlp.agent_present NOT_APPLICABLE;
//	       stale (swept at Start+1h)
package apitest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/server/api"
	"github.com/plumbline/plumbline/server/command"
	"github.com/plumbline/plumbline/server/store"
)

// Start is when the fixture fleet first reported.
var Start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// Clock is a settable clock shared by the store and the API.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Options shape a Fleet.
type Options struct {
	// Agents, when any, start a NATS server and one fake agent each, and
	// give the API a command client; without them the scan endpoints
	// answer 503.
	Agents []*Agent
	// Health is passed to the API.
	Health func(ctx context.Context) error
	// Metrics is passed to the API.
	Metrics http.Handler
	// Empty leaves the store without the fixture fleet.
	Empty bool
}

// Fleet is a running API over a store holding the fixture fleet.
type Fleet struct {
	// URL is the API's base URL ("http://127.0.0.1:port").
	URL   string
	Store *store.Store
	Clock *Clock
	// NATS is the server's connection when agents were asked for.
	NATS *nats.Conn
}

// NewFleet builds the store in t.TempDir(), fills it and serves the API on
// a loopback port until the test ends. The clock stands at Start+1h.
func NewFleet(t testing.TB, o Options) *Fleet {
	t.Helper()
	clock := NewClock(Start)
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "plumbline.db"), store.Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if !o.Empty {
		fill(t, st, clock)
	} else {
		clock.Advance(time.Hour)
	}
	f := &Fleet{Store: st, Clock: clock}
	ao := api.Options{Store: st, Now: clock.Now, Health: o.Health, Metrics: o.Metrics}
	if len(o.Agents) > 0 {
		url := StartNATS(t)
		f.NATS = Connect(t, url)
		for _, a := range o.Agents {
			a.Start(t, url)
		}
		ao.Scans = &command.Client{Conn: f.NATS, Timeout: 2 * time.Second}
	}
	srv := httptest.NewServer(api.New(ao))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Result builds a result with evidence.
func Result(id string, status checks.Status, sev checks.Severity, msg string, ev ...checks.Evidence) checks.Result {
	return checks.Result{ID: id, Title: titles[id], Status: status, Severity: sev, Message: msg, Evidence: ev}
}

var titles = map[string]string{
	"sudo.installed":    "sudo is installed",
	"pwd.max_days":      "Passwords expire within 90 days",
	"luks.cipher":       "Data volumes use AES-256",
	"dlp.agent_present": "DLP agent is installed",
}

// Report builds a valid report of hostID.
func Report(hostID, group string, seq uint64, interval time.Duration, results ...checks.Result) *report.Report {
	return &report.Report{
		Schema: report.Schema, ScanID: hostID + "-scan-" + strconv.FormatUint(seq, 10), Sequence: seq,
		Host:  report.Identity{ID: hostID, IDSource: "config", Hostname: hostID + ".example.com", Region: "cn-hangzhou"},
		Facts: report.Facts{OS: "linux", Platform: "debian:12", Kernel: "6.1.0-18-amd64", Arch: "amd64"},
		Baseline: report.BaselineRef{Name: "debian-12", Version: "1", Source: "builtin",
			SHA256: "0b6f1ed5a2d64c6d1b7e5a0c0f3a3cfa4e44b0d9d2f0b1a2c3d4e5f60718293a"},
		StartedAt: Start, FinishedAt: Start, Agent: "1.0.0-test", Group: group,
		ScanIntervalSeconds: int64(interval / time.Second),
		Results:             results, Summary: report.Summarize(results),
	}
}

func fill(t testing.TB, st *store.Store, clock *Clock) {
	t.Helper()
	ctx := context.Background()
	pass := func(id string, sev checks.Severity) checks.Result {
		return Result(id, checks.StatusPass, sev, "ok")
	}
	maxDays := func(actual string, ok bool) checks.Evidence {
		return checks.Evidence{Key: "PASS_MAX_DAYS", Expected: "<= 90", Actual: actual, OK: ok, Path: "/etc/login.defs", Line: 12}
	}
	apply := func(rs ...*report.Report) {
		t.Helper()
		if _, err := st.Apply(ctx, rs, clock.Now()); err != nil {
			t.Fatalf("apply fixture reports: %v", err)
		}
	}
	apply(
		Report("web-1", "web", 1, time.Hour, pass("sudo.installed", checks.SeverityHigh),
			Result("pwd.max_days", checks.StatusPass, checks.SeverityMedium, "passwords expire", maxDays("90", true)),
			pass("luks.cipher", checks.SeverityHigh)),
		Report("web-2", "web", 1, time.Hour, pass("sudo.installed", checks.SeverityHigh),
			pass("pwd.max_days", checks.SeverityMedium), pass("luks.cipher", checks.SeverityHigh)),
		Report("db-1", "db", 1, time.Minute,
			Result("sudo.installed", checks.StatusFail, checks.SeverityHigh, "sudo is not installed",
				checks.Evidence{Key: "package sudo", Expected: "installed", Actual: "absent", Path: "/var/lib/dpkg/status"}),
			Result("pwd.max_days", checks.StatusFail, checks.SeverityMedium, "passwords never expire", maxDays("99999", false)),
			Result("dlp.agent_present", checks.StatusNotApplicable, checks.SeverityHigh, "no DLP product configured")),
	)
	clock.Advance(10 * time.Minute)
	apply(Report("web-1", "web", 2, time.Hour, pass("sudo.installed", checks.SeverityHigh),
		Result("pwd.max_days", checks.StatusFail, checks.SeverityMedium, "passwords never expire", maxDays("99999", false)),
		Result("luks.cipher", checks.StatusError, checks.SeverityHigh, "cryptsetup luksDump: timed out after 5s")))
	clock.Advance(50 * time.Minute)
	if _, err := st.SweepStale(ctx, clock.Now()); err != nil {
		t.Fatalf("sweep stale: %v", err)
	}
}

// StartNATS starts a real in-process NATS server on a random loopback
// port until the test ends and returns its URL.
func StartNATS(t testing.TB) string {
	t.Helper()
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatalf("nats-server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s.ClientURL()
}

// Connect connects to url until the test ends.
func Connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connect to NATS: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Agent answers scan requests the way plumbline-agent's command listener
// does, without scanning anything.
type Agent struct {
	HostID, Group string
	// Refuse, when set, is the reason of a refusing reply.
	Refuse string

	mu      sync.Mutex
	reasons []string
}

// Start subscribes the agent to its host, fleet and group subjects.
func (a *Agent) Start(t testing.TB, url string) {
	t.Helper()
	nc := Connect(t, url)
	subjects := []string{report.ScanSubject(a.HostID), report.FleetScanSubject}
	if a.Group != "" {
		subjects = append(subjects, report.GroupScanSubject(a.Group))
	}
	for _, s := range subjects {
		if _, err := nc.Subscribe(s, a.handle); err != nil {
			t.Fatalf("agent %s: subscribe %s: %v", a.HostID, s, err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatalf("agent %s: flush: %v", a.HostID, err)
	}
}

func (a *Agent) handle(m *nats.Msg) {
	var req report.ScanRequest
	_ = json.Unmarshal(m.Data, &req)
	a.mu.Lock()
	a.reasons = append(a.reasons, req.Reason)
	a.mu.Unlock()
	rep := report.ScanReply{HostID: a.HostID, Accepted: a.Refuse == "", Reason: a.Refuse}
	data, _ := json.Marshal(rep)
	_ = m.Respond(data)
}

// Reasons returns the reasons of the scan requests received so far.
func (a *Agent) Reasons() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.reasons...)
}
