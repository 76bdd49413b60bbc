package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
)

const hostID = "0123456789abcdef0123456789abcdef"

// startNATS starts a real JetStream server on port (-1: random) with its
// store in dir, and creates the report stream.
func startNATS(t *testing.T, dir string, port int) *natsserver.Server {
	t.Helper()
	s, err := natsserver.NewServer(&natsserver.Options{
		Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoSigs: true, NoLog: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	_, err = js.CreateOrUpdateStream(context.Background(), jetstream.StreamConfig{
		Name: report.StreamName, Subjects: []string{report.ReportSubjects},
		Storage: jetstream.FileStorage, Duplicates: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeScan returns a small valid report per call; block, when set, holds
// each scan until it is closed.
type fakeScan struct {
	calls atomic.Int64
	block chan struct{}
	mu    sync.Mutex
	seqs  []uint64
}

func (f *fakeScan) scan(ctx context.Context, seq uint64) (*report.Report, error) {
	f.calls.Add(1)
	f.mu.Lock()
	f.seqs = append(f.seqs, seq)
	f.mu.Unlock()
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, fmt.Errorf("scan interrupted: %w", ctx.Err())
		}
	}
	res := []checks.Result{{ID: "sudo.use_pty", Title: "t", Status: checks.StatusPass, Severity: checks.SeverityHigh}}
	return &report.Report{
		Schema: report.Schema, ScanID: "scan-" + strconv.FormatUint(seq, 10), Sequence: seq,
		Host:     report.Identity{ID: hostID, IDSource: "config"},
		Baseline: report.BaselineRef{Name: "b", SHA256: "x"}, Plugins: []report.PluginRef{},
		Results: res, Summary: report.Summarize(res),
	}, nil
}

func newDaemon(t *testing.T, url string, f *fakeScan, mod func(*Options)) *Daemon {
	t.Helper()
	o := Options{
		HostID: hostID, DataDir: t.TempDir(), NATSURL: url,
		ReconnectWait: 50 * time.Millisecond, ReconnectJitter: 10 * time.Millisecond,
		PublishTimeout: 2 * time.Second, Interval: time.Hour, ScanAtStart: true,
		HeartbeatInterval: 100 * time.Millisecond, Scan: f.scan, Version: "test",
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if mod != nil {
		mod(&o)
	}
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func runDaemon(t *testing.T, d *Daemon) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("daemon did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// streamed returns the sequences of the reports in the stream, in order.
func streamed(t *testing.T, url string) []uint64 {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	st, err := js.Stream(ctx, report.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for i := info.State.FirstSeq; i <= info.State.LastSeq && info.State.Msgs > 0; i++ {
		m, err := st.GetMsg(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		r, err := report.Decode(m.Data)
		if err != nil {
			t.Fatalf("stream message %d: %v", i, err)
		}
		if got, want := m.Header.Get(jetstream.MsgIDHeader), report.MsgID(r.Host.ID, r.Sequence); got != want {
			t.Errorf("Nats-Msg-Id = %q, want %q", got, want)
		}
		if m.Subject != report.ReportSubject(r.Host.ID) {
			t.Errorf("subject %s", m.Subject)
		}
		seqs = append(seqs, r.Sequence)
	}
	return seqs
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestScanAtStartIsPublishedWithDedupeID(t *testing.T) {
	t.Parallel()
	s := startNATS(t, t.TempDir(), -1)
	defer s.Shutdown()
	f := &fakeScan{}
	d := newDaemon(t, s.ClientURL(), f, nil)
	runDaemon(t, d)
	eventually(t, "one published report", func() bool { return d.Stats().Published == 1 })
	seqs := streamed(t, s.ClientURL())
	if len(seqs) != 1 || d.Stats().Spooled != 0 {
		t.Fatalf("stream %v, stats %+v", seqs, d.Stats())
	}
	// The sequence is floored at the clock, so a wiped agent still counts up.
	if seqs[0] < uint64(time.Now().Add(-time.Minute).UnixMilli()) {
		t.Errorf("sequence %d below the clock floor", seqs[0])
	}
}

func TestOnDemandScansHostFleetAndGroup(t *testing.T) {
	t.Parallel()
	s := startNATS(t, t.TempDir(), -1)
	defer s.Shutdown()
	f := &fakeScan{}
	d := newDaemon(t, s.ClientURL(), f, func(o *Options) { o.ScanAtStart = false; o.Group = "web" })
	runDaemon(t, d)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	subjects := []string{report.ScanSubject(hostID), report.FleetScanSubject, report.GroupScanSubject("web")}
	for i, subj := range subjects {
		var m *nats.Msg
		// The agent subscribes once connected; retry until it answers.
		eventually(t, "agent answering on "+subj, func() bool {
			m, err = nc.Request(subj, []byte(`{"reason":"test"}`), time.Second)
			return err == nil
		})
		var rep report.ScanReply
		if err := json.Unmarshal(m.Data, &rep); err != nil || !rep.Accepted || rep.HostID != hostID {
			t.Fatalf("%s: reply %s (%v)", subj, m.Data, err)
		}
		eventually(t, "report after request", func() bool { return d.Stats().Published == uint64(i+1) })
	}
	if got := len(streamed(t, s.ClientURL())); got != 3 {
		t.Errorf("stream holds %d reports, want 3", got)
	}
	// A bad request body is answered, not obeyed.
	m, err := nc.Request(report.ScanSubject(hostID), []byte(`{`), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var rep report.ScanReply
	if json.Unmarshal(m.Data, &rep); rep.Accepted || rep.Reason == "" {
		t.Errorf("bad request accepted: %s", m.Data)
	}
}

// freePort returns a port that was free a moment ago, so that a NATS
// server can be stopped and started again at the same address.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestNATSOutageSpoolsThenDrainsInOrder(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	store := t.TempDir()
	f := &fakeScan{}
	// NATS is down when the agent starts: the daemon must still run.
	d := newDaemon(t, url, f, func(o *Options) { o.ScanAtStart = false })
	runDaemon(t, d)
	for range 3 {
		d.requests <- "test"
		eventually(t, "scan", func() bool { return d.Stats().Scans == f.Load() })
	}
	eventually(t, "three spooled", func() bool { return d.Stats().Spooled == 3 })
	if d.Stats().Published != 0 {
		t.Fatal("published without a server")
	}
	s := startNATS(t, store, port)
	defer s.Shutdown()
	eventually(t, "spool drained", func() bool { return d.Stats().Spooled == 0 })
	seqs := streamed(t, s.ClientURL())
	if len(seqs) != 3 || !(seqs[0] < seqs[1] && seqs[1] < seqs[2]) {
		t.Fatalf("stream order %v", seqs)
	}
}

func (f *fakeScan) Load() uint64 { return uint64(f.calls.Load()) }

func TestSpoolBoundDropsOldestAndCounts(t *testing.T) {
	t.Parallel()
	f := &fakeScan{}
	d := newDaemon(t, fmt.Sprintf("nats://127.0.0.1:%d", freePort(t)), f, func(o *Options) {
		o.ScanAtStart = false
		o.SpoolMaxReports = 2
	})
	runDaemon(t, d)
	for range 4 {
		d.requests <- "test"
		eventually(t, "scan", func() bool { return d.Stats().Scans == f.Load() })
	}
	eventually(t, "spool at its bound", func() bool { return d.Stats().SpoolDropped == 2 })
	items, err := d.spool.Items()
	if err != nil || len(items) != 2 {
		t.Fatalf("spool items %v %v", items, err)
	}
	if items[0].Seq != f.seqs[2] || items[1].Seq != f.seqs[3] {
		t.Errorf("kept %v, want the two newest of %v", items, f.seqs)
	}
}

func TestShutdownFinishesScanInFlight(t *testing.T) {
	t.Parallel()
	s := startNATS(t, t.TempDir(), -1)
	defer s.Shutdown()
	f := &fakeScan{block: make(chan struct{})}
	d := newDaemon(t, s.ClientURL(), f, func(o *Options) { o.ShutdownGrace = 10 * time.Second })
	stop := runDaemon(t, d)
	eventually(t, "scan in flight", func() bool { return f.calls.Load() == 1 })
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	time.Sleep(100 * time.Millisecond)
	close(f.block) // the scan finishes during the grace period
	<-stopped
	if got := streamed(t, s.ClientURL()); len(got) != 1 {
		t.Fatalf("scan in flight at shutdown: stream %v, stats %+v", got, d.Stats())
	}
}

func TestShutdownAbandonsScanAfterGrace(t *testing.T) {
	t.Parallel()
	s := startNATS(t, t.TempDir(), -1)
	defer s.Shutdown()
	f := &fakeScan{block: make(chan struct{})}
	d := newDaemon(t, s.ClientURL(), f, func(o *Options) { o.ShutdownGrace = 200 * time.Millisecond })
	stop := runDaemon(t, d)
	eventually(t, "scan in flight", func() bool { return f.calls.Load() == 1 })
	start := time.Now()
	stop()
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("shutdown took %v", el)
	}
	if st := d.Stats(); st.Published != 0 || st.Spooled != 0 || st.ScanErrors != 1 {
		t.Errorf("an interrupted scan must not become a report: %+v", st)
	}
}

func TestSpoolSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	port := freePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	f := &fakeScan{}
	d := newDaemon(t, url, f, func(o *Options) { o.DataDir = dir })
	stop := runDaemon(t, d)
	eventually(t, "spooled", func() bool { return d.Stats().Spooled == 1 })
	first := d.Stats().LastSequence
	stop()

	s := startNATS(t, t.TempDir(), port)
	defer s.Shutdown()
	d2 := newDaemon(t, url, f, func(o *Options) { o.DataDir = dir; o.ScanAtStart = false })
	runDaemon(t, d2)
	eventually(t, "earlier run's report delivered", func() bool { return d2.Stats().Spooled == 0 && d2.Stats().Published == 1 })
	if got := streamed(t, url); len(got) != 1 || got[0] != first {
		t.Errorf("stream %v, want [%d]", got, first)
	}
	// The next sequence continues above the persisted one.
	seq, err := d2.nextSeq()
	if err != nil || seq <= first {
		t.Errorf("next sequence %d after %d (%v)", seq, first, err)
	}
}

func TestHeartbeats(t *testing.T) {
	t.Parallel()
	s := startNATS(t, t.TempDir(), -1)
	defer s.Shutdown()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync(report.HeartbeatSubject(hostID))
	if err != nil {
		t.Fatal(err)
	}
	d := newDaemon(t, s.ClientURL(), &fakeScan{}, nil)
	runDaemon(t, d)
	for range 2 {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var hb report.Heartbeat
		if err := json.Unmarshal(m.Data, &hb); err != nil || hb.Validate() != nil || hb.ScanIntervalSeconds != 3600 || hb.AgentVersion != "test" {
			t.Fatalf("heartbeat %s (%v)", m.Data, err)
		}
	}
}

func TestOptionsValidated(t *testing.T) {
	t.Parallel()
	for name, mod := range map[string]func(*Options){
		"bad host id": func(o *Options) { o.HostID = "a.b" },
		"bad group":   func(o *Options) { o.Group = "a b" },
		"no scan":     func(o *Options) { o.Scan = nil },
		"no data dir": func(o *Options) { o.DataDir = "" },
	} {
		o := Options{HostID: hostID, DataDir: t.TempDir(), Scan: (&fakeScan{}).scan}
		mod(&o)
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A server that refuses the agent's credentials makes nats.go give up; the
// daemon must then stop with the reason, not spool silently forever.
func TestRefusedCredentialsStopTheDaemon(t *testing.T) {
	t.Parallel()
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true,
		Username: "agent", Password: "right"})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("not ready")
	}
	defer s.Shutdown()
	d := newDaemon(t, s.ClientURL(), &fakeScan{}, func(o *Options) {
		o.NATSOptions = []nats.Option{nats.UserInfo("agent", "wrong")}
	})
	done := make(chan error, 1)
	go func() { done <- d.Run(context.Background()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "uthorization") {
			t.Errorf("Run = %v, want the authorization failure", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("daemon kept running with refused credentials")
	}
}

// A report the stream refuses for its size can never be delivered: it is
// counted and removed, so that it does not block the reports behind it.
func TestReportAboveStreamLimitDoesNotBlockSpool(t *testing.T) {
	t.Parallel()
	s := startNATS(t, t.TempDir(), -1)
	defer s.Shutdown()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.UpdateStream(context.Background(), jetstream.StreamConfig{
		Name: report.StreamName, Subjects: []string{report.ReportSubjects},
		Storage: jetstream.FileStorage, Duplicates: time.Hour, MaxMsgSize: 200,
	}); err != nil {
		t.Fatal(err)
	}
	d := newDaemon(t, s.ClientURL(), &fakeScan{}, nil)
	runDaemon(t, d)
	eventually(t, "report dropped as undeliverable", func() bool { st := d.Stats(); return st.Undeliverable == 1 && st.Spooled == 0 })
}

// With the agent's disk full the spool refuses reports; they are held in
// memory and still delivered.
func TestFullDiskReportsStillDelivered(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	s := startNATS(t, t.TempDir(), -1)
	defer s.Shutdown()
	f := &fakeScan{}
	d := newDaemon(t, s.ClientURL(), f, func(o *Options) { o.DataDir = dir; o.ScanAtStart = false })
	_ = exec.Command("dd", "if=/dev/zero", "of="+filepath.Join(dir, "filler"), "bs=4k").Run()
	runDaemon(t, d)
	for range 2 {
		d.requests <- "test"
		eventually(t, "scan", func() bool { return d.Stats().Scans == f.Load() })
	}
	eventually(t, "both delivered from memory", func() bool { return d.Stats().Published == 2 })
	if got := streamed(t, s.ClientURL()); len(got) != 2 || got[0] >= got[1] {
		t.Errorf("stream %v", got)
	}
}
