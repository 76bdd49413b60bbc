// Package store keeps the fleet's state in SQLite (modernc.org/sqlite, pure
// Go): each host's latest results, every scan received, the append-only
// drift event log, waivers, and a bounded copy of rejected messages.
//
// Ingest writes through Apply, one transaction per batch of reports, and
// acks NATS only after it returns; the database therefore runs in WAL mode
// with synchronous=FULL, so that a batch Apply reported as committed
// survives a power loss. Writes go through a single connection (SQLite has
// one writer anyway, and queuing in Go is cheaper than busy waits); the
// API's reads use a separate pool and, thanks to WAL, never wait for a
// write in progress.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Options configure a Store. Zero values take the documented defaults.
type Options struct {
	// Logger [discard] receives store events (new hosts, stale hosts).
	Logger *slog.Logger
	// DefaultInterval [1h] is the scan interval assumed for a host whose
	// agent never said its own.
	DefaultInterval time.Duration
	// StaleGrace [5m] is added to twice the interval before a silent host
	// is flagged stale, so that a scan that runs a little late is not.
	StaleGrace time.Duration
	// MaxRejected [1000] rejected messages are kept; older ones are
	// deleted as new ones arrive.
	MaxRejected int
	// Now [time.Now] is the clock for what is decided at query time
	// (whether a waiver is live) and for defaults (a waiver's Created).
	// Tests pin it.
	Now func() time.Time
	// BusyTimeout [5s] is how long a statement waits for a lock held by
	// another process using the same file (a backup, the sqlite3 shell).
	BusyTimeout time.Duration
	// ReadConns [max(4, GOMAXPROCS)] bounds the read pool.
	ReadConns int
}

// Store is the fleet state in one SQLite file. Its methods are safe for
// concurrent use.
type Store struct {
	path string
	opts Options
	log  *slog.Logger
	// w has exactly one connection: every write is serialised through it.
	w *sql.DB
	// r is the read pool (query_only), for the API.
	r *sql.DB
	// ignoredHeartbeats counts heartbeats of hosts that never reported.
	ignoredHeartbeats atomic.Uint64
	stmts             writeStmts
}

// Open opens (creating if needed) the database at path and brings its
// schema up to date. A database written by a newer plumbline (a schema
// version this code does not know) is refused rather than guessed at.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.DefaultInterval <= 0 {
		opts.DefaultInterval = time.Hour
	}
	if opts.StaleGrace <= 0 {
		opts.StaleGrace = 5 * time.Minute
	}
	if opts.MaxRejected <= 0 {
		opts.MaxRejected = 1000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = max(4, runtime.GOMAXPROCS(0))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{path: abs, opts: opts, log: opts.Logger}
	if err := s.open(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", abs, diagnoseOpen(abs, err))
	}
	return s, nil
}

func (s *Store) open(ctx context.Context) error {
	busy := strconv.FormatInt(s.opts.BusyTimeout.Milliseconds(), 10)
	wq := url.Values{
		"_journal_mode": {"WAL"},
		// FULL: in WAL mode NORMAL may lose the last commits on power
		// loss, and ingest has acked those reports by then.
		"_synchronous":  {"FULL"},
		"_busy_timeout": {busy},
		"_foreign_keys": {"1"},
		// IMMEDIATE: take the write lock at BEGIN, so that a transaction
		// never fails half-way trying to upgrade a read lock.
		"_txlock": {"immediate"},
		"_pragma": {"cache_size(-32768)", "journal_size_limit(67108864)", "temp_store(memory)"},
	}
	var err error
	if s.w, err = sql.Open("sqlite", dsn(s.path, wq)); err != nil {
		return err
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)

	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, not wal (the file system may not support WAL's shared memory)", mode)
	}
	if err := s.migrate(ctx); err != nil {
		return err
	}

	rq := url.Values{
		"_busy_timeout": {busy},
		"_query_only":   {"1"},
		"_pragma":       {"cache_size(-16384)", "temp_store(memory)"},
	}
	if s.r, err = sql.Open("sqlite", dsn(s.path, rq)); err != nil {
		return err
	}
	s.r.SetMaxOpenConns(s.opts.ReadConns)
	s.r.SetMaxIdleConns(s.opts.ReadConns)
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("read pool: %w", err)
	}
	return s.prepare(ctx)
}

// dsn builds a file: URI, so that a path holding '?' or '#' is not taken
// for query parameters.
func dsn(path string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

// migrate applies the schema steps the database has not had, in one
// transaction: a failure leaves it at its old version.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this plumbline knows (%d): the file was written by a newer release; upgrade plumbline or open another file", version, len(migrations))
	}
	if version == len(migrations) {
		return nil
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", i+1, err)
		}
	}
	// PRAGMA takes no parameters; the value is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("set schema version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration: %w", err)
	}
	s.log.Info("store schema migrated", "path", s.path, "from_version", version, "to_version", len(migrations))
	return nil
}

// Path is the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database. Committed data is already durable; Close
// only releases the connections (and lets SQLite checkpoint the WAL).
func (s *Store) Close() error {
	var errs []error
	s.stmts.close()
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// ErrFull is matched (errors.Is) by errors from a write that failed because
// the database or the disk holding it is full. Nothing of the failed
// transaction was applied; the same write can succeed once space is freed.
var ErrFull = errors.New("database or disk is full")

// ErrBusy is matched (errors.Is) by errors from a write that waited
// BusyTimeout for a lock another process holds (a backup, the sqlite3
// shell): retry later.
var ErrBusy = errors.New("database is locked by another process")

// ErrReadOnly is matched (errors.Is) by errors from a write that failed
// because the database cannot be written (read-only file or file system).
var ErrReadOnly = errors.New("database is read-only")

// ErrInvalid is matched (errors.Is) by errors for input the store refuses:
// a waiver without an owner, an unknown drift kind, a report that does not
// validate. Retrying the same input cannot succeed.
var ErrInvalid = errors.New("invalid")

// storageError keeps SQLite's own message ("database or disk is full
// (13)") and adds a sentinel callers can test for.
type storageError struct {
	kind, err error
}

func (e *storageError) Error() string   { return e.err.Error() }
func (e *storageError) Unwrap() []error { return []error{e.kind, e.err} }

// classify marks SQLite errors that mean "this database cannot take writes
// now" so that callers can tell them from bugs and bad input.
func classify(err error) error {
	var se *sqlite.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		return &storageError{ErrFull, err}
	case sqlite3.SQLITE_READONLY:
		return &storageError{ErrReadOnly, err}
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return &storageError{ErrBusy, err}
	}
	return err
}

// diagnoseOpen adds the likely cause to a failed Open. SQLite says only
// "unable to open database file" when it cannot create the file, its WAL
// or its shared-memory index next to it; the usual cause is a data
// directory that is missing or cannot be written (a read-only mount), and
// the way to find out is to try.
func diagnoseOpen(path string, err error) error {
	dir := filepath.Dir(path)
	f, perr := os.CreateTemp(dir, ".plumbline-write-probe-*")
	if perr == nil {
		f.Close()
		os.Remove(f.Name())
		return classify(err)
	}
	if errors.Is(perr, fs.ErrNotExist) {
		return fmt.Errorf("%w (directory %s does not exist)", classify(err), dir)
	}
	return &storageError{ErrReadOnly, fmt.Errorf("%w: data directory %s cannot be written: %w", err, dir, perr)}
}

// toNS encodes a time for the database (see migrations); out-of-range
// times, which only a broken agent clock produces, are clamped.
func toNS(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// fromNS decodes toNS.
func fromNS(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
