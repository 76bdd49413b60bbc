// Package service assembles the plumbline server: NATS (embedded with
// JetStream, or an external cluster), the report stream and its durable
// consumer, the SQLite store, the ingest loop, heartbeats, the stale-host
// sweep, and the HTTP API with /healthz and /metrics.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plumbline/plumbline/server/api"
	"github.com/plumbline/plumbline/server/command"
	"github.com/plumbline/plumbline/server/ingest"
	"github.com/plumbline/plumbline/server/natsd"
	"github.com/plumbline/plumbline/server/store"
)

// Options configure the server. Zero values take the documented defaults
// (see packaging/server.yaml).
type Options struct {
	// DataDir holds the SQLite database and the embedded JetStream store.
	DataDir string
	// Listen is the HTTP API address ("127.0.0.1:8080"; port 0 picks one).
	Listen string
	// NATSURL connects to an external NATS cluster; empty embeds one
	// listening on NATSListen.
	NATSURL        string
	NATSOptions    []nats.Option
	NATSListen     string
	MaxConnections int
	MaxPayload     int32
	SyncAlways     bool
	// DuplicateWindow is the stream's dedupe window for Nats-Msg-Id.
	DuplicateWindow time.Duration
	// Batch, MaxWait and MaxReportBytes tune ingest.
	Batch          int
	MaxWait        time.Duration
	MaxReportBytes int
	// AckWait is how long an unacknowledged report waits before
	// redelivery (after a server crash).
	AckWait time.Duration
	// DefaultInterval, StaleGrace and SweepEvery drive stale detection.
	DefaultInterval, StaleGrace, SweepEvery time.Duration
	Logger                                  *slog.Logger
}

// Service is a running server.
type Service struct {
	o      Options
	log    *slog.Logger
	nats   *natsd.Server // nil with an external NATS
	nc     *nats.Conn
	store  *store.Store
	ingest *ingest.Ingester
	hb     *ingest.Heartbeats
	http   *http.Server
	ln     net.Listener
	cancel context.CancelFunc
	wg     sync.WaitGroup
	m      *serviceMetrics
}

