package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/checks/report/reporttest"
	"github.com/plumbline/plumbline/server/store"
)

// benchRig is embedded NATS + stream + SQLite file, without a running
// ingester.
type benchRig struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	cons  jetstream.Consumer
	store *store.Store
}

func newBenchRig(b *testing.B) *benchRig {
	b.Helper()
	ctx := context.Background()
	nc, js, _, cons := startStream(b)
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "plumbline.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	return &benchRig{nc, js, cons, db}
}

// publishAll publishes encoded reports asynchronously and waits for every ack.
func (r *benchRig) publishAll(b *testing.B, reps []*report.Report) {
	b.Helper()
	for _, rep := range reps {
		data, _ := json.Marshal(rep)
		msg := nats.NewMsg(report.ReportSubject(rep.Host.ID))
		msg.Data = data
		if _, err := r.js.PublishMsgAsync(msg, jetstream.WithMsgID(report.MsgID(rep.Host.ID, rep.Sequence))); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-r.js.PublishAsyncComplete():
	case <-time.After(2 * time.Minute):
		b.Fatal("publish acks did not arrive")
	}
}

// fleetReports returns n reports from hosts simulated agents, ~150
// results each; in steady state about 1 report in 100 changes a check.
func fleetReports(hosts, n int, firstScan bool) []*report.Report {
	hs := make([]*reporttest.Host, hosts)
	for i := range hs {
		hs[i] = reporttest.NewHost(fmt.Sprintf("host-%05d", i), 150)
	}
	var out []*report.Report
	if !firstScan {
		for _, h := range hs {
			h.Report() // sequence 1 is the warm-up, stored before timing
		}
	}
	for i := range n {
		h := hs[i%hosts]
		if i%100 == 7 {
			h.Set(i%150, checks.StatusFail, fmt.Sprint(i))
		}
		out = append(out, h.Report())
	}
	return out
}

func benchIngest(b *testing.B, hosts int, firstScan bool) {
	r := newBenchRig(b)
	ctx := context.Background()
	in, err := New(Options{Consumer: r.cons, Store: r.store, Conn: r.nc, MaxWait: 20 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	if !firstScan {
		var first []*report.Report
		for i := range hosts {
			first = append(first, reporttest.NewHost(fmt.Sprintf("host-%05d", i), 150).Report())
		}
		if _, err := r.store.Apply(ctx, first, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	n := max(b.N, 1)
	if firstScan {
		hosts = n // every report is a new host's first
	}
	reps := fleetReports(hosts, n, firstScan)
	r.publishAll(b, reps)
	b.ResetTimer()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = in.Run(runCtx); close(done) }()
	start := time.Now()
	for {
		c := in.Counts()
		if c.Ingested+c.Duplicates+c.OutOfOrder+c.Rejected >= uint64(n) {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	el := time.Since(start)
	b.StopTimer()
	cancel()
	<-done
	if c := in.Counts(); c.Ingested != uint64(n) {
		b.Fatalf("ingested %+v of %d", c, n)
	}
	b.ReportMetric(float64(n)/el.Seconds(), "reports/s")
}

// BenchmarkIngest measures server ingest throughput: reports of 150
// results, already in the stream, fetched, validated, stored in SQLite and
// acked. Steady state: hosts that reported before, ~1% of reports with a
// change. FirstScan: every report is a host's first (150 result rows).
func BenchmarkIngest(b *testing.B) {
	b.Run("steady", func(b *testing.B) { benchIngest(b, 1000, false) })
	b.Run("first_scan", func(b *testing.B) { benchIngest(b, 0, true) })
}

// BenchmarkPublishToFlagged publishes reports at 500/s, each flipping a
// check on its host, and measures the time from publish to the drift
// event on plumbline.v1.drift.<host>. Run with -benchtime=Nx.
func BenchmarkPublishToFlagged(b *testing.B) {
	r := newBenchRig(b)
	ctx := context.Background()
	in, err := New(Options{Consumer: r.cons, Store: r.store, Conn: r.nc, MaxWait: 20 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	const hosts = 200
	hs := make([]*reporttest.Host, hosts)
	var warm []*report.Report
	for i := range hs {
		hs[i] = reporttest.NewHost(fmt.Sprintf("lat-%04d", i), 150)
		warm = append(warm, hs[i].Report())
	}
	if _, err := r.store.Apply(ctx, warm, time.Now()); err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	sent := map[string]time.Time{}
	var lat []time.Duration
	got := make(chan struct{}, 1<<16)
	sub, err := r.nc.Subscribe(report.DriftSubjects, func(m *nats.Msg) {
		now := time.Now()
		var e report.DriftEvent
		if json.Unmarshal(m.Data, &e) != nil {
			return
		}
		mu.Lock()
		if t0, ok := sent[e.ScanID]; ok {
			lat = append(lat, now.Sub(t0))
			delete(sent, e.ScanID)
			got <- struct{}{}
		}
		mu.Unlock()
	})
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Unsubscribe()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = in.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()

	n := max(b.N, 1)
	payloads := make([][]byte, n)
	reps := make([]*report.Report, n)
	for i := range n {
		h := hs[i%hosts]
		st := checks.StatusFail
		if h.Results[0].Status == checks.StatusFail {
			st = checks.StatusPass
		}
		h.Set(0, st, fmt.Sprint(i))
		reps[i] = h.Report()
		payloads[i], _ = json.Marshal(reps[i])
	}
	b.ResetTimer()
	tick := time.NewTicker(2 * time.Millisecond) // 500/s
	defer tick.Stop()
	for i := range n {
		<-tick.C
		rep := reps[i]
		msg := nats.NewMsg(report.ReportSubject(rep.Host.ID))
		msg.Data = payloads[i]
		mu.Lock()
		sent[rep.ScanID] = time.Now()
		mu.Unlock()
		if _, err := r.js.PublishMsgAsync(msg, jetstream.WithMsgID(report.MsgID(rep.Host.ID, rep.Sequence))); err != nil {
			b.Fatal(err)
		}
	}
	timeout := time.After(time.Minute)
	for range n {
		select {
		case <-got:
		case <-timeout:
			b.Fatalf("only %d of %d flagged", len(lat), n)
		}
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}
