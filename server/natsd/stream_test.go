package natsd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plumbline/plumbline/checks/report"
)

// ensure sets up the report stream and consumer on a fresh embedded server.
func ensure(t testing.TB, js jetstream.JetStream, so StreamOptions, co ConsumerOptions) (jetstream.Stream, jetstream.Consumer) {
	t.Helper()
	s, err := EnsureStream(t.Context(), js, so)
	if err != nil {
		t.Fatalf("EnsureStream: %v", err)
	}
	c, err := EnsureConsumer(t.Context(), s, co)
	if err != nil {
		t.Fatalf("EnsureConsumer: %v", err)
	}
	return s, c
}

// publish publishes a report of host with sequence seq the way agents do.
func publish(ctx context.Context, js jetstream.JetStream, host string, seq uint64, body []byte) (*jetstream.PubAck, error) {
	msg := nats.NewMsg(report.ReportSubject(host))
	msg.Data = body
	return js.PublishMsg(ctx, msg, jetstream.WithMsgID(report.MsgID(host, seq)))
}

// fetch fetches up to n reports, waiting at most wait for them.
func fetch(t testing.TB, c jetstream.Consumer, n int, wait time.Duration) []jetstream.Msg {
	t.Helper()
	batch, err := c.Fetch(n, jetstream.FetchMaxWait(wait))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("Fetch batch: %v", err)
	}
	return msgs
}

func streamMsgs(t testing.TB, s jetstream.Stream) uint64 {
	t.Helper()
	info, err := s.Info(t.Context())
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	return info.State.Msgs
}

func TestEnsureIsIdempotent(t *testing.T) {
	t.Parallel()
	_, js := connect(t, startServer(t, t.TempDir()))
	ctx := t.Context()
	ensure(t, js, StreamOptions{}, ConsumerOptions{})
	if _, err := publish(ctx, js, "host-a", 1, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	s, c := ensure(t, js, StreamOptions{}, ConsumerOptions{}) // a server restart

	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := info.Config
	if got.Retention != jetstream.WorkQueuePolicy || got.Discard != jetstream.DiscardNew ||
		got.Storage != jetstream.FileStorage || len(got.Subjects) != 1 || got.Subjects[0] != report.ReportSubjects ||
		got.Duplicates != DefaultDuplicates || got.MaxAge != DefaultMaxAge ||
		got.MaxBytes != DefaultMaxBytes || got.MaxMsgSize != DefaultMaxMsgSize {
		t.Errorf("stream config = %+v; want work queue, discard new, file, defaults", got)
	}
	if info.State.Msgs != 1 {
		t.Errorf("stream holds %d reports after the second EnsureStream; want the 1 published", info.State.Msgs)
	}
	ci, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cc := ci.Config
	if cc.Durable != ConsumerName || cc.AckPolicy != jetstream.AckExplicitPolicy || cc.AckWait != DefaultAckWait ||
		cc.MaxDeliver != DefaultMaxDeliver || cc.MaxAckPending != DefaultMaxAckPending || cc.FilterSubject != report.ReportSubjects {
		t.Errorf("consumer config = %+v; want durable %s, explicit ack, defaults", cc, ConsumerName)
	}
	if ci.NumPending != 1 {
		t.Errorf("consumer has %d pending; want 1 (its position kept)", ci.NumPending)
	}

	// Changed settings are applied in place.
	s, c = ensure(t, js, StreamOptions{Duplicates: 10 * time.Minute, MaxBytes: 1 << 30}, ConsumerOptions{AckWait: time.Minute})
	if got := s.CachedInfo().Config; got.Duplicates != 10*time.Minute || got.MaxBytes != 1<<30 {
		t.Errorf("after update: duplicates %s, max bytes %d; want 10m, 1 GiB", got.Duplicates, got.MaxBytes)
	}
	if got := c.CachedInfo().Config.AckWait; got != time.Minute {
		t.Errorf("after update: ack wait %s; want 1m", got)
	}
	if n := streamMsgs(t, s); n != 1 {
		t.Errorf("stream holds %d reports after the update; want 1", n)
	}
}

func TestEnsureRejectsBadOptions(t *testing.T) {
	t.Parallel()
	_, js := connect(t, startServer(t, t.TempDir()))
	streams := []struct {
		name string
		o    StreamOptions
		want string
	}{
		{"window beyond max age", StreamOptions{Duplicates: 2 * time.Hour, MaxAge: time.Hour}, "exceeds max age"},
		{"negative window", StreamOptions{Duplicates: -time.Second}, "negative"},
		{"replicas", StreamOptions{Replicas: 7}, "replicas"},
		// The server, not our validation, refuses this one.
		{"replicas on a single server", StreamOptions{Replicas: 3}, "create or update stream"},
	}
	for _, tc := range streams {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := EnsureStream(t.Context(), js, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("EnsureStream error = %v; want one containing %q", err, tc.want)
			}
		})
	}
	s, err := EnsureStream(t.Context(), js, StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	consumers := []struct {
		name string
		o    ConsumerOptions
		want string
	}{
		{"negative ack wait", ConsumerOptions{AckWait: -time.Second}, "ack wait"},
		{"max deliver", ConsumerOptions{MaxDeliver: -2}, "max deliver"},
		{"max ack pending", ConsumerOptions{MaxAckPending: -1}, "max ack pending"},
	}
	for _, tc := range consumers {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := EnsureConsumer(t.Context(), s, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("EnsureConsumer error = %v; want one containing %q", err, tc.want)
			}
		})
	}
}

