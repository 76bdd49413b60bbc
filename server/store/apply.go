package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/server/drift"
)

// writeStmts are the statements of the ingest path, prepared once on the
// writer connection and bound to each batch's transaction.
type writeStmts struct {
	scanHost, hostState, upsertHost, insertScan *sql.Stmt
	loadResults, deleteResult, insertEvent      *sql.Stmt
	addCheckStats, deleteCheckStats             *sql.Stmt
	// upsertResults[i] writes upsertSizes[i] rows per statement: one
	// statement per row would spend more time in database/sql and the
	// driver than in SQLite.
	upsertResults []*sql.Stmt
}

// upsertSizes are the row counts of the prepared multi-row upserts, largest
// first; 1 must be last so that any count can be written.
var upsertSizes = []int{32, 8, 1}

// resultColumns is the number of values per results row in an upsert.
const resultColumns = 9

const (
	sqlScanHost   = `SELECT host_id FROM scans WHERE scan_id = ?`
	sqlHostState  = `SELECT last_sequence, results_digest FROM hosts WHERE id = ?`
	sqlUpsertHost = `
INSERT INTO hosts (id, identity, facts, baseline, plugins, hostname, os, platform, grp, agent_version,
	first_seen, last_report_at, last_sequence, last_scan_id, interval_seconds, stale,
	n_pass, n_fail, n_error, n_not_applicable, n_skipped, results_digest)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
	identity = excluded.identity, facts = excluded.facts, baseline = excluded.baseline,
	plugins = excluded.plugins, hostname = excluded.hostname, os = excluded.os,
	platform = excluded.platform, grp = excluded.grp,
	agent_version = CASE WHEN excluded.agent_version <> '' THEN excluded.agent_version ELSE hosts.agent_version END,
	last_report_at = excluded.last_report_at, last_sequence = excluded.last_sequence,
	last_scan_id = excluded.last_scan_id,
	interval_seconds = CASE WHEN excluded.interval_seconds > 0 THEN excluded.interval_seconds ELSE hosts.interval_seconds END,
	stale = 0,
	n_pass = excluded.n_pass, n_fail = excluded.n_fail, n_error = excluded.n_error,
	n_not_applicable = excluded.n_not_applicable, n_skipped = excluded.n_skipped,
	results_digest = excluded.results_digest`
	sqlInsertScan = `
INSERT INTO scans (scan_id, host_id, sequence, started_at, finished_at, received_at, baseline_sha256,
	n_pass, n_fail, n_error, n_not_applicable, n_skipped, outcome)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlLoadResults = `
SELECT check_id, title, status, severity, message, evidence, fingerprint, status_since
FROM results WHERE host_id = ?`
	sqlDeleteResult     = `DELETE FROM results WHERE host_id = ? AND check_id = ?`
	sqlDeleteCheckStats = `DELETE FROM check_stats WHERE hosts <= 0`
	// ?10 says whether title and severity are to be replaced.
	sqlAddCheckStats = `
INSERT INTO check_stats (check_id, title, severity, hosts, n_pass, n_fail, n_error, n_not_applicable, n_skipped)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT (check_id) DO UPDATE SET
	title = CASE WHEN ?10 THEN excluded.title ELSE title END,
	severity = CASE WHEN ?10 THEN excluded.severity ELSE severity END,
	hosts = hosts + excluded.hosts, n_pass = n_pass + excluded.n_pass,
	n_fail = n_fail + excluded.n_fail, n_error = n_error + excluded.n_error,
	n_not_applicable = n_not_applicable + excluded.n_not_applicable,
	n_skipped = n_skipped + excluded.n_skipped`
	sqlUpsertResultsHead = `
INSERT INTO results (host_id, check_id, title, status, severity, message, evidence, fingerprint, status_since)
VALUES `
	sqlUpsertResultsTail = `
ON CONFLICT (host_id, check_id) DO UPDATE SET
	title = excluded.title, status = excluded.status, severity = excluded.severity,
	message = excluded.message, evidence = excluded.evidence, fingerprint = excluded.fingerprint,
	status_since = excluded.status_since`
	sqlInsertEvent = `
INSERT INTO drift_events (host_id, kind, check_id, severity, from_status, to_status,
	from_evidence, to_evidence, message, scan_id, sequence, at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// sqlUpsertResults is the upsert of n results rows.
func sqlUpsertResults(n int) string {
	tuple := "(?" + strings.Repeat(", ?", resultColumns-1) + ")"
	return sqlUpsertResultsHead + tuple + strings.Repeat(", "+tuple, n-1) + sqlUpsertResultsTail
}

func (s *Store) prepare(ctx context.Context) error {
	s.stmts.upsertResults = make([]*sql.Stmt, len(upsertSizes))
	for i, n := range upsertSizes {
		st, err := s.w.PrepareContext(ctx, sqlUpsertResults(n))
		if err != nil {
			return fmt.Errorf("prepare upsert of %d results: %w", n, err)
		}
		s.stmts.upsertResults[i] = st
	}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&s.stmts.scanHost, sqlScanHost},
		{&s.stmts.hostState, sqlHostState},
		{&s.stmts.upsertHost, sqlUpsertHost},
		{&s.stmts.insertScan, sqlInsertScan},
		{&s.stmts.loadResults, sqlLoadResults},
		{&s.stmts.deleteResult, sqlDeleteResult},
		{&s.stmts.insertEvent, sqlInsertEvent},
		{&s.stmts.addCheckStats, sqlAddCheckStats},
		{&s.stmts.deleteCheckStats, sqlDeleteCheckStats},
	} {
		st, err := s.w.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", firstLine(p.sql), err)
		}
		*p.dst = st
	}
	return nil
}

