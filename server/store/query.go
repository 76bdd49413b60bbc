package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
)

// Queries run on the read pool, each in one read transaction so that it
// sees one consistent snapshot even while ingest commits. Whether a
// waiver is live is decided here, at query time, with Options.Now, so that
// an expired waiver re-opens its deviation without any write. Lists are
// never nil, so that they encode as [] rather than null.

func (s *Store) readTx(ctx context.Context) (*sql.Tx, error) {
	return s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
}

const hostSummaryColumns = `id, hostname, grp, os, platform, agent_version, first_seen, last_report_at,
	last_heartbeat_at, last_sequence, interval_seconds, stale,
	n_pass, n_fail, n_error, n_not_applicable, n_skipped,
	agent_error, agent_spooled, agent_spool_dropped`

type scanner interface{ Scan(dest ...any) error }

func (s *Store) scanHostSummary(sc scanner, extra ...any) (HostSummary, error) {
	var h HostSummary
	var first, last, hb, seq, interval, dropped int64
	dest := append([]any{&h.ID, &h.Hostname, &h.Group, &h.OS, &h.Platform, &h.AgentVersion,
		&first, &last, &hb, &seq, &interval, &h.Stale,
		&h.Summary.Pass, &h.Summary.Fail, &h.Summary.Error, &h.Summary.NotApplicable, &h.Summary.Skipped,
		&h.AgentError, &h.Spooled, &dropped}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return HostSummary{}, err
	}
	h.FirstSeen, h.LastReportAt, h.LastHeartbeatAt = fromNS(first), fromNS(last), fromNS(hb)
	h.LastSequence = uint64(seq)
	h.SpoolDropped = uint64(dropped)
	h.IntervalSeconds = int64(s.interval(interval) / time.Second)
	return h, nil
}

// setScore fills Score from the PASS count and OpenDeviations.
func (h *HostSummary) setScore() {
	if d := h.Summary.Pass + h.OpenDeviations; d > 0 {
		score := 100 * float64(h.Summary.Pass) / float64(d)
		h.Score = &score
	}
}

// Hosts lists hosts sorted by id, narrowed by f.
func (s *Store) Hosts(ctx context.Context, f HostFilter) ([]HostSummary, error) {
	hosts, err := s.hosts(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list hosts in %s: %w", s.path, err)
	}
	return hosts, nil
}

