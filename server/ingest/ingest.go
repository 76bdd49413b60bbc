// Package ingest moves reports from the JetStream stream into the store:
// it fetches batches from the durable pull consumer, validates every
// message, applies the valid ones in one transaction, and only then acks
// them. Malformed messages are copied to the store's rejected table and
// terminated, so they never block the stream. New drift events are
// published on plumbline.v1.drift.<host_id> after the commit.
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	fastjson "github.com/goccy/go-json"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/server/store"
)

// Options configure an Ingester. Zero values take the documented defaults.
type Options struct {
	Consumer jetstream.Consumer
	Store    *store.Store
	// Conn publishes drift events; nil publishes none.
	Conn *nats.Conn
	// Batch [256] messages per fetch and transaction; MaxWait [500ms] is
	// how long a fetch waits to fill a batch.
	Batch   int
	MaxWait time.Duration
	// MaxReportBytes [report.MaxSize] rejects larger messages.
	MaxReportBytes int
	// RetryDelay [5s] is how long NATS waits before redelivering a batch
	// the store could not take (disk full, read-only).
	RetryDelay time.Duration
	// MaxBatchBytes [512 MiB] bounds the memory of one batch: the batch
	// holds at most MaxBatchBytes / MaxReportBytes messages (and Batch),
	// so that even reports all at the size limit fit.
	MaxBatchBytes int
	// Recover, when set, is called after a failed fetch to get the
	// consumer again (recreating it if it was deleted).
	Recover func(ctx context.Context) (jetstream.Consumer, error)
	// Observe, when set, is told each stored report's outcome and its
	// latency from publish (the stream's timestamp) to commit.
	Observe func(outcome store.Outcome, latency time.Duration)
	// OnReject, when set, is told each rejection's reason class.
	OnReject func(reason string)
	Logger   *slog.Logger
	// Now is the clock (tests pin it).
	Now func() time.Time
}

// Ingester runs the ingest loop.
type Ingester struct {
	o     Options
	log   *slog.Logger
	batch int // messages per fetch: Batch, bounded by MaxBatchBytes

	ingested, rejected, duplicates, outOfOrder, failedBatches atomic.Uint64

	mu       sync.Mutex
	lastErr  error // the store's last failure, cleared by a stored batch
	fetchErr error // why fetching fails, cleared by a good fetch
}

// New checks the options.
func New(o Options) (*Ingester, error) {
	if o.Consumer == nil || o.Store == nil {
		return nil, errors.New("ingest: consumer and store are required")
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 500 * time.Millisecond
	}
	if o.MaxReportBytes <= 0 {
		o.MaxReportBytes = report.MaxSize
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 512 << 20
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	batch := min(o.Batch, max(1, o.MaxBatchBytes/o.MaxReportBytes))
	return &Ingester{o: o, log: o.Logger, batch: batch}, nil
}

// Backlog returns the reports waiting in the stream for this consumer,
// delivered or not, but not yet acknowledged.
func (in *Ingester) Backlog(ctx context.Context) (uint64, error) {
	info, err := in.o.Consumer.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}

// Counts are the ingester's counters since start.
type Counts struct {
	Ingested, Rejected, Duplicates, OutOfOrder, FailedBatches uint64
}

// Counts returns the counters.
func (in *Ingester) Counts() Counts {
	return Counts{in.ingested.Load(), in.rejected.Load(), in.duplicates.Load(), in.outOfOrder.Load(), in.failedBatches.Load()}
}

// Healthy reports why reports cannot be fetched, or the last store
// failure if no batch has been stored since; nil when all is well.
func (in *Ingester) Healthy() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.fetchErr != nil {
		return in.fetchErr
	}
	return in.lastErr
}

func (in *Ingester) setFetchErr(err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.fetchErr = err
}

// Run fetches and applies batches until ctx is done. It takes whatever is
// waiting (up to Batch) without waiting for a batch to fill, so a quiet
// fleet's reports are flagged at once and a busy one's are batched. When
// fetching fails (JetStream disabled, the consumer deleted) it marks ingest
// unhealthy, backs off, and asks Recover for a consumer again.
func (in *Ingester) Run(ctx context.Context) error {
	failing := 0
	for ctx.Err() == nil {
		msgs, err := in.fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			failing++
			in.setFetchErr(fmt.Errorf("fetch reports: %w", err))
			if failing == 1 || failing%60 == 0 {
				in.log.Error("cannot fetch reports; retrying", "attempts", failing, "err", err)
			}
			sleep(ctx, min(time.Duration(failing)*200*time.Millisecond, 5*time.Second))
			if in.o.Recover != nil {
				if c, rerr := in.o.Recover(ctx); rerr == nil {
					in.o.Consumer = c
				} else if failing == 1 || failing%60 == 0 {
					in.log.Error("recreate the report consumer", "err", rerr)
				}
			}
			continue
		}
		if failing > 0 {
			in.log.Info("fetching reports again", "after_attempts", failing)
			failing = 0
			in.setFetchErr(nil)
		}
		if len(msgs) > 0 {
			in.process(ctx, msgs)
		}
	}
	return nil
}

