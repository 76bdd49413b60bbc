// Package daemon is plumbline-agent run: it scans on a jittered schedule and
// on request, writes every report to an on-disk spool first, and publishes
// the spool to JetStream in order, removing a report only after its publish
// ack. While NATS is unreachable reports wait in the spool (bounded; the
// oldest are dropped with a warning) and are sent when the connection
// returns. Heartbeats tell the server the agent is alive between scans.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plumbline/plumbline/agent/spool"
	"github.com/plumbline/plumbline/checks/report"
)

// ScanFunc performs one scan and returns its report, numbered seq.
type ScanFunc func(ctx context.Context, seq uint64) (*report.Report, error)

// Options configure a Daemon. Zero durations take the documented defaults.
type Options struct {
	// HostID is this agent's host id (already resolved); Group its group.
	HostID string
	Group  string
	// DataDir holds the spool and the sequence state.
	DataDir string
	// NATSURL is one or more comma-separated server URLs; NATSOptions adds
	// credentials, TLS and the like.
	NATSURL     string
	NATSOptions []nats.Option
	// ReconnectWait [2s] and ReconnectJitter [5s] space reconnect
	// attempts, so that a fleet does not reconnect in lock step.
	ReconnectWait, ReconnectJitter time.Duration
	// PublishTimeout [10s] bounds the wait for one publish ack.
	PublishTimeout time.Duration
	// Interval [1h] between scheduled scans, plus a random 0..Jitter [5m].
	Interval, Jitter time.Duration
	// ScanAtStart scans once (after a random 0..Jitter delay) at start.
	ScanAtStart bool
	// HeartbeatInterval [60s].
	HeartbeatInterval time.Duration
	// ShutdownGrace [30s] is how long a scan in flight may go on after a
	// shutdown request before it is abandoned.
	ShutdownGrace time.Duration
	// SpoolMaxBytes [64 MiB] and SpoolMaxReports [1000] bound the spool.
	SpoolMaxBytes   int64
	SpoolMaxReports int
	// Scan runs one scan.
	Scan ScanFunc
	// Version is reported in heartbeats.
	Version string
	Logger  *slog.Logger
}