func (s *Store) hosts(ctx context.Context, f HostFilter) ([]HostSummary, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var where []string
	var args []any
	if f.Group != "" {
		where, args = append(where, "grp = ?"), append(args, f.Group)
	}
	if f.Stale {
		where = append(where, "stale = 1")
	}
	q := "SELECT " + hostSummaryColumns + " FROM hosts"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := tx.QueryContext(ctx, q+" ORDER BY id", args...)
	if err != nil {
		return nil, err
	}
	hosts := []HostSummary{}
	index := map[string]int{}
	for rows.Next() {
		h, err := s.scanHostSummary(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		index[h.ID] = len(hosts)
		hosts = append(hosts, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ws, err := loadWaiverSet(ctx, tx, s.opts.Now())
	if err != nil {
		return nil, err
	}
	waived, err := waivedFailures(ctx, tx, ws)
	if err != nil {
		return nil, err
	}
	for hc := range waived {
		if i, ok := index[hc[0]]; ok {
			hosts[i].Waived++
		}
	}
	out := hosts[:0]
	for _, h := range hosts {
		h.OpenDeviations = h.Summary.Fail - h.Waived
		if f.Failing && h.OpenDeviations == 0 {
			continue
		}
		h.setScore()
		out = append(out, h)
	}
	return out, nil
}

// waivedFailures returns the (host, check) pairs that FAIL under a live
// waiver. Open deviations are then a host's FAIL count minus these, which
// reads a row per live waiver rather than every failing result.
func waivedFailures(ctx context.Context, q queryer, ws waiverSet) (map[[2]string]bool, error) {
	out := map[[2]string]bool{}
	for _, w := range ws.m {
		if !ws.now.Before(w.Expires) {
			continue
		}
		var rows *sql.Rows
		var err error
		if w.HostID == AllHosts {
			rows, err = q.QueryContext(ctx, `SELECT host_id FROM results WHERE check_id = ? AND status = 'FAIL'`, w.CheckID)
		} else {
			rows, err = q.QueryContext(ctx, `SELECT host_id FROM results WHERE host_id = ? AND check_id = ? AND status = 'FAIL'`, w.HostID, w.CheckID)
		}
		if err != nil {
			return nil, fmt.Errorf("read waived failures: %w", err)
		}
		for rows.Next() {
			var host string
			if err := rows.Scan(&host); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read waived failures: %w", err)
			}
			out[[2]string{host, w.CheckID}] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read waived failures: %w", err)
		}
	}
	return out, nil
}

// eachFailure calls fn for every FAIL result in the fleet (read through
// the partial index on failing rows, which holds both columns).
func eachFailure(ctx context.Context, q queryer, fn func(hostID, checkID string)) error {
	rows, err := q.QueryContext(ctx, "SELECT host_id, check_id FROM results WHERE status = 'FAIL'")
	if err != nil {
		return fmt.Errorf("read failing results: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h, c string
		if err := rows.Scan(&h, &c); err != nil {
			return fmt.Errorf("read failing results: %w", err)
		}
		fn(h, c)
	}
	return rows.Err()
}

// Host returns one host with its latest results: open deviations first
// (highest severity first, then by check id), then every other result by
// check id. An unknown host is ErrNotFound.
func (s *Store) Host(ctx context.Context, id string) (*HostDetail, error) {
	h, err := s.host(ctx, id)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("host %s: %w", id, err)
		}
		return nil, fmt.Errorf("read host %s from %s: %w", id, s.path, err)
	}
	return h, nil
}

func (s *Store) host(ctx context.Context, id string) (*HostDetail, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var d HostDetail
	var identity, facts, baseline, plugins string
	row := tx.QueryRowContext(ctx, "SELECT "+hostSummaryColumns+
		", identity, facts, baseline, plugins, last_scan_id FROM hosts WHERE id = ?", id)
	d.HostSummary, err = s.scanHostSummary(row, &identity, &facts, &baseline, &plugins, &d.LastScanID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	for _, j := range []struct {
		name string
		src  string
		dst  any
	}{{"identity", identity, &d.Identity}, {"facts", facts, &d.Facts}, {"baseline", baseline, &d.Baseline}, {"plugins", plugins, &d.Plugins}} {
		if err := json.Unmarshal([]byte(j.src), j.dst); err != nil {
			return nil, fmt.Errorf("decode %s: %w", j.name, err)
		}
	}
	ws, err := loadWaiverSet(ctx, tx, s.opts.Now())
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `
SELECT check_id, title, status, severity, message, evidence, status_since FROM results WHERE host_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	defer rows.Close()
	d.Results = []ResultRow{}
	for rows.Next() {
		var r ResultRow
		var status, evidence string
		var since int64
		if err := rows.Scan(&r.CheckID, &r.Title, &status, &r.Severity, &r.Message, &evidence, &since); err != nil {
			return nil, fmt.Errorf("read results: %w", err)
		}
		if r.Status, err = parseStatus(status); err != nil {
			return nil, fmt.Errorf("read result %s: %w", r.CheckID, err)
		}
		if r.Evidence, err = decodeEvidence(evidence); err != nil {
			return nil, fmt.Errorf("read result %s: %w", r.CheckID, err)
		}
		r.Since = fromNS(since)
		if r.Status == checks.StatusFail {
			w, live := ws.lookup(id, r.CheckID)
			r.Waiver = copyWaiver(w)
			r.Deviation = !live
			if live {
				d.Waived++
			} else {
				d.OpenDeviations++
			}
		}
		d.Results = append(d.Results, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	slices.SortFunc(d.Results, func(a, b ResultRow) int {
		if a.Deviation != b.Deviation {
			if a.Deviation {
				return -1
			}
			return 1
		}
		if a.Deviation {
			if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.CheckID, b.CheckID)
	})
	d.setScore()
	return &d, nil
}

func copyWaiver(w *Waiver) *Waiver {
	if w == nil {
		return nil
	}
	c := *w
	return &c
}

// Checks summarises every check across the fleet, sorted by id. Where
// hosts disagree on a check's title or severity (different baseline
// versions), the most recently written ones are shown.
func (s *Store) Checks(ctx context.Context) ([]CheckSummary, error) {
	cs, err := s.checks(ctx)
	if err != nil {
		return nil, fmt.Errorf("list checks in %s: %w", s.path, err)
	}
	return cs, nil
}

func (s *Store) checks(ctx context.Context) ([]CheckSummary, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `
SELECT check_id, title, severity, hosts, n_pass, n_fail, n_error, n_not_applicable, n_skipped
FROM check_stats ORDER BY check_id`)
	if err != nil {
		return nil, err
	}
	out := []CheckSummary{}
	index := map[string]int{}
	for rows.Next() {
		c := CheckSummary{FailingHosts: []string{}}
		if err := rows.Scan(&c.ID, &c.Title, &c.Severity, &c.Hosts, &c.Summary.Pass, &c.Summary.Fail,
			&c.Summary.Error, &c.Summary.NotApplicable, &c.Summary.Skipped); err != nil {
			rows.Close()
			return nil, err
		}
		index[c.ID] = len(out)
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ws, err := loadWaiverSet(ctx, tx, s.opts.Now())
	if err != nil {
		return nil, err
	}
	err = eachFailure(ctx, tx, func(hostID, checkID string) {
		if i, ok := index[checkID]; ok {
			if _, live := ws.lookup(hostID, checkID); !live {
				out[i].FailingHosts = append(out[i].FailingHosts, hostID)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		slices.Sort(out[i].FailingHosts)
	}
	return out, nil
}

// Deviations lists the checks currently FAIL, narrowed by f: open ones
// only unless f.IncludeWaived. Each carries the waiver that covers it, or,
// when a waiver lapsed, the expired one. Sorted by severity (highest
// first), then host id, then check id. FirstSeen is when the check started
// failing; LastSeen is the host's latest report, which still showed it.
func (s *Store) Deviations(ctx context.Context, f DeviationFilter) ([]Deviation, error) {
	ds, err := s.deviations(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list deviations in %s: %w", s.path, err)
	}
	return ds, nil
}

func (s *Store) deviations(ctx context.Context, f DeviationFilter) ([]Deviation, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	ws, err := loadWaiverSet(ctx, tx, s.opts.Now())
	if err != nil {
		return nil, err
	}
	q := `
SELECT r.host_id, r.check_id, r.title, r.severity, r.status_since, h.last_report_at, r.message, r.evidence
FROM results r JOIN hosts h ON h.id = r.host_id
WHERE r.status = 'FAIL'`
	var args []any
	if f.HostID != "" {
		q, args = q+" AND r.host_id = ?", append(args, f.HostID)
	}
	if f.CheckID != "" {
		q, args = q+" AND r.check_id = ?", append(args, f.CheckID)
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Deviation{}
	for rows.Next() {
		var d Deviation
		var first, last int64
		var evidence string
		if err := rows.Scan(&d.HostID, &d.CheckID, &d.Title, &d.Severity, &first, &last, &d.Message, &evidence); err != nil {
			return nil, err
		}
		w, live := ws.lookup(d.HostID, d.CheckID)
		if live && !f.IncludeWaived {
			continue
		}
		if d.Evidence, err = decodeEvidence(evidence); err != nil {
			return nil, fmt.Errorf("read result %s of %s: %w", d.CheckID, d.HostID, err)
		}
		d.FirstSeen, d.LastSeen, d.Waiver = fromNS(first), fromNS(last), copyWaiver(w)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Deviation) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.HostID, b.HostID), cmp.Compare(a.CheckID, b.CheckID))
	})
	return out, nil
}

// DefaultDriftLimit is how many events Drift returns when the filter sets
// no limit.
const DefaultDriftLimit = 1000

// Drift returns drift events matching f, newest first. With f.AfterID the
// events are the f.Limit oldest after it (still returned newest first), so
// that a client tailing the log with the largest id it has seen never
// skips an event; with f.BeforeID they are the f.Limit newest before it,
// for paging back through history. An unknown f.Kind is ErrInvalid.
func (s *Store) Drift(ctx context.Context, f DriftFilter) ([]report.DriftEvent, error) {
	if f.Kind != "" {
		if _, err := report.ParseDriftKind(string(f.Kind)); err != nil {
			return nil, fmt.Errorf("%w drift filter: %w", ErrInvalid, err)
		}
	}
	evs, err := s.drift(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list drift events in %s: %w", s.path, err)
	}
	return evs, nil
}

func (s *Store) drift(ctx context.Context, f DriftFilter) ([]report.DriftEvent, error) {
	// Only the conditions in use go into the SQL: SQLite plans a statement
	// once, and "(? = '' OR host_id = ?)" would keep it off the indexes.
	var where []string
	var args []any
	add := func(cond string, v any) { where, args = append(where, cond), append(args, v) }
	if f.HostID != "" {
		add("host_id = ?", f.HostID)
	}
	if f.CheckID != "" {
		add("check_id = ?", f.CheckID)
	}
	if f.Kind != "" {
		add("kind = ?", string(f.Kind))
	}
	if !f.Since.IsZero() {
		add("at >= ?", toNS(f.Since))
	}
	if f.AfterID > 0 {
		add("id > ?", f.AfterID)
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultDriftLimit
	}
	q := `SELECT id, host_id, kind, check_id, severity, from_status, to_status, from_evidence, to_evidence,
	message, scan_id, sequence, at FROM drift_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	tail := f.AfterID > 0 || f.Tail
	order := " ORDER BY id DESC"
	if tail {
		order = " ORDER BY id ASC"
	}
	rows, err := s.r.QueryContext(ctx, q+order+" LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []report.DriftEvent{}
	for rows.Next() {
		e := report.DriftEvent{Schema: report.DriftSchema}
		var kind, from, to string
		var fromEv, toEv sql.NullString
		var seq, at int64
		if err := rows.Scan(&e.ID, &e.HostID, &kind, &e.CheckID, &e.Severity, &from, &to, &fromEv, &toEv,
			&e.Message, &e.ScanID, &seq, &at); err != nil {
			return nil, err
		}
		e.Kind, e.Sequence, e.At = report.DriftKind(kind), uint64(seq), fromNS(at)
		if e.From, err = parseStatus(from); err != nil {
			return nil, fmt.Errorf("drift event %d: %w", e.ID, err)
		}
		if e.To, err = parseStatus(to); err != nil {
			return nil, fmt.Errorf("drift event %d: %w", e.ID, err)
		}
		if e.FromEvidence, err = decodeEvidence(fromEv.String); err != nil {
			return nil, fmt.Errorf("drift event %d: %w", e.ID, err)
		}
		if e.ToEvidence, err = decodeEvidence(toEv.String); err != nil {
			return nil, fmt.Errorf("drift event %d: %w", e.ID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if tail {
		slices.Reverse(out)
	}
	return out, nil
}

// Stats counts the fleet as of now (which decides whether waivers are
// live).
func (s *Store) Stats(ctx context.Context, now time.Time) (Stats, error) {
	st, err := s.stats(ctx, now)
	if err != nil {
		return Stats{}, fmt.Errorf("count fleet in %s: %w", s.path, err)
	}
	return st, nil
}

func (s *Store) stats(ctx context.Context, now time.Time) (Stats, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return Stats{}, err
	}
	defer tx.Rollback()
	var st Stats
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(stale), 0) FROM hosts`).Scan(&st.Hosts, &st.StaleHosts); err != nil {
		return Stats{}, err
	}
	// drift_events is append-only (triggers refuse deletes) and its ids
	// are rowids, which SQLite assigns as max+1 and a rollback does not
	// consume: the largest id is the count, read from the end of the
	// b-tree instead of by visiting every row.
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM drift_events`).Scan(&st.DriftEvents); err != nil {
		return Stats{}, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM rejected`).Scan(&st.Rejected); err != nil {
		return Stats{}, err
	}
	var fails int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(n_fail), 0) FROM hosts`).Scan(&fails); err != nil {
		return Stats{}, err
	}
	ws, err := loadWaiverSet(ctx, tx, now)
	if err != nil {
		return Stats{}, err
	}
	waived, err := waivedFailures(ctx, tx, ws)
	if err != nil {
		return Stats{}, err
	}
	st.OpenDeviations = fails - len(waived)
	return st, nil
}
