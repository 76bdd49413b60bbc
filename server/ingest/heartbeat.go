package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/server/store"
)

// Heartbeats collects agent heartbeats from a plain subscription and
// writes the newest per host to the store every flush interval. The
// handler only decodes and keeps the latest per host, so a large fleet
// cannot make it a slow subscriber; losing a heartbeat costs nothing.
type Heartbeats struct {
	store *store.Store
	log   *slog.Logger

	mu     sync.Mutex
	latest map[string]report.Heartbeat

	received, invalid atomic.Uint64
}

// RunHeartbeats subscribes to every agent's heartbeats and flushes them
// until ctx is done.
//
// The flushing goroutine is added to wg (when not nil), so that the caller
// can wait for the last flush before closing the store.
func RunHeartbeats(ctx context.Context, nc *nats.Conn, st *store.Store, every time.Duration, log *slog.Logger, wg *sync.WaitGroup) (*Heartbeats, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if every <= 0 {
		every = 2 * time.Second
	}
	h := &Heartbeats{store: st, log: log, latest: map[string]report.Heartbeat{}}
	// A queue group, so that several server replicas share the work.
	sub, err := nc.QueueSubscribe(report.HeartbeatSubjects, "plumbline-server", h.onMsg)
	if err != nil {
		return nil, fmt.Errorf("subscribe heartbeats: %w", err)
	}
	// Heartbeats are small; allow a deep backlog rather than drop them.
	_ = sub.SetPendingLimits(1<<20, 256<<20)
	if wg == nil {
		wg = &sync.WaitGroup{}
	}
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				_ = sub.Unsubscribe()
				h.flush(context.WithoutCancel(ctx))
				return
			case <-t.C:
				h.flush(ctx)
			}
		}
	})
	return h, nil
}

// Counts returns heartbeats received and rejected as invalid.
func (h *Heartbeats) Counts() (received, invalid uint64) { return h.received.Load(), h.invalid.Load() }

func (h *Heartbeats) onMsg(m *nats.Msg) {
	var hb report.Heartbeat
	err := json.Unmarshal(m.Data, &hb)
	if err == nil {
		err = hb.Validate()
	}
	if err == nil && m.Subject != report.HeartbeatSubject(hb.HostID) {
		err = fmt.Errorf("heartbeat for %q on subject %s", hb.HostID, m.Subject)
	}
	if err != nil {
		if h.invalid.Add(1)%1000 == 1 {
			h.log.Warn("invalid heartbeat", "subject", m.Subject, "err", err)
		}
		return
	}
	// The server's clock, not the agent's: one agent with its clock in
	// the future must not pin its host's last heartbeat there.
	hb.At = time.Now().UTC()
	h.received.Add(1)
	h.mu.Lock()
	if prev, ok := h.latest[hb.HostID]; !ok || hb.At.After(prev.At) {
		h.latest[hb.HostID] = hb
	}
	h.mu.Unlock()
}

// Flush writes buffered heartbeats now (tests use it instead of waiting).
func (h *Heartbeats) Flush(ctx context.Context) { h.flush(ctx) }

func (h *Heartbeats) flush(ctx context.Context) {
	h.mu.Lock()
	if len(h.latest) == 0 {
		h.mu.Unlock()
		return
	}
	batch := make([]report.Heartbeat, 0, len(h.latest))
	for _, hb := range h.latest {
		batch = append(batch, hb)
	}
	h.latest = map[string]report.Heartbeat{}
	h.mu.Unlock()
	if err := h.store.Heartbeats(ctx, batch); err != nil {
		h.log.Error("store heartbeats", "count", len(batch), "err", err)
		// Put them back unless newer ones arrived meanwhile.
		h.mu.Lock()
		for _, hb := range batch {
			if cur, ok := h.latest[hb.HostID]; !ok || hb.At.After(cur.At) {
				h.latest[hb.HostID] = hb
			}
		}
		h.mu.Unlock()
	}
}