// fetch returns up to Batch waiting messages; when none is waiting it
// waits up to MaxWait for the first, then takes what else has arrived.
func (in *Ingester) fetch(ctx context.Context) ([]jetstream.Msg, error) {
	c, n := in.o.Consumer, in.batch
	msgs, err := in.collect(c.FetchNoWait(n))
	if err != nil || len(msgs) > 0 || ctx.Err() != nil {
		return msgs, err
	}
	if msgs, err = in.collect(c.Fetch(1, jetstream.FetchMaxWait(in.o.MaxWait))); err != nil || len(msgs) == 0 {
		return msgs, err
	}
	more, err := in.collect(c.FetchNoWait(n - 1))
	return append(msgs, more...), err
}

// benign batch errors end a fetch that simply found nothing.
func benign(err error) bool {
	return err == nil || errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, jetstream.ErrNoMessages)
}

func (in *Ingester) collect(batch jetstream.MessageBatch, err error) ([]jetstream.Msg, error) {
	if err != nil {
		return nil, err
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if err := batch.Error(); !benign(err) {
		if len(msgs) == 0 {
			return nil, err
		}
		// What arrived is processed; the error shows again on the next fetch.
		in.log.Warn("fetch reports", "err", err, "got", len(msgs))
	}
	return msgs, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

type pending struct {
	msg jetstream.Msg
	rep *report.Report
	pub time.Time
}

func (in *Ingester) process(ctx context.Context, msgs []jetstream.Msg) {
	// Decoding dominates ingest CPU: spread it over the cores, keeping
	// the batch's order for the store.
	type decoded struct {
		r     *report.Report
		class string
		err   error
	}
	out := make([]decoded, len(msgs))
	workers := min(runtime.GOMAXPROCS(0), len(msgs))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(msgs); i += workers {
				r, class, err := in.validate(msgs[i])
				out[i] = decoded{r, class, err}
			}
		})
	}
	wg.Wait()
	var ok []pending
	for i, m := range msgs {
		if out[i].err != nil {
			in.reject(ctx, m, out[i].class, out[i].err)
			continue
		}
		var pub time.Time
		if md, err := m.Metadata(); err == nil {
			pub = md.Timestamp
		}
		ok = append(ok, pending{m, out[i].r, pub})
	}
	if len(ok) == 0 {
		return
	}
	err := in.apply(ctx, ok)
	if err == nil {
		return
	}
	if !errors.Is(err, store.ErrInvalid) {
		// The store itself is failing (disk full, read-only, locked by
		// another process, shutting down, or an error nobody classified):
		// redeliver the whole batch later rather than judge its reports.
		in.retryLater(ok, err)
		return
	}
	// Some report in the batch is one the store can never take. Apply the
	// reports one by one so that only that one is rejected.
	for _, p := range ok {
		err := in.apply(ctx, []pending{p})
		switch {
		case err == nil:
		case errors.Is(err, store.ErrInvalid):
			in.reject(ctx, p.msg, "invalid", err)
		default:
			in.retryLater([]pending{p}, err)
		}
	}
}

// retryLater naks reports so that JetStream redelivers them after
// RetryDelay, and marks ingest unhealthy until a batch is stored. A report
// that keeps failing is kept in the stream (and visible in /healthz and
// the logs) rather than dropped: it is valid, and the store is at fault.
func (in *Ingester) retryLater(ps []pending, err error) {
	in.failedBatches.Add(1)
	in.setErr(err)
	in.log.Error("store refused the batch; NATS will redeliver it", "reports", len(ps), "retry_in", in.o.RetryDelay.String(), "err", err)
	for _, p := range ps {
		_ = p.msg.NakWithDelay(in.o.RetryDelay)
	}
}

func (in *Ingester) setErr(err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.lastErr = err
}