func TestEnsureStreamRefusesOtherRetention(t *testing.T) {
	t.Parallel()
	_, js := connect(t, startServer(t, t.TempDir()))
	// A stream of the same name created by hand with limits retention must
	// not be silently reused: acked reports would pile up in it.
	if _, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: StreamName, Subjects: []string{report.ReportSubjects}}); err != nil {
		t.Fatal(err)
	}
	_, err := EnsureStream(t.Context(), js, StreamOptions{})
	if err == nil || !strings.Contains(err.Error(), "retention") {
		t.Errorf("EnsureStream over a limits stream: %v; want a retention error", err)
	}
}

func TestPublishIsDeduplicated(t *testing.T) {
	t.Parallel()
	_, js := connect(t, startServer(t, t.TempDir()))
	s, _ := ensure(t, js, StreamOptions{}, ConsumerOptions{})
	ctx := t.Context()

	first, err := publish(ctx, js, "host-a", 7, []byte(`{"seq":7}`))
	if err != nil {
		t.Fatal(err)
	}
	// The agent re-publishes from its spool because the first ack was lost.
	again, err := publish(ctx, js, "host-a", 7, []byte(`{"seq":7}`))
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || !again.Duplicate || again.Sequence != first.Sequence {
		t.Errorf("acks = %+v, %+v; want the second a duplicate of the first", first, again)
	}
	if _, err := publish(ctx, js, "host-b", 7, []byte(`{"seq":7}`)); err != nil {
		t.Fatal(err)
	}
	if n := streamMsgs(t, s); n != 2 {
		t.Errorf("stream holds %d reports; want 2 (host-a:7 once, host-b:7)", n)
	}
}

func TestFetchAndAck(t *testing.T) {
	t.Parallel()
	_, js := connect(t, startServer(t, t.TempDir()))
	s, c := ensure(t, js, StreamOptions{}, ConsumerOptions{})
	ctx := t.Context()
	for seq := range uint64(5) {
		if _, err := publish(ctx, js, "host-a", seq+1, fmt.Appendf(nil, `{"seq":%d}`, seq+1)); err != nil {
			t.Fatal(err)
		}
	}

	msgs := fetch(t, c, 5, time.Second)
	if len(msgs) != 5 {
		t.Fatalf("fetched %d reports; want 5", len(msgs))
	}
	for i, m := range msgs {
		if want := fmt.Sprintf(`{"seq":%d}`, i+1); string(m.Data()) != want {
			t.Errorf("report %d = %s; want %s (in order)", i, m.Data(), want)
		}
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatalf("ack: %v", err)
		}
	}
	// Work queue: an acked report is gone from the stream.
	if n := streamMsgs(t, s); n != 0 {
		t.Errorf("stream holds %d reports after all were acked; want 0", n)
	}
	ci, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ci.NumAckPending != 0 || ci.NumPending != 0 {
		t.Errorf("consumer ack pending %d, pending %d; want 0, 0", ci.NumAckPending, ci.NumPending)
	}
}