func (w *writeStmts) close() {
	for _, st := range append([]*sql.Stmt{w.scanHost, w.hostState, w.upsertHost, w.insertScan,
		w.loadResults, w.deleteResult, w.insertEvent, w.addCheckStats, w.deleteCheckStats}, w.upsertResults...) {
		if st != nil {
			st.Close()
		}
	}
}

// bind returns the statements bound to tx (database/sql reuses the
// preparation, since the writer has a single connection).
func (w *writeStmts) bind(ctx context.Context, tx *sql.Tx) writeStmts {
	b := writeStmts{
		scanHost:         tx.StmtContext(ctx, w.scanHost),
		hostState:        tx.StmtContext(ctx, w.hostState),
		upsertHost:       tx.StmtContext(ctx, w.upsertHost),
		insertScan:       tx.StmtContext(ctx, w.insertScan),
		loadResults:      tx.StmtContext(ctx, w.loadResults),
		deleteResult:     tx.StmtContext(ctx, w.deleteResult),
		insertEvent:      tx.StmtContext(ctx, w.insertEvent),
		addCheckStats:    tx.StmtContext(ctx, w.addCheckStats),
		deleteCheckStats: tx.StmtContext(ctx, w.deleteCheckStats),
		upsertResults:    make([]*sql.Stmt, len(w.upsertResults)),
	}
	for i, st := range w.upsertResults {
		b.upsertResults[i] = tx.StmtContext(ctx, st)
	}
	return b
}

func firstLine(q string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(q), "\n")
	return line
}