func (o *Options) defaults() error {
	if o.Scan == nil {
		return errors.New("daemon: no scan function")
	}
	if err := report.ValidHostID(o.HostID); err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	if o.Group != "" {
		if err := report.ValidGroup(o.Group); err != nil {
			return fmt.Errorf("daemon: %w", err)
		}
	}
	if o.DataDir == "" {
		return errors.New("daemon: no data directory")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ReconnectWait, 2*time.Second)
	def(&o.ReconnectJitter, 5*time.Second)
	def(&o.PublishTimeout, 10*time.Second)
	def(&o.Interval, time.Hour)
	def(&o.HeartbeatInterval, time.Minute)
	def(&o.ShutdownGrace, 30*time.Second)
	if o.Jitter < 0 {
		o.Jitter = 0
	}
	if o.SpoolMaxBytes <= 0 {
		o.SpoolMaxBytes = 64 << 20
	}
	if o.SpoolMaxReports <= 0 {
		o.SpoolMaxReports = 1000
	}
	if o.NATSURL == "" {
		o.NATSURL = nats.DefaultURL
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Stats are the daemon's counters since start.
type Stats struct {
	Scans        uint64 `json:"scans"`
	ScanErrors   uint64 `json:"scan_errors"`
	Published    uint64 `json:"published"`
	Spooled      int    `json:"spooled"`
	SpoolDropped uint64 `json:"spool_dropped"`
	// Undeliverable counts reports NATS refused for good (larger than the
	// server accepts); they are logged and removed from the spool.
	Undeliverable uint64 `json:"undeliverable"`
	LastSequence  uint64 `json:"last_sequence"`
}

// Daemon is one running agent.
type Daemon struct {
	opts  Options
	log   *slog.Logger
	spool *spool.Spool
	state string // path of the sequence state file

	mu      sync.Mutex
	lastSeq uint64
	lastErr string

	requests chan string   // on-demand scan requests (coalesced, cap 1)
	wake     chan struct{} // spool has work or the connection is back
	scanning atomic.Bool

	scans, scanErrors, published, undeliverable, memDropped atomic.Uint64

	// pending holds reports the spool could not take (disk full), so
	// that they are still delivered while the agent runs.
	pendingMu sync.Mutex
	pending   []pendingReport
}

type pendingReport struct {
	hostID string
	seq    uint64
	data   []byte
}

// New opens the daemon's spool and sequence state.
func New(opts Options) (*Daemon, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("daemon: create data dir: %w", err)
	}
	sp, err := spool.Open(filepath.Join(opts.DataDir, "spool"), spool.Options{
		MaxBytes: opts.SpoolMaxBytes, MaxReports: opts.SpoolMaxReports, Logger: opts.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	d := &Daemon{
		opts: opts, log: opts.Logger, spool: sp,
		state:    filepath.Join(opts.DataDir, "state.json"),
		requests: make(chan string, 1),
		wake:     make(chan struct{}, 1),
	}
	if d.lastSeq, err = readState(d.state); err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	return d, nil
}

// Stats returns the daemon's counters.
func (d *Daemon) Stats() Stats {
	d.mu.Lock()
	seq := d.lastSeq
	d.mu.Unlock()
	return Stats{
		Scans: d.scans.Load(), ScanErrors: d.scanErrors.Load(), Published: d.published.Load(),
		Spooled: d.spool.Len() + d.pendingLen(), SpoolDropped: d.spool.Dropped() + d.memDropped.Load(), Undeliverable: d.undeliverable.Load(),
		LastSequence: seq,
	}
}

// Run connects to NATS and runs until ctx is done. On shutdown it lets a
// scan in flight finish (up to ShutdownGrace), spools it, makes one last
// attempt to deliver the spool, and closes the connection.
func (d *Daemon) Run(ctx context.Context) error {
	o := d.opts
	closed := make(chan error, 1)
	nopts := append([]nats.Option{
		nats.Name("plumbline-agent " + o.HostID),
		// Never give up: an agent outlives any server outage.
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(o.ReconnectWait),
		nats.ReconnectJitter(o.ReconnectJitter, o.ReconnectJitter),
		// Reports wait in the on-disk spool, not in nats.go's memory
		// buffer, which would be lost on exit; heartbeats are not worth
		// buffering.
		nats.ReconnectBufSize(-1),
		nats.ConnectHandler(func(*nats.Conn) { d.log.Info("connected to NATS"); d.kick() }),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			d.log.Info("reconnected to NATS", "url", nc.ConnectedUrlRedacted())
			d.kick()
		}),
		// nats.go gives up for good when the server keeps refusing the
		// credentials; the daemon then exits with the reason (systemd
		// restarts it) instead of spooling silently forever.
		nats.ClosedHandler(func(nc *nats.Conn) {
			select {
			case closed <- nc.LastError():
			default:
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			d.log.Error("NATS error", "err", err)
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				d.log.Warn("disconnected from NATS; reports will be spooled", "err", err)
			}
		}),
	}, o.NATSOptions...)
	nc, err := nats.Connect(o.NATSURL, nopts...)
	if err != nil {
		return fmt.Errorf("connect to NATS %s: %w", o.NATSURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}

	subjects := []string{report.ScanSubject(o.HostID), report.FleetScanSubject}
	if o.Group != "" {
		subjects = append(subjects, report.GroupScanSubject(o.Group))
	}
	for _, s := range subjects {
		sub, err := nc.Subscribe(s, d.onScanRequest)
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", s, err)
		}
		defer func() { _ = sub.Unsubscribe() }()
	}

	// Scans get their own context: a shutdown request gives the scan in
	// flight ShutdownGrace to finish rather than cutting it off.
	scanCtx, cancelScans := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelScans()
	stopGrace := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(o.ShutdownGrace, cancelScans)
		context.AfterFunc(scanCtx, func() { t.Stop() })
	})
	defer stopGrace()

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	fatal := make(chan error, 1)
	go func() {
		select {
		case err := <-closed:
			if ctx.Err() == nil {
				fatal <- fmt.Errorf("NATS closed the connection for good: %v (reports stay spooled until the next start)", err)
				d.log.Error("NATS connection closed; stopping", "err", err)
				stop()
			}
		case <-ctx.Done():
		}
	}()
	var wg sync.WaitGroup
	wg.Go(func() { d.scanLoop(ctx, scanCtx) })
	wg.Go(func() { d.sendLoop(ctx, nc, js) })
	wg.Go(func() { d.heartbeatLoop(ctx, nc) })
	if d.spool.Len() > 0 {
		d.log.Info("spooled reports from an earlier run", "count", d.spool.Len())
		d.kick()
	}
	<-ctx.Done()
	wg.Wait()

	// One last delivery attempt, so that a clean shutdown with NATS up
	// leaves nothing behind; what fails stays spooled for the next start.
	final, cancel := context.WithTimeout(context.Background(), min(5*time.Second, o.PublishTimeout))
	defer cancel()
	if err := d.drain(final, nc, js); err != nil && d.spool.Len() > 0 {
		d.log.Warn("reports left in the spool for the next start", "count", d.spool.Len(), "err", err)
	}
	_ = nc.Drain()
	select {
	case err := <-fatal:
		return err
	default:
		return nil
	}
}

