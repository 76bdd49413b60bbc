package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/checks/report/reporttest"
	"github.com/plumbline/plumbline/server/natsd"
	"github.com/plumbline/plumbline/server/store"
)

// rig is a real embedded NATS with the report stream, a SQLite store and a
// running ingester.
type rig struct {
	t     *testing.T
	nc    *nats.Conn
	js    jetstream.JetStream
	cons  jetstream.Consumer
	store *store.Store
	in    *Ingester

	mu     sync.Mutex
	events []report.DriftEvent
}

// startStream starts a real embedded NATS with the report stream and its
// consumer, all stopped when tb ends.
func startStream(tb testing.TB) (*nats.Conn, jetstream.JetStream, jetstream.Stream, jetstream.Consumer) {
	tb.Helper()
	ctx := context.Background()
	ns, err := natsd.Start(ctx, natsd.Options{Listen: "127.0.0.1:-1", StoreDir: tb.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(ns.Shutdown)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	st, err := natsd.EnsureStream(ctx, js, natsd.StreamOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	cons, err := natsd.EnsureConsumer(ctx, st, natsd.ConsumerOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return nc, js, st, cons
}

func newRig(t *testing.T, dbPath string, mod func(*Options)) *rig {
	t.Helper()
	return newRigStore(t, dbPath, store.Options{}, mod)
}

func newRigStore(t *testing.T, dbPath string, so store.Options, mod func(*Options)) *rig {
	t.Helper()
	ctx := context.Background()
	nc, js, st, cons := startStream(t)
	if dbPath == "" {
		dbPath = filepath.Join(t.TempDir(), "plumbline.db")
	}
	db, err := store.Open(ctx, dbPath, so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	r := &rig{t: t, nc: nc, js: js, cons: cons, store: db}
	if _, err := nc.Subscribe(report.DriftSubjects, func(m *nats.Msg) {
		var e report.DriftEvent
		if err := json.Unmarshal(m.Data, &e); err != nil {
			t.Errorf("drift event %s: %v", m.Data, err)
			return
		}
		r.mu.Lock()
		r.events = append(r.events, e)
		r.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	o := Options{Consumer: cons, Store: db, Conn: nc, MaxWait: 50 * time.Millisecond, RetryDelay: 100 * time.Millisecond,
		Recover: func(ctx context.Context) (jetstream.Consumer, error) {
			return natsd.EnsureConsumer(ctx, st, natsd.ConsumerOptions{})
		}}
	if mod != nil {
		mod(&o)
	}
	if r.in, err = New(o); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = r.in.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func (r *rig) publishRaw(subject, msgID string, data []byte) {
	r.t.Helper()
	msg := nats.NewMsg(subject)
	msg.Data = data
	if _, err := r.js.PublishMsg(context.Background(), msg, jetstream.WithMsgID(msgID)); err != nil {
		r.t.Fatalf("publish %s: %v", msgID, err)
	}
}

func (r *rig) publish(rep *report.Report) {
	r.t.Helper()
	data, err := json.Marshal(rep)
	if err != nil {
		r.t.Fatal(err)
	}
	r.publishRaw(report.ReportSubject(rep.Host.ID), report.MsgID(rep.Host.ID, rep.Sequence), data)
}

// settled waits until the consumer has acknowledged every message in the
// stream (the ingester acks only after its transaction commits). "Nothing
// pending or unacked" alone can be seen for a moment before the consumer
// has taken in a message just stored.
func (r *rig) settled() {
	r.t.Helper()
	eventually(r.t, "stream drained", func() bool {
		info, err := r.cons.Info(context.Background())
		if err != nil || info.NumPending != 0 || info.NumAckPending != 0 {
			return false
		}
		st, err := r.js.Stream(context.Background(), info.Stream)
		if err != nil {
			return false
		}
		sinfo, err := st.Info(context.Background())
		return err == nil && info.AckFloor.Stream >= sinfo.State.LastSeq
	})
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rig) drift(host string) []report.DriftEvent {
	r.t.Helper()
	evs, err := r.store.Drift(context.Background(), store.DriftFilter{HostID: host})
	if err != nil {
		r.t.Fatal(err)
	}
	return evs
}

func kinds(evs []report.DriftEvent) string {
	var ks []string
	for i := len(evs) - 1; i >= 0; i-- { // oldest first
		k := string(evs[i].Kind)
		if evs[i].CheckID != "" {
			k += ":" + evs[i].CheckID
		}
		ks = append(ks, k)
	}
	return strings.Join(ks, " ")
}

func TestMalformedMessagesAreRejectedAndDoNotBlock(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", func(o *Options) { o.MaxReportBytes = 256 << 10 })
	good := reporttest.NewHost("good-host", 10)
	valid, _ := json.Marshal(good.ReportAt(1))
	wrongSchema := strings.Replace(string(valid), report.Schema, "plumbline.report/v9", 1)
	badStatus := strings.Replace(string(valid), `"status":"PASS"`, `"status":"GREEN"`, 1)
	seqZero, _ := json.Marshal(good.ReportAt(0))
	other := reporttest.NewHost("other-host", 3)
	otherData, _ := json.Marshal(other.ReportAt(1))
	big := reporttest.NewHost("big-host", 10)
	for i := range big.Results {
		big.Results[i].Message = strings.Repeat("x", 30<<10)
	}
	bigData, _ := json.Marshal(big.ReportAt(1))
	// Valid on the wire but refused by the store (SQLite integers are
	// signed): rejected, not retried forever.
	hugeSeq, _ := json.Marshal(reporttest.NewHost("huge-host", 3).ReportAt(1 << 63))

	cases := []struct {
		name, subject string
		data          []byte
		reason        string
	}{
		{"garbage", report.ReportSubject("good-host"), []byte("\x00\xffnot json at all"), "malformed:"},
		{"truncated", report.ReportSubject("good-host"), valid[:len(valid)/2], "malformed:"},
		{"wrong schema", report.ReportSubject("good-host"), []byte(wrongSchema), "schema:"},
		{"invalid status", report.ReportSubject("good-host"), []byte(badStatus), "invalid:"},
		{"sequence zero", report.ReportSubject("good-host"), seqZero, "invalid:"},
		{"host mismatch", report.ReportSubject("good-host"), otherData, "host_mismatch:"},
		{"oversized", report.ReportSubject("big-host"), bigData, "oversized:"},
		{"sequence beyond the store", report.ReportSubject("huge-host"), hugeSeq, "invalid:"},
	}
	for i, c := range cases {
		r.publishRaw(c.subject, fmt.Sprintf("bad-%d", i), c.data)
	}
	// A valid report behind all of them still gets through.
	r.publish(good.ReportAt(1))
	r.settled()

	rej, err := r.store.Rejected(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != len(cases) {
		t.Fatalf("%d rejected, want %d: %+v", len(rej), len(cases), rej)
	}
	for _, c := range cases {
		found := false
		for _, rj := range rej {
			if strings.HasPrefix(rj.Reason, c.reason) && rj.Subject == c.subject && len(rj.Data) > 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no rejection with reason %q kept", c.name, c.reason)
		}
	}
	if c := r.in.Counts(); c.Rejected != uint64(len(cases)) || c.Ingested != 1 {
		t.Errorf("counts %+v", c)
	}
	if got := kinds(r.drift("good-host")); got != "new_host" {
		t.Errorf("drift %q", got)
	}
	if hs, _ := r.store.Hosts(context.Background(), store.HostFilter{}); len(hs) != 1 {
		t.Errorf("hosts %+v: a rejected report must not create a host", hs)
	}
}

func TestDuplicateAndOutOfOrderReportsCreateNoDrift(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", nil)
	h := reporttest.NewHost("h1", 20)
	r.publish(h.ReportAt(1))
	h.Set(0, checks.StatusFail, "8") // PASS→FAIL in report 3
	r3 := h.ReportAt(3)
	r.publish(r3)
	r.settled()
	// Report 2 arrives late and claims check 0 passes: no drift.
	h.Set(0, checks.StatusPass, "14")
	r.publish(h.ReportAt(2))
	// Report 3 redelivered under another message id (the dedupe window
	// passed): stored once.
	data, _ := json.Marshal(r3)
	r.publishRaw(report.ReportSubject("h1"), "h1:3:again", data)
	r.settled()

	if got, want := kinds(r.drift("h1")), "new_host regressed:bench.check_000"; got != want {
		t.Errorf("drift = %q, want %q", got, want)
	}
	c := r.in.Counts()
	if c.Ingested != 2 || c.OutOfOrder != 1 || c.Duplicates != 1 {
		t.Errorf("counts %+v", c)
	}
	d, err := r.store.Host(context.Background(), "h1")
	if err != nil || d.LastSequence != 3 {
		t.Fatalf("host %+v %v", d, err)
	}
	// The drift events were also published, once each.
	eventually(t, "published drift", func() bool { r.mu.Lock(); defer r.mu.Unlock(); return len(r.events) == 2 })
	time.Sleep(100 * time.Millisecond)
	r.mu.Lock()
	if len(r.events) != 2 || r.events[1].Kind != report.DriftRegressed || r.events[1].CheckID != "bench.check_000" || r.events[1].Schema != report.DriftSchema {
		t.Errorf("published %+v", r.events)
	}
	r.mu.Unlock()
}

// mountTmpfs mounts a small tmpfs for disk-full and read-only faults, or
// skips when this machine does not allow mounts.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to simulate a full or read-only disk here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

func TestDiskFullThenFreedLosesNothing(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, "4m")
	r := newRig(t, filepath.Join(dir, "plumbline.db"), nil)
	hosts := make([]*reporttest.Host, 20)
	for i := range hosts {
		hosts[i] = reporttest.NewHost(fmt.Sprintf("host-%02d", i), 150)
	}
	r.publish(hosts[0].ReportAt(1))
	r.settled()
	// Fill the disk.
	filler := filepath.Join(dir, "filler")
	_ = exec.Command("dd", "if=/dev/zero", "of="+filler, "bs=64k").Run()
	for _, h := range hosts[1:] {
		r.publish(h.ReportAt(1))
	}
	eventually(t, "ingest to report the store failing", func() bool { return r.in.Healthy() != nil })
	if err := r.in.Healthy(); !strings.Contains(err.Error(), "full") {
		t.Errorf("health error %q does not say the disk is full", err)
	}
	if c := r.in.Counts(); c.Rejected != 0 {
		t.Fatalf("a store failure must not reject reports: %+v", c)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	r.settled()
	eventually(t, "healthy again", func() bool { return r.in.Healthy() == nil })
	hs, err := r.store.Hosts(context.Background(), store.HostFilter{})
	if err != nil || len(hs) != len(hosts) {
		t.Fatalf("%d hosts stored after the disk was freed, want %d (%v)", len(hs), len(hosts), err)
	}
	if c := r.in.Counts(); c.Ingested != uint64(len(hosts)) || c.FailedBatches == 0 {
		t.Errorf("counts %+v", c)
	}
}

func TestHeartbeatsRecorded(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", nil)
	h := reporttest.NewHost("hb-host", 5)
	r.publish(h.ReportAt(1))
	r.settled()
	hb, err := RunHeartbeats(t.Context(), r.nc, r.store, time.Hour, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The agent's clock is an hour ahead; the server stamps its own time.
	before := time.Now()
	at := before.Add(time.Hour).UTC()
	beat := func(subject string, v report.Heartbeat) {
		data, _ := json.Marshal(v)
		if err := r.nc.Publish(subject, data); err != nil {
			t.Fatal(err)
		}
	}
	good := report.Heartbeat{Schema: report.HeartbeatSchema, HostID: "hb-host", At: at, AgentVersion: "v9", ScanIntervalSeconds: 600,
		LastScanError: "pick a baseline: no os-release", Spooled: 3, SpoolDropped: 1}
	beat(report.HeartbeatSubject("hb-host"), good)
	// Another host's heartbeat on this host's subject, and garbage, are
	// ignored.
	spoof := good
	spoof.HostID, spoof.At = "other", at.Add(time.Hour)
	beat(report.HeartbeatSubject("hb-host"), spoof)
	_ = r.nc.Publish(report.HeartbeatSubject("hb-host"), []byte("{"))
	_ = r.nc.Flush()
	eventually(t, "heartbeats received", func() bool { rec, bad := hb.Counts(); return rec == 1 && bad == 2 })
	hb.Flush(t.Context())
	d, err := r.store.Host(t.Context(), "hb-host")
	if err != nil {
		t.Fatal(err)
	}
	if d.LastHeartbeatAt.Before(before) || d.LastHeartbeatAt.After(time.Now()) || d.IntervalSeconds != 600 {
		t.Errorf("heartbeat stored at %v interval %d, want the server's receive time and 600", d.LastHeartbeatAt, d.IntervalSeconds)
	}
	if d.AgentError != good.LastScanError || d.Spooled != 3 || d.SpoolDropped != 1 || d.AgentVersion != "v9" {
		t.Errorf("agent health not kept: %+v", d.HostSummary)
	}
}

// A database locked by another process (a backup, the sqlite3 shell) for
// longer than the busy timeout delays reports; it never rejects them.
func TestLockedDatabaseDelaysButRejectsNothing(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "plumbline.db")
	r := newRigStore(t, dbPath, store.Options{BusyTimeout: 100 * time.Millisecond}, nil)
	r.publish(reporttest.NewHost("lock-0", 10).ReportAt(1))
	r.settled()
	other, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		r.publish(reporttest.NewHost(fmt.Sprintf("lock-%d", i), 10).ReportAt(1))
	}
	eventually(t, "ingest to notice the lock", func() bool { return r.in.Healthy() != nil })
	if !errors.Is(r.in.Healthy(), store.ErrBusy) {
		t.Errorf("health error %v is not ErrBusy", r.in.Healthy())
	}
	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	r.settled()
	if c := r.in.Counts(); c.Ingested != 4 || c.Rejected != 0 {
		t.Errorf("counts %+v, want 4 ingested and none rejected", c)
	}
}

// A deleted consumer (an operator's "nats consumer rm", or JetStream
// restarting after a full disk) makes ingest unhealthy, and it recovers by
// making the consumer again; nothing published meanwhile is lost.
func TestConsumerDeletedIsRecovered(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", nil)
	r.publish(reporttest.NewHost("rec-0", 5).ReportAt(1))
	r.settled()
	st, err := r.js.Stream(t.Context(), report.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteConsumer(t.Context(), natsd.ConsumerName); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ingest to report the lost consumer", func() bool { return r.in.Healthy() != nil })
	t.Logf("while the consumer is gone: %v", r.in.Healthy())
	r.publish(reporttest.NewHost("rec-1", 5).ReportAt(1))
	eventually(t, "both reports ingested", func() bool { return r.in.Counts().Ingested == 2 })
	eventually(t, "healthy again", func() bool { return r.in.Healthy() == nil })
}