func TestRestartKeepsStreamConsumerAndUnacked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	co := ConsumerOptions{AckWait: time.Second} // short, so redelivery comes soon
	srv := startServer(t, dir)
	nc, js := connect(t, srv)
	_, c := ensure(t, js, StreamOptions{}, co)
	ctx := t.Context()
	for seq := range uint64(4) {
		if _, err := publish(ctx, js, "host-a", seq+1, fmt.Appendf(nil, "%d", seq+1)); err != nil {
			t.Fatal(err)
		}
	}
	msgs := fetch(t, c, 3, time.Second) // 3 delivered, 1 never delivered
	if len(msgs) != 3 {
		t.Fatalf("fetched %d reports; want 3", len(msgs))
	}
	if err := msgs[0].DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	// The server dies before storing reports 2 and 3.
	nc.Close()
	srv.Shutdown()

	srv = startServer(t, dir)
	_, js = connect(t, srv)
	s, err := js.Stream(ctx, StreamName)
	if err != nil {
		t.Fatalf("stream after restart: %v", err)
	}
	if _, err := s.Consumer(ctx, ConsumerName); err != nil {
		t.Fatalf("consumer after restart: %v", err)
	}
	s, c = ensure(t, js, StreamOptions{}, co)
	if n := streamMsgs(t, s); n != 3 {
		t.Errorf("stream holds %d reports after restart; want 3 (2 unacked + 1 undelivered)", n)
	}

	var got []string
	for deadline := time.Now().Add(10 * time.Second); len(got) < 3 && time.Now().Before(deadline); {
		for _, m := range fetch(t, c, 10, time.Second) {
			got = append(got, string(m.Data()))
			if err := m.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if strings.Join(got, ",") != "4,2,3" && strings.Join(got, ",") != "2,3,4" {
		t.Errorf("after restart got reports %v; want 2, 3 (redelivered) and 4", got)
	}
	if n := streamMsgs(t, s); n != 0 {
		t.Errorf("stream holds %d reports after all were acked; want 0", n)
	}
}

func TestFullStreamRejectsPublish(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    StreamOptions
		body []byte
		want string
	}{
		{"max msgs", StreamOptions{MaxMsgs: 2}, []byte("{}"), "maximum messages exceeded"},
		{"max bytes", StreamOptions{MaxBytes: 2500}, make([]byte, 1000), "maximum bytes exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, js := connect(t, startServer(t, t.TempDir()))
			s, c := ensure(t, js, tc.o, ConsumerOptions{})
			ctx := t.Context()
			for seq := uint64(1); seq <= 2; seq++ {
				if _, err := publish(ctx, js, "host-a", seq, tc.body); err != nil {
					t.Fatalf("publish %d into a stream with room: %v", seq, err)
				}
			}
			// The agent must see the failure, so it keeps the report
			// in its spool; nothing already stored may be dropped.
			_, err := publish(ctx, js, "host-a", 3, tc.body)
			var apiErr *jetstream.APIError
			if !errors.As(err, &apiErr) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("publish into a full stream: %v; want an API error %q", err, tc.want)
			}
			if n := streamMsgs(t, s); n != 2 {
				t.Errorf("full stream holds %d reports; want the first 2", n)
			}

			// Once the server consumed a report there is room again.
			msgs := fetch(t, c, 1, time.Second)
			if len(msgs) != 1 {
				t.Fatalf("fetched %d reports; want 1", len(msgs))
			}
			if err := msgs[0].DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := publish(ctx, js, "host-a", 3, tc.body); err != nil {
				t.Errorf("publish after the server caught up: %v", err)
			}
		})
	}
}

func TestOversizedReportRejected(t *testing.T) {
	t.Parallel()
	_, js := connect(t, startServer(t, t.TempDir()))
	ensure(t, js, StreamOptions{MaxMsgSize: 1024}, ConsumerOptions{})
	if _, err := publish(t.Context(), js, "host-a", 1, make([]byte, 2048)); err == nil {
		t.Error("publish of a report above MaxMsgSize succeeded; want an error")
	}
}