// Start brings the server up and returns once it accepts agents and API
// requests. Close stops it.
func Start(ctx context.Context, o Options) (_ *Service, err error) {
	if o.DataDir == "" {
		return nil, errors.New("server: no data directory")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SweepEvery <= 0 {
		o.SweepEvery = 30 * time.Second
	}
	if err := os.MkdirAll(o.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("server: create data dir: %w", err)
	}
	s := &Service{o: o, log: o.Logger}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	url := o.NATSURL
	if url == "" {
		s.nats, err = natsd.Start(ctx, natsd.Options{
			Listen: o.NATSListen, StoreDir: o.DataDir,
			MaxConnections: o.MaxConnections, MaxPayload: o.MaxPayload, SyncAlways: o.SyncAlways,
			Logger: o.Logger.With("component", "nats"),
		})
		if err != nil {
			return nil, fmt.Errorf("server: start embedded NATS: %w", err)
		}
		url = s.nats.ClientURL()
	}
	s.nc, err = nats.Connect(url, append([]nats.Option{
		nats.Name("plumbline-server"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(false),
	}, o.NATSOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("server: connect to NATS %s: %w", url, err)
	}
	js, err := jetstream.New(s.nc)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	stream, err := natsd.EnsureStream(ctx, js, natsd.StreamOptions{Duplicates: o.DuplicateWindow, MaxMsgSize: o.MaxPayload})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if s.nats != nil {
		// The embedded NATS has exactly one consumer, this process. Reports
		// a previous run fetched but never acked (it crashed) would come back
		// only after ack_wait, behind later reports of the same hosts, and
		// then count as out of order. The stream keeps only unacked reports
		// (work-queue retention), so a fresh consumer gets them all again,
		// in publish order; those already stored are recognised as
		// duplicates. With an external NATS several servers may share the
		// consumer, so it is kept and ack_wait bounds the delay instead.
		if err := stream.DeleteConsumer(ctx, natsd.ConsumerName); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, fmt.Errorf("server: reset the report consumer: %w", err)
		}
	}
	cons, err := natsd.EnsureConsumer(ctx, stream, natsd.ConsumerOptions{AckWait: o.AckWait})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}

	dbPath := filepath.Join(o.DataDir, "plumbline.db")
	s.store, err = store.Open(ctx, dbPath, store.Options{
		Logger: o.Logger.With("component", "store"), DefaultInterval: o.DefaultInterval, StaleGrace: o.StaleGrace,
	})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.m = newMetrics(s)
	s.ingest, err = ingest.New(ingest.Options{
		Consumer: cons, Store: s.store, Conn: s.nc,
		// After JetStream was disabled (disk full) or the consumer deleted,
		// make both again, as at start.
		Recover: func(ctx context.Context) (jetstream.Consumer, error) {
			st, err := natsd.EnsureStream(ctx, js, natsd.StreamOptions{Duplicates: o.DuplicateWindow, MaxMsgSize: o.MaxPayload})
			if err != nil {
				return nil, err
			}
			return natsd.EnsureConsumer(ctx, st, natsd.ConsumerOptions{AckWait: o.AckWait})
		},
		Batch: o.Batch, MaxWait: o.MaxWait, MaxReportBytes: o.MaxReportBytes,
		Observe: s.m.observe, OnReject: s.m.rejected,
		Logger: o.Logger.With("component", "ingest"),
	})
	if err != nil {
		return nil, err
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.hb, err = ingest.RunHeartbeats(runCtx, s.nc, s.store, 2*time.Second, o.Logger.With("component", "heartbeat"), &s.wg)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.wg.Go(func() { _ = s.ingest.Run(runCtx) })
	s.wg.Go(func() { s.sweep(runCtx) })

	listen := o.Listen
	if listen == "" {
		listen = "127.0.0.1:8080"
	}
	s.ln, err = net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("server: listen for the API on %s: %w", listen, err)
	}
	s.http = &http.Server{
		Handler: api.New(api.Options{
			Store: s.store, Scans: &command.Client{Conn: s.nc, Timeout: 5 * time.Second},
			Health: s.Healthz, Metrics: s.m.handler(), Logger: o.Logger.With("component", "api"),
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	s.wg.Go(func() {
		if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("API server stopped", "err", err)
		}
	})
	s.log.Info("plumbline server ready", "api", s.APIURL(), "nats", url, "db", dbPath)
	return s, nil
}

// sweep flags stale hosts periodically.
func (s *Service) sweep(ctx context.Context) {
	t := time.NewTicker(s.o.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.SweepNow(ctx)
	}
}

// SweepNow runs the stale-host sweep once. It waits while reports are
// still queued: after an outage the reports that arrived meanwhile must be
// stored before a host can be called silent.
func (s *Service) SweepNow(ctx context.Context) {
	if n, err := s.ingest.Backlog(ctx); err != nil || n > 0 {
		s.log.Debug("stale sweep postponed", "backlog", n, "err", err)
		return
	}
	events, err := s.store.SweepStale(ctx, time.Now())
	if err != nil {
		s.log.Error("stale sweep", "err", err)
		return
	}
	for _, e := range events {
		s.log.Warn("host is stale", "host_id", e.HostID, "message", e.Message)
	}
	s.ingest.PublishEvents(events)
}

// Healthz reports why the server is unhealthy, or nil.
func (s *Service) Healthz(ctx context.Context) error {
	if s.nats != nil {
		if err := s.nats.Healthz(); err != nil {
			return err
		}
	}
	if !s.nc.IsConnected() {
		return fmt.Errorf("not connected to NATS (%s)", s.nc.Status())
	}
	if err := s.ingest.Healthy(); err != nil {
		return fmt.Errorf("ingest: the store refuses reports: %w", err)
	}
	return nil
}

// APIURL is the base URL of the HTTP API.
func (s *Service) APIURL() string { return "http://" + s.ln.Addr().String() }

// NATSURL is the URL agents connect to.
func (s *Service) NATSURL() string { return s.nc.ConnectedUrl() }

// Store is the server's store (for the demo and tests).
func (s *Service) Store() *store.Store { return s.store }

// Ingest is the server's ingester (for its counters).
func (s *Service) Ingest() *ingest.Ingester { return s.ingest }

// Close stops everything, letting a batch in flight finish.
func (s *Service) Close() {
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.http.Shutdown(ctx)
		cancel()
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if s.nc != nil {
		s.nc.Close()
	}
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			s.log.Error("close store", "err", err)
		}
	}
	if s.nats != nil {
		s.nats.Shutdown()
	}
}
