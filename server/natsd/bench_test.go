package natsd

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plumbline/plumbline/checks/report"
)

// benchReportSize is the size of a typical report (a few hundred results
// with evidence, as JSON).
const benchReportSize = 30 << 10

// benchServer starts an embedded server and sets up the report stream and
// consumer, as the plumbline server does at start.
func benchServer(b *testing.B, syncAlways bool) (jetstream.JetStream, jetstream.Consumer) {
	b.Helper()
	s, err := Start(b.Context(), Options{Listen: "127.0.0.1:-1", StoreDir: b.TempDir(), SyncAlways: syncAlways, Logger: testLogger(b)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Shutdown)
	_, js := connect(b, s)
	_, c := ensure(b, js, StreamOptions{MaxBytes: -1}, ConsumerOptions{})
	return js, c
}

// BenchmarkPublishAck measures the agent's path: one report at a time,
// with its dedupe id, waiting for the stream's ack before the next.
func BenchmarkPublishAck(b *testing.B) {
	for _, bc := range []struct {
		name       string
		syncAlways bool
	}{{"sync_interval", false}, {"sync_always", true}} {
		b.Run(bc.name, func(b *testing.B) {
			js, _ := benchServer(b, bc.syncAlways)
			ctx := b.Context()
			body := make([]byte, benchReportSize)
			b.SetBytes(benchReportSize)
			var seq uint64
			for b.Loop() {
				seq++
				if _, err := publish(ctx, js, "bench-host", seq, body); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(seq)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkFetchAck measures the server's path: fetch reports in batches
// with the durable consumer and ack each. The stream is refilled between
// rounds with the timer stopped, so that it stays small.
func BenchmarkFetchAck(b *testing.B) {
	const round, batchSize = 2000, 256
	js, c := benchServer(b, false)
	ctx := b.Context()
	body := make([]byte, benchReportSize)
	b.SetBytes(benchReportSize)
	var seq uint64
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		n := min(round, b.N-done)
		fill(ctx, b, js, &seq, n, body)
		b.StartTimer()

		for got := 0; got < n; {
			batch, err := c.Fetch(min(batchSize, n-got), jetstream.FetchMaxWait(5*time.Second))
			if err != nil {
				b.Fatal(err)
			}
			for m := range batch.Messages() {
				if err := m.Ack(); err != nil {
					b.Fatal(err)
				}
				got++
			}
			if err := batch.Error(); err != nil {
				b.Fatal(err)
			}
		}
		done += n
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// fill publishes n reports asynchronously and waits for their acks.
func fill(ctx context.Context, b *testing.B, js jetstream.JetStream, seq *uint64, n int, body []byte) {
	b.Helper()
	for range n {
		*seq++
		msg := nats.NewMsg(report.ReportSubject("bench-host"))
		msg.Data = body
		if _, err := js.PublishMsgAsync(msg, jetstream.WithMsgID(report.MsgID("bench-host", *seq))); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		b.Fatal(ctx.Err())
	case <-time.After(time.Minute):
		b.Fatal("async publishes not acked within a minute")
	}
}