func (d *Daemon) kick() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *Daemon) onScanRequest(m *nats.Msg) {
	var req report.ScanRequest
	if len(m.Data) > 0 {
		if err := json.Unmarshal(m.Data, &req); err != nil {
			d.reply(m, report.ScanReply{HostID: d.opts.HostID, Reason: "bad request: " + err.Error()})
			return
		}
	}
	reason := req.Reason
	if reason == "" {
		reason = "request on " + m.Subject
	}
	rep := report.ScanReply{HostID: d.opts.HostID, Accepted: true}
	select {
	case d.requests <- reason:
		rep.Queued = d.scanning.Load()
	default:
		// A request is already waiting: this one is folded into it.
		rep.Queued = true
	}
	d.log.Info("scan requested", "reason", reason, "queued", rep.Queued)
	d.reply(m, rep)
}

func (d *Daemon) reply(m *nats.Msg, rep report.ScanReply) {
	if m.Reply == "" {
		return
	}
	data, _ := json.Marshal(rep)
	if err := m.Respond(data); err != nil {
		d.log.Warn("reply to scan request", "err", err)
	}
}

// delay returns base plus a random 0..jitter.
func (d *Daemon) delay(base time.Duration) time.Duration {
	if d.opts.Jitter <= 0 {
		return base
	}
	return base + rand.N(d.opts.Jitter+1)
}

func (d *Daemon) scanLoop(ctx, scanCtx context.Context) {
	first := d.delay(d.opts.Interval)
	if d.opts.ScanAtStart {
		first = d.delay(0)
	}
	d.log.Info("first scan scheduled", "in", first.Round(time.Second).String())
	timer := time.NewTimer(first)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
			d.scanOnce(scanCtx, "schedule")
			timer.Reset(d.delay(d.opts.Interval))
		case reason := <-d.requests:
			d.scanOnce(scanCtx, reason)
		}
	}
}

// nextSeq returns a sequence above every earlier one, persisted before use.
// It is at least the current Unix time in milliseconds, so that an agent
// whose state was wiped (a re-imaged host keeping its id) still numbers
// its reports above the ones the server has seen.
func (d *Daemon) nextSeq() (uint64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	seq := max(d.lastSeq+1, uint64(time.Now().UnixMilli()))
	if err := writeState(d.state, seq); err != nil {
		// Still monotonic in this run, and the clock floor keeps the next
		// run above it: a full disk must not stop scanning.
		d.log.Warn("persist the report sequence", "sequence", seq, "err", err)
	}
	d.lastSeq = seq
	return seq, nil
}

func (d *Daemon) scanOnce(ctx context.Context, reason string) {
	d.scanning.Store(true)
	defer d.scanning.Store(false)
	seq, err := d.nextSeq()
	if err != nil {
		d.scanFailed(err)
		return
	}
	start := time.Now()
	r, err := d.opts.Scan(ctx, seq)
	if err != nil {
		d.scanFailed(err)
		return
	}
	d.scans.Add(1)
	d.setLastErr("")
	data, err := json.Marshal(r)
	if err != nil {
		d.scanFailed(fmt.Errorf("encode report: %w", err))
		return
	}
	if len(data) > report.MaxSize {
		// The server would reject it; spooling it would only block the
		// reports behind it.
		d.undeliverable.Add(1)
		d.scanFailed(fmt.Errorf("report %d is %d bytes, above the %d-byte limit of the wire schema; not sent", seq, len(data), report.MaxSize))
		return
	}
	d.log.Info("scan done", "reason", reason, "sequence", seq, "duration", time.Since(start).Round(time.Millisecond).String(),
		"pass", r.Summary.Pass, "fail", r.Summary.Fail, "error", r.Summary.Error, "bytes", len(data))
	if err := d.spool.Put(seq, data); err != nil {
		// The disk refused the report: try to hand it to NATS directly
		// rather than lose it.
		d.log.Error("spool report; trying to publish it directly", "sequence", seq, "err", err)
		d.directPublish(r.Host.ID, seq, data)
		return
	}
	d.kick()
}