// Apply stores a batch of reports in one transaction, in order, and says
// per report what it did. On error nothing of the batch is stored (the
// caller does not ack, and NATS redelivers); errors.Is tells ErrFull and
// ErrReadOnly (retry later) from ErrInvalid (a report that can never be
// stored: Apply validates every report before writing anything).
//
// Per report: a scan id already stored is a Duplicate (nothing written); a
// sequence not above the host's latest is OutOfOrder (the scan is
// recorded, nothing else); anything else is Applied: it becomes the host's
// latest state and its drift events, compared with the state before it,
// are appended and returned with their ids. Later reports of the batch see
// what earlier ones did. receivedAt is the server's clock: it stamps the
// events and decides staleness, so that agent clocks cannot.
func (s *Store) Apply(ctx context.Context, rs []*report.Report, receivedAt time.Time) ([]Result, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	for i, r := range rs {
		if err := checkReport(r); err != nil {
			return nil, fmt.Errorf("apply batch to %s: report %d of %d: %w", s.path, i+1, len(rs), err)
		}
	}
	if receivedAt.IsZero() {
		// A zero time would read as "never reported" and flag the host
		// stale at once.
		receivedAt = s.opts.Now()
	}
	start := time.Now()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("apply batch to %s: begin: %w", s.path, classify(err))
	}
	defer tx.Rollback() // a no-op after Commit
	a := applier{s: s, ctx: ctx, st: s.stmts.bind(ctx, tx), at: receivedAt, atNS: toNS(receivedAt),
		stats: map[string]*checkDelta{}}
	out := make([]Result, len(rs))
	var applied, events int
	for i, r := range rs {
		res, err := a.apply(r)
		if err != nil {
			return nil, fmt.Errorf("apply batch to %s: report %d of %d (host %s, scan %s): %w",
				s.path, i+1, len(rs), r.Host.ID, r.ScanID, classify(err))
		}
		out[i] = res
		if res.Outcome == Applied {
			applied++
		}
		events += len(res.Events)
	}
	if err := a.writeCheckStats(); err != nil {
		return nil, fmt.Errorf("apply batch to %s: %w", s.path, classify(err))
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("apply batch to %s: commit: %w", s.path, classify(err))
	}
	s.log.Debug("batch applied", "reports", len(rs), "applied", applied, "drift_events", events,
		"elapsed", time.Since(start).String())
	return out, nil
}

// checkReport refuses what the database could not represent faithfully.
// Ingest has run report.Decode already; this guards other callers.
func checkReport(r *report.Report) error {
	if r == nil {
		return fmt.Errorf("%w report: nil", ErrInvalid)
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("%w report (scan %q): %w", ErrInvalid, r.ScanID, err)
	}
	if r.Sequence > math.MaxInt64 {
		return fmt.Errorf("%w report (scan %q): sequence %d does not fit the store's 63 bits", ErrInvalid, r.ScanID, r.Sequence)
	}
	for _, res := range r.Results {
		if res.Severity < 0 || res.Severity > checks.SeverityCritical {
			return fmt.Errorf("%w report (scan %q): check %s: severity %d", ErrInvalid, r.ScanID, res.ID, int(res.Severity))
		}
	}
	return nil
}

// applier is one batch's transaction.
type applier struct {
	s    *Store
	ctx  context.Context
	st   writeStmts
	at   time.Time
	atNS int64
	buf  []byte // reused by resultsDigest
	args []any  // reused by writeResults
	// stats accumulates the batch's changes to check_stats, written once
	// per batch rather than once per report.
	stats map[string]*checkDelta
}

// checkDelta is a change to one check_stats row.
type checkDelta struct {
	hosts    int
	n        [5]int // by statusSlot
	title    string
	severity checks.Severity
	meta     bool // title and severity are set
}

// statusSlot is a status's index in checkDelta.n, in the order of
// check_stats' n_pass … n_skipped columns.
func statusSlot(s checks.Status) int { return int(s - checks.StatusPass) }

func (a *applier) delta(checkID string) *checkDelta {
	d := a.stats[checkID]
	if d == nil {
		d = &checkDelta{}
		a.stats[checkID] = d
	}
	return d
}

// countResult records in the batch's check_stats delta that res replaced
// old (had false: res is new to the host).
func (a *applier) countResult(res *checks.Result, old stored, had bool) {
	d := a.delta(res.ID)
	if !had {
		d.hosts++
		d.n[statusSlot(res.Status)]++
	} else if old.status != res.Status {
		d.n[statusSlot(old.status)]--
		d.n[statusSlot(res.Status)]++
	}
	if !had || old.title != res.Title || old.severity != res.Severity {
		d.title, d.severity, d.meta = res.Title, res.Severity, true
	}
}

// countRemoved records that a host no longer has checkID.
func (a *applier) countRemoved(checkID string, old stored) {
	d := a.delta(checkID)
	d.hosts--
	d.n[statusSlot(old.status)]--
}

