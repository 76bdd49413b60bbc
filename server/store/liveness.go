package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plumbline/plumbline/checks/report"
)

// Heartbeats records a batch of agent heartbeats in one transaction: the
// host's last heartbeat time (never moved backwards, so that a delayed
// heartbeat cannot hide a newer one), and, from a heartbeat newer than the
// last, the agent version and the scan interval (when > 0).
//
// A heartbeat of a host that never sent a report, or that does not
// validate, is ignored: a host appears in the fleet with its first report,
// which carries its identity and results; a row made from a heartbeat
// would be a host with nothing to show. Such heartbeats are counted (see
// IgnoredHeartbeats) and logged at debug level. Heartbeats do not clear a
// stale flag: stale means "no report", and only a report ends it.
func (s *Store) Heartbeats(ctx context.Context, hbs []report.Heartbeat) error {
	if len(hbs) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record heartbeats in %s: begin: %w", s.path, classify(err))
	}
	defer tx.Rollback() // a no-op after Commit
	// In an UPDATE every expression sees the row as it was, so the CASEs
	// compare with the previous last_heartbeat_at.
	st, err := tx.PrepareContext(ctx, `
UPDATE hosts SET
	agent_version = CASE WHEN ?1 > last_heartbeat_at AND ?2 <> '' THEN ?2 ELSE agent_version END,
	interval_seconds = CASE WHEN ?1 > last_heartbeat_at AND ?3 > 0 THEN ?3 ELSE interval_seconds END,
	agent_error = CASE WHEN ?1 > last_heartbeat_at THEN ?5 ELSE agent_error END,
	agent_spooled = CASE WHEN ?1 > last_heartbeat_at THEN ?6 ELSE agent_spooled END,
	agent_spool_dropped = CASE WHEN ?1 > last_heartbeat_at THEN ?7 ELSE agent_spool_dropped END,
	last_heartbeat_at = MAX(last_heartbeat_at, ?1)
WHERE id = ?4`)
	if err != nil {
		return fmt.Errorf("record heartbeats in %s: prepare: %w", s.path, classify(err))
	}
	var ignored []string
	for i := range hbs {
		hb := &hbs[i]
		if err := hb.Validate(); err != nil {
			ignored = append(ignored, hb.HostID)
			continue
		}
		res, err := st.ExecContext(ctx, toNS(hb.At), hb.AgentVersion, clampInterval(hb.ScanIntervalSeconds), hb.HostID,
			truncate(hb.LastScanError, 1024), max(hb.Spooled, 0), int64(min(hb.SpoolDropped, 1<<62)))
		if err != nil {
			return fmt.Errorf("record heartbeats in %s: host %s: %w", s.path, hb.HostID, classify(err))
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			ignored = append(ignored, hb.HostID)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record heartbeats in %s: commit: %w", s.path, classify(err))
	}
	if len(ignored) > 0 {
		s.ignoredHeartbeats.Add(uint64(len(ignored)))
		s.log.Debug("heartbeats ignored: host never reported or heartbeat invalid",
			"count", len(ignored), "host_ids", strings.Join(ignored, ","))
	}
	return nil
}

// IgnoredHeartbeats counts the heartbeats Heartbeats ignored since Open
// (unknown host or invalid), for metrics.
func (s *Store) IgnoredHeartbeats() uint64 { return s.ignoredHeartbeats.Load() }

// SweepStale flags the hosts whose last report is older than twice their
// scan interval plus the grace period, as of now, and appends one stale
// event for each. A host is flagged once per silence: it stays stale, and
// produces no further event, until a report is applied, which clears the
// flag. Events come sorted by host id.
func (s *Store) SweepStale(ctx context.Context, now time.Time) ([]report.DriftEvent, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sweep stale hosts in %s: begin: %w", s.path, classify(err))
	}
	defer tx.Rollback() // a no-op after Commit
	rows, err := tx.QueryContext(ctx, `
UPDATE hosts SET stale = 1
WHERE stale = 0
	AND last_report_at + 2 * (CASE WHEN interval_seconds > 0 THEN interval_seconds ELSE ?1 END) * 1000000000 + ?2 < ?3
RETURNING id, last_report_at, interval_seconds`,
		int64(s.opts.DefaultInterval/time.Second), int64(s.opts.StaleGrace), toNS(now))
	if err != nil {
		return nil, fmt.Errorf("sweep stale hosts in %s: %w", s.path, classify(err))
	}
	var events []report.DriftEvent
	for rows.Next() {
		var id string
		var last, interval int64
		if err := rows.Scan(&id, &last, &interval); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sweep stale hosts in %s: %w", s.path, err)
		}
		iv := s.interval(interval)
		events = append(events, report.DriftEvent{
			Schema: report.DriftSchema, HostID: id, Kind: report.DriftStale, At: now,
			Message: fmt.Sprintf("no report since %s (scan interval %s, stale after 2×interval + %s)",
				fromNS(last).Format(time.RFC3339), iv, s.opts.StaleGrace),
		})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sweep stale hosts in %s: %w", s.path, classify(err))
	}
	if len(events) == 0 {
		return nil, nil
	}
	slices.SortFunc(events, func(a, b report.DriftEvent) int { return strings.Compare(a.HostID, b.HostID) })
	st, err := tx.PrepareContext(ctx, sqlInsertEvent)
	if err != nil {
		return nil, fmt.Errorf("sweep stale hosts in %s: %w", s.path, classify(err))
	}
	for i := range events {
		if events[i].ID, err = insertEvent(ctx, st, &events[i]); err != nil {
			return nil, fmt.Errorf("sweep stale hosts in %s: %w", s.path, classify(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sweep stale hosts in %s: commit: %w", s.path, classify(err))
	}
	for _, e := range events {
		s.log.Warn("host stale", "host_id", e.HostID, "reason", e.Message)
	}
	return events, nil
}

// interval is a host's scan interval: its own, or the default.
func (s *Store) interval(seconds int64) time.Duration {
	if seconds > 0 {
		return time.Duration(seconds) * time.Second
	}
	return s.opts.DefaultInterval
}

// MaxIntervalSeconds caps the scan interval an agent may claim (7 days),
// so that no report or heartbeat can exempt its host from staleness.
const MaxIntervalSeconds = 7 * 24 * 3600

func clampInterval(s int64) int64 { return min(max(s, 0), MaxIntervalSeconds) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