// directPublish is the path of last resort when the spool cannot take a
// report: keep it in memory and let the send loop deliver it first.
func (d *Daemon) directPublish(hostID string, seq uint64, data []byte) {
	d.pendingMu.Lock()
	if len(d.pending) >= maxPending {
		d.memDropped.Add(1)
		d.log.Warn("too many reports held in memory while the spool fails; dropped the oldest", "sequence", d.pending[0].seq)
		d.pending = d.pending[1:]
	}
	d.pending = append(d.pending, pendingReport{hostID, seq, data})
	d.pendingMu.Unlock()
	d.kick()
}

// maxPending bounds the reports held in memory while the spool's disk
// fails (16 reports of at most report.MaxSize).
const maxPending = 16

func (d *Daemon) scanFailed(err error) {
	d.scanErrors.Add(1)
	d.setLastErr(err.Error())
	d.log.Error("scan failed", "err", err)
}

func (d *Daemon) setLastErr(s string) {
	d.mu.Lock()
	d.lastErr = s
	d.mu.Unlock()
}

func (d *Daemon) sendLoop(ctx context.Context, nc *nats.Conn, js jetstream.JetStream) {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-retry.C:
		}
		if err := d.drain(ctx, nc, js); err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, errNotConnected) {
				// The (re)connect handler starts the next drain; the
				// disconnect was logged once already.
				d.log.Debug("reports stay spooled until NATS is back", "spooled", d.spool.Len()+d.pendingLen())
				continue
			}
			failures++
			// Back off with jitter, up to a minute, so that a fleet
			// retrying against a struggling server spreads out.
			backoff := min(d.opts.ReconnectWait<<min(failures, 5), time.Minute)
			backoff = backoff/2 + rand.N(backoff/2+1)
			d.log.Warn("publish failed; reports stay spooled", "spooled", d.spool.Len()+d.pendingLen(), "retry_in", backoff.Round(time.Millisecond).String(), "err", err)
			retry.Reset(backoff)
			continue
		}
		failures = 0
	}
}

// errNotConnected stops a drain while NATS is away; the reconnect handler
// starts the next one.
var errNotConnected = errors.New("not connected to NATS")

// drain publishes every spooled report, oldest first, and removes each
// only after its ack. It stops at the first failure so that order holds.
func (d *Daemon) drain(ctx context.Context, nc *nats.Conn, js jetstream.JetStream) error {
	for {
		items, err := d.spool.Items()
		if err != nil {
			return fmt.Errorf("list spool: %w", err)
		}
		// Reports held in memory (the spool refused them) go out in
		// sequence order with the spooled ones: the server records a
		// report older than one it has as out of order, without drift.
		d.pendingMu.Lock()
		var head *pendingReport
		if len(d.pending) > 0 && (len(items) == 0 || d.pending[0].seq < items[0].Seq) {
			head = &d.pending[0]
		}
		d.pendingMu.Unlock()
		if head == nil && len(items) == 0 {
			return nil
		}
		if !nc.IsConnected() {
			return errNotConnected
		}
		if head != nil {
			if err := d.sendPending(ctx, js, *head); err != nil {
				return err
			}
			continue
		}
		if err := d.sendSpooled(ctx, js, items[0]); err != nil {
			return err
		}
	}
}