// apply stores reports in one transaction, acks them, and publishes the
// drift events they created.
func (in *Ingester) apply(ctx context.Context, ps []pending) error {
	rs := make([]*report.Report, len(ps))
	for i, p := range ps {
		rs[i] = p.rep
	}
	// A batch in hand is finished even when shutdown begins: cancelling it
	// would only make NATS redeliver it after a false alarm.
	results, err := in.o.Store.Apply(context.WithoutCancel(ctx), rs, in.o.Now())
	if err != nil {
		return err
	}
	in.setErr(nil)
	now := time.Now()
	for i, p := range ps {
		// An ack lost here only means a redelivery, which Apply reports as
		// a duplicate.
		if err := p.msg.Ack(); err != nil {
			in.log.Warn("ack report", "host_id", p.rep.Host.ID, "sequence", p.rep.Sequence, "err", err)
		}
		res := results[i]
		switch res.Outcome {
		case store.Applied:
			in.ingested.Add(1)
		case store.Duplicate:
			in.duplicates.Add(1)
		case store.OutOfOrder:
			in.outOfOrder.Add(1)
			in.log.Info("out-of-order report recorded without drift", "host_id", p.rep.Host.ID, "sequence", p.rep.Sequence)
		}
		if in.o.Observe != nil && !p.pub.IsZero() {
			in.o.Observe(res.Outcome, now.Sub(p.pub))
		}
		in.publish(res.Events)
	}
	return nil
}

// publish sends new drift events downstream. They are already stored, so
// a failed publish loses nothing the API cannot serve.
func (in *Ingester) publish(events []report.DriftEvent) {
	if in.o.Conn == nil {
		return
	}
	for _, e := range events {
		data, err := json.Marshal(e)
		if err == nil {
			err = in.o.Conn.Publish(report.DriftSubject(e.HostID), data)
		}
		if err != nil {
			in.log.Warn("publish drift event", "host_id", e.HostID, "kind", e.Kind, "err", err)
		}
	}
}

// PublishEvents sends events (e.g. from the stale sweep) downstream.
func (in *Ingester) PublishEvents(events []report.DriftEvent) { in.publish(events) }

// validate decodes a message; class names the rejection reason for metrics.
func (in *Ingester) validate(m jetstream.Msg) (*report.Report, string, error) {
	data := m.Data()
	if len(data) > in.o.MaxReportBytes {
		return nil, "oversized", fmt.Errorf("report is %d bytes, above the %d-byte limit", len(data), in.o.MaxReportBytes)
	}
	subjHost, found := strings.CutPrefix(m.Subject(), report.SubjectPrefix+".report.")
	if !found || report.ValidHostID(subjHost) != nil {
		return nil, "subject", fmt.Errorf("subject %q is not %s", m.Subject(), report.ReportSubjects)
	}
	// One full decode (go-json: 2.7× encoding/json on a 150-result
	// report, which is most of ingest's CPU); the schema is probed only on failure, so that a
	// future schema whose shape differs is named as such.
	var r report.Report
	if err := fastjson.Unmarshal(data, &r); err != nil {
		var probe struct {
			Schema string `json:"schema"`
		}
		if json.Unmarshal(data, &probe) == nil && probe.Schema != report.Schema {
			return nil, "schema", fmt.Errorf("report schema %q not supported (want %q)", probe.Schema, report.Schema)
		}
		if !json.Valid(data) {
			return nil, "malformed", fmt.Errorf("not a JSON report: %w", err)
		}
		return nil, "invalid", fmt.Errorf("decode report: %w", err)
	}
	if r.Schema != report.Schema {
		return nil, "schema", fmt.Errorf("report schema %q not supported (want %q)", r.Schema, report.Schema)
	}
	if err := r.Validate(); err != nil {
		return nil, "invalid", err
	}
	if r.Host.ID != subjHost {
		return nil, "host_mismatch", fmt.Errorf("report for host %q published on %s (host %q)", r.Host.ID, m.Subject(), subjHost)
	}
	if r.Sequence == 0 {
		return nil, "invalid", errors.New("report: sequence is 0 (a daemon numbers its reports from 1)")
	}
	return &r, "", nil
}

func (in *Ingester) reject(ctx context.Context, m jetstream.Msg, class string, reason error) {
	data := m.Data()
	rj := store.Rejection{Subject: m.Subject(), Reason: class + ": " + reason.Error(), At: in.o.Now(), Size: len(data), Data: data}
	if err := in.o.Store.Reject(ctx, rj); err != nil {
		// Without its copy kept, do not throw the message away: let NATS
		// redeliver it once the store works again.
		in.log.Error("keep rejected message; NATS will redeliver it", "subject", m.Subject(), "err", err)
		_ = m.NakWithDelay(in.o.RetryDelay)
		return
	}
	in.rejected.Add(1)
	if in.o.OnReject != nil {
		in.o.OnReject(class)
	}
	in.log.Warn("report rejected", "subject", m.Subject(), "reason", rj.Reason, "bytes", len(data))
	if err := m.Term(); err != nil {
		in.log.Warn("terminate rejected message", "subject", m.Subject(), "err", err)
	}
}