// writeCheckStats applies the batch's deltas to check_stats, in check id
// order, and drops the checks no host has any more.
func (a *applier) writeCheckStats() error {
	ids := make([]string, 0, len(a.stats))
	for id := range a.stats {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var removed bool
	for _, id := range ids {
		d := a.stats[id]
		if d.hosts == 0 && d.n == [5]int{} && !d.meta {
			continue
		}
		removed = removed || d.hosts < 0
		if _, err := a.st.addCheckStats.ExecContext(a.ctx, id, d.title, int64(d.severity), d.hosts,
			d.n[0], d.n[1], d.n[2], d.n[3], d.n[4], d.meta); err != nil {
			return fmt.Errorf("update counts of check %s: %w", id, err)
		}
	}
	if removed {
		if _, err := a.st.deleteCheckStats.ExecContext(a.ctx); err != nil {
			return fmt.Errorf("drop counts of checks no host has: %w", err)
		}
	}
	return nil
}

// stored is one results row as the database has it.
type stored struct {
	title, message, evidence, fingerprint string
	status                                checks.Status
	severity                              checks.Severity
	sinceNS                               int64
}

func (a *applier) apply(r *report.Report) (Result, error) {
	hostID := r.Host.ID
	var scanHost string
	switch err := a.st.scanHost.QueryRowContext(a.ctx, r.ScanID).Scan(&scanHost); {
	case err == nil:
		if scanHost != hostID {
			a.s.log.Warn("scan id already stored for another host; report dropped as duplicate",
				"scan_id", r.ScanID, "host_id", hostID, "stored_host_id", scanHost)
		}
		return Result{Outcome: Duplicate}, nil
	case !errors.Is(err, sql.ErrNoRows):
		return Result{}, fmt.Errorf("look up scan: %w", err)
	}

	var lastSeq int64
	var oldDigest []byte
	exists := true
	switch err := a.st.hostState.QueryRowContext(a.ctx, hostID).Scan(&lastSeq, &oldDigest); {
	case errors.Is(err, sql.ErrNoRows):
		exists = false
	case err != nil:
		return Result{}, fmt.Errorf("read host: %w", err)
	}
	if exists && int64(r.Sequence) <= lastSeq {
		if err := a.insertScan(r, OutOfOrder); err != nil {
			return Result{}, err
		}
		return Result{Outcome: OutOfOrder}, nil
	}

	var digest []byte
	digest, a.buf = resultsDigest(r.Results, a.buf)
	// Equal digests mean every stored result is already what r says, so
	// there is neither drift nor a row to rewrite: the common case, which
	// costs one host row and one scan row.
	resultsChanged := !exists || !bytes.Equal(digest, oldDigest)
	var prev map[string]stored
	var events []report.DriftEvent
	switch {
	case !exists:
		events = drift.Compare(hostID, nil, true, r, a.at)
		a.s.log.Info("new host", "host_id", hostID, "checks", len(r.Results), "fail", r.Summary.Fail)
	case resultsChanged:
		var states map[string]drift.State
		var err error
		if prev, states, err = a.loadResults(hostID, r.Results); err != nil {
			return Result{}, err
		}
		events = drift.Compare(hostID, states, false, r, a.at)
	}
	// The host row first: results and scans refer to it.
	if err := a.upsertHost(r, digest); err != nil {
		return Result{}, err
	}
	if resultsChanged {
		if err := a.writeResults(hostID, r.Results, prev); err != nil {
			return Result{}, err
		}
	}
	if err := a.insertScan(r, Applied); err != nil {
		return Result{}, err
	}
	for i := range events {
		if err := a.insertEvent(&events[i]); err != nil {
			return Result{}, err
		}
	}
	return Result{Outcome: Applied, Events: events}, nil
}

// Stored evidence is decoded only for checks whose status or fingerprint
// differs from next: only drift events show it, and decoding all of a
// host's evidence was most of the cost of a report that changes one check.
func (a *applier) loadResults(hostID string, next []checks.Result) (map[string]stored, map[string]drift.State, error) {
	type key struct {
		status      checks.Status
		fingerprint string
	}
	unchanged := make(map[string]key, len(next))
	for _, res := range next {
		unchanged[res.ID] = key{res.Status, drift.Fingerprint(res)}
	}
	rows, err := a.st.loadResults.QueryContext(a.ctx, hostID)
	if err != nil {
		return nil, nil, fmt.Errorf("read results: %w", err)
	}
	defer rows.Close()
	prev := make(map[string]stored)
	states := make(map[string]drift.State)
	for rows.Next() {
		var id, status string
		var sr stored
		if err := rows.Scan(&id, &sr.title, &status, &sr.severity, &sr.message, &sr.evidence, &sr.fingerprint, &sr.sinceNS); err != nil {
			return nil, nil, fmt.Errorf("read results: %w", err)
		}
		if sr.status, err = parseStatus(status); err != nil {
			return nil, nil, fmt.Errorf("read result %s: %w", id, err)
		}
		var ev []checks.Evidence
		if k, ok := unchanged[id]; !ok || k.status != sr.status || k.fingerprint != sr.fingerprint {
			if ev, err = decodeEvidence(sr.evidence); err != nil {
				return nil, nil, fmt.Errorf("read result %s: %w", id, err)
			}
		}
		prev[id] = sr
		states[id] = drift.State{Status: sr.status, Severity: sr.severity, Title: sr.title,
			Message: sr.message, Evidence: ev, Fingerprint: sr.fingerprint}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read results: %w", err)
	}
	return prev, states, nil
}

// writeResults writes the rows whose content differs from prev (all of
// them for a new host) and deletes the checks r no longer has. A row keeps
// its status_since unless its status changed.
func (a *applier) writeResults(hostID string, rs []checks.Result, prev map[string]stored) error {
	args := a.args[:0]
	for _, res := range rs {
		ev, err := encodeEvidence(res.Evidence)
		if err != nil {
			return fmt.Errorf("encode evidence of %s: %w", res.ID, err)
		}
		since := a.atNS
		old, had := prev[res.ID]
		if had {
			delete(prev, res.ID)
			if old.status == res.Status && old.severity == res.Severity && old.title == res.Title &&
				old.message == res.Message && old.evidence == ev {
				continue
			}
			if old.status == res.Status {
				since = old.sinceNS
			}
		}
		a.countResult(&res, old, had)
		args = append(args, hostID, res.ID, res.Title, res.Status.String(), int64(res.Severity),
			res.Message, ev, drift.Fingerprint(res), since)
	}
	a.args = args
	for i, n := 0, len(upsertSizes); len(args) > 0; {
		size := upsertSizes[i] * resultColumns
		if len(args) < size && i < n-1 {
			i++
			continue
		}
		if _, err := a.st.upsertResults[i].ExecContext(a.ctx, args[:size]...); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
		args = args[size:]
	}
	clear(a.args) // let the strings go
	// What is left of prev left the baseline.
	for id, old := range prev {
		if _, err := a.st.deleteResult.ExecContext(a.ctx, hostID, id); err != nil {
			return fmt.Errorf("delete result %s: %w", id, err)
		}
		a.countRemoved(id, old)
	}
	return nil
}

func (a *applier) upsertHost(r *report.Report, digest []byte) error {
	identity, err := json.Marshal(r.Host)
	if err != nil {
		return fmt.Errorf("encode identity: %w", err)
	}
	facts, err := json.Marshal(r.Facts)
	if err != nil {
		return fmt.Errorf("encode facts: %w", err)
	}
	baseline, err := json.Marshal(r.Baseline)
	if err != nil {
		return fmt.Errorf("encode baseline: %w", err)
	}
	plugins := []byte("[]")
	if len(r.Plugins) > 0 {
		if plugins, err = json.Marshal(r.Plugins); err != nil {
			return fmt.Errorf("encode plugins: %w", err)
		}
	}
	sum := r.Summary
	if _, err := a.st.upsertHost.ExecContext(a.ctx, r.Host.ID, identity, facts, baseline, plugins,
		r.Host.Hostname, r.Facts.OS, r.Facts.Platform, r.Group, r.Agent,
		a.atNS, a.atNS, int64(r.Sequence), r.ScanID, clampInterval(r.ScanIntervalSeconds),
		sum.Pass, sum.Fail, sum.Error, sum.NotApplicable, sum.Skipped, digest); err != nil {
		return fmt.Errorf("write host: %w", err)
	}
	return nil
}

func (a *applier) insertScan(r *report.Report, o Outcome) error {
	sum := r.Summary
	if _, err := a.st.insertScan.ExecContext(a.ctx, r.ScanID, r.Host.ID, int64(r.Sequence),
		toNS(r.StartedAt), toNS(r.FinishedAt), a.atNS, r.Baseline.SHA256,
		sum.Pass, sum.Fail, sum.Error, sum.NotApplicable, sum.Skipped, o.String()); err != nil {
		return fmt.Errorf("record scan: %w", err)
	}
	return nil
}

// insertEvent appends e and sets its id.
func (a *applier) insertEvent(e *report.DriftEvent) error {
	id, err := insertEvent(a.ctx, a.st.insertEvent, e)
	if err != nil {
		return err
	}
	e.ID = id
	return nil
}

func insertEvent(ctx context.Context, st *sql.Stmt, e *report.DriftEvent) (int64, error) {
	from, err := encodeEvidenceOrNull(e.FromEvidence)
	if err != nil {
		return 0, fmt.Errorf("encode drift evidence: %w", err)
	}
	to, err := encodeEvidenceOrNull(e.ToEvidence)
	if err != nil {
		return 0, fmt.Errorf("encode drift evidence: %w", err)
	}
	res, err := st.ExecContext(ctx, e.HostID, string(e.Kind), e.CheckID, int64(e.Severity),
		statusName(e.From), statusName(e.To), from, to, e.Message, e.ScanID, int64(e.Sequence), toNS(e.At))
	if err != nil {
		return 0, fmt.Errorf("append %s drift event: %w", e.Kind, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("append %s drift event: %w", e.Kind, err)
	}
	return id, nil
}

// digestBytes is the stored digest length: 128 bits of SHA-256 make an
// accidental match, which would hide a change, out of the question.
const digestBytes = 16

// resultsDigest hashes everything a results row stores except
// status_since (which follows from the rest): per check, in check id
// order, its id, title, status, severity, message and evidence including
// line numbers. Duration is left out: it differs on every scan and is not
// stored. buf is scratch space, returned for reuse.
func resultsDigest(rs []checks.Result, buf []byte) ([]byte, []byte) {
	order := make([]int, len(rs))
	for i := range order {
		order[i] = i
	}
	// Agents send results in a stable order; sorting makes the digest
	// independent of it anyway.
	slices.SortFunc(order, func(i, j int) int { return cmp.Compare(rs[i].ID, rs[j].ID) })
	b := buf[:0]
	b = binary.AppendUvarint(b, uint64(len(rs)))
	for _, i := range order {
		r := &rs[i]
		b = appendString(b, r.ID)
		b = appendString(b, r.Title)
		b = binary.AppendUvarint(b, uint64(r.Status))
		b = binary.AppendUvarint(b, uint64(r.Severity))
		b = appendString(b, r.Message)
		b = binary.AppendUvarint(b, uint64(len(r.Evidence)))
		for _, e := range r.Evidence {
			b = drift.AppendEvidence(b, e)
			b = binary.AppendVarint(b, int64(e.Line))
		}
	}
	sum := sha256.Sum256(b)
	return sum[:digestBytes], b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// encodeEvidence is the stored form of evidence: JSON, "[]" when none, so
// that nil and empty compare equal.
func encodeEvidence(ev []checks.Evidence) (string, error) {
	if len(ev) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(ev)
	return string(b), err
}

// encodeEvidenceOrNull is encodeEvidence with NULL for none (drift events).
func encodeEvidenceOrNull(ev []checks.Evidence) (any, error) {
	if len(ev) == 0 {
		return nil, nil
	}
	return encodeEvidence(ev)
}

// decodeEvidence is the inverse of encodeEvidence; none is nil.
func decodeEvidence(s string) ([]checks.Evidence, error) {
	if s == "" || s == "[]" || s == "null" {
		return nil, nil
	}
	var ev []checks.Evidence
	if err := json.Unmarshal([]byte(s), &ev); err != nil {
		return nil, fmt.Errorf("decode evidence: %w", err)
	}
	return ev, nil
}

// statusName is the stored form of a status; "" for none (added has no
// From, removed no To).
func statusName(s checks.Status) string {
	if s == 0 {
		return ""
	}
	return s.String()
}

func parseStatus(name string) (checks.Status, error) {
	if name == "" {
		return 0, nil
	}
	return checks.ParseStatus(name)
}