// sendSpooled publishes one spooled report and removes it once acked (or
// once it proved undeliverable).
func (d *Daemon) sendSpooled(ctx context.Context, js jetstream.JetStream, it spool.Item) error {
	data, err := d.spool.Read(it)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // dropped for space since Items
	}
	if err != nil {
		return fmt.Errorf("read spooled report %d: %w", it.Seq, err)
	}
	var head struct {
		Host     struct{ ID string } `json:"host"`
		Sequence uint64              `json:"sequence"`
	}
	if err := json.Unmarshal(data, &head); err != nil || report.ValidHostID(head.Host.ID) != nil {
		// Only the agent writes the spool, atomically; a file that does
		// not decode cannot be sent and would block the rest.
		d.log.Error("spooled report is unreadable; removing it", "sequence", it.Seq, "path", it.Path, "err", err)
		d.undeliverable.Add(1)
		return d.spool.Remove(it.Seq)
	}
	if err := d.publish(ctx, js, head.Host.ID, head.Sequence, data); err != nil {
		if !errors.Is(err, errUndeliverable) {
			return err
		}
		d.undeliverable.Add(1)
		d.log.Error("report refused for good; removing it from the spool", "sequence", it.Seq, "err", err)
	}
	if err := d.spool.Remove(it.Seq); err != nil {
		return fmt.Errorf("remove delivered report %d from spool: %w", it.Seq, err)
	}
	return nil
}

var errUndeliverable = errors.New("undeliverable")

func (d *Daemon) pendingLen() int {
	d.pendingMu.Lock()
	defer d.pendingMu.Unlock()
	return len(d.pending)
}

// sendPending publishes the oldest in-memory report and forgets it once
// acked (or once it proved undeliverable).
func (d *Daemon) sendPending(ctx context.Context, js jetstream.JetStream, p pendingReport) error {
	err := d.publish(ctx, js, p.hostID, p.seq, p.data)
	if err != nil && !errors.Is(err, errUndeliverable) {
		return err
	}
	if err != nil {
		d.undeliverable.Add(1)
		d.log.Error("report refused for good", "sequence", p.seq, "err", err)
	}
	d.pendingMu.Lock()
	if len(d.pending) > 0 && d.pending[0].seq == p.seq {
		d.pending = d.pending[1:]
	}
	d.pendingMu.Unlock()
	return nil
}

func (d *Daemon) publish(ctx context.Context, js jetstream.JetStream, hostID string, seq uint64, data []byte) error {
	pctx, cancel := context.WithTimeout(ctx, d.opts.PublishTimeout)
	defer cancel()
	msg := nats.NewMsg(report.ReportSubject(hostID))
	msg.Data = data
	ack, err := js.PublishMsg(pctx, msg,
		jetstream.WithMsgID(report.MsgID(hostID, seq)),
		jetstream.WithExpectStream(report.StreamName))
	if err != nil {
		if errors.Is(err, nats.ErrMaxPayload) || errors.Is(err, jetstream.ErrStreamMessageExceedsMaximum) {
			return fmt.Errorf("%w: report %d is %d bytes, above the server's limit: %v", errUndeliverable, seq, len(data), err)
		}
		return fmt.Errorf("publish report %d: %w", seq, err)
	}
	d.published.Add(1)
	d.log.Debug("report delivered", "sequence", seq, "stream_seq", ack.Sequence, "duplicate", ack.Duplicate)
	return nil
}

func (d *Daemon) heartbeatLoop(ctx context.Context, nc *nats.Conn) {
	t := time.NewTicker(d.opts.HeartbeatInterval)
	defer t.Stop()
	for {
		if nc.IsConnected() {
			d.heartbeat(nc)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Daemon) heartbeat(nc *nats.Conn) {
	d.mu.Lock()
	hb := report.Heartbeat{
		Schema: report.HeartbeatSchema, HostID: d.opts.HostID, At: time.Now().UTC(),
		AgentVersion: d.opts.Version, ScanIntervalSeconds: int64(d.opts.Interval / time.Second),
		LastSequence: d.lastSeq, LastScanError: d.lastErr,
		Spooled: d.spool.Len() + d.pendingLen(), SpoolDropped: d.spool.Dropped() + d.memDropped.Load(),
	}
	d.mu.Unlock()
	data, _ := json.Marshal(hb)
	if err := nc.Publish(report.HeartbeatSubject(d.opts.HostID), data); err != nil {
		d.log.Debug("heartbeat not sent", "err", err)
	}
}

type stateFile struct {
	LastSequence uint64 `json:"last_sequence"`
}

func readState(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read state: %w", err)
	}
	var s stateFile
	if err := json.Unmarshal(data, &s); err != nil {
		// The sequence only needs to grow; the clock floor in nextSeq
		// keeps it growing without the file.
		return 0, nil
	}
	return s.LastSequence, nil
}

func writeState(path string, seq uint64) error {
	data, _ := json.Marshal(stateFile{LastSequence: seq})
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write state %s: %w", path, err)
	}
	return nil
}
