// Package spool is the agent's bounded on-disk outbox: every encoded report
// is written here first and removed only once the server has it, so reports
// survive NATS outages and agent restarts, and are sent in sequence order.
//
// Each report is one file named by its sequence, zero-padded so that names
// sort as numbers ("00000000000000000042.report"). A file is written under a
// temporary name, synced, and renamed into place, so a crash leaves either
// the whole report or a temporary file that Open removes.
//
// The spool is bounded by bytes and by count; beyond either bound the
// oldest reports are dropped, because for a configuration scanner the
// latest state matters most and a host that was away for a week should not
// replay a week of hourly scans before its current one.
package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Defaults for zero Options.
const (
	DefaultMaxBytes   = 64 << 20
	DefaultMaxReports = 1000
)

const (
	suffix    = ".report"
	tmpPrefix = ".tmp-"
	// BadDir is the subdirectory Open moves files it does not recognise
	// into, so that nothing unknown is deleted and nothing unknown is sent.
	BadDir = "bad"
)

// Options bound the spool.
type Options struct {
	// MaxBytes bounds the total size of spooled reports; 0 means
	// DefaultMaxBytes. A single report larger than this is refused.
	MaxBytes int64
	// MaxReports bounds their number; 0 means DefaultMaxReports.
	MaxReports int
	// Logger receives drops and repairs; nil discards.
	Logger *slog.Logger
}

// Item is one spooled report.
type Item struct {
	Seq  uint64
	Path string
	Size int64
}

// Spool is an on-disk outbox. It is safe for concurrent use by the
// goroutines of one process; two processes must not share a directory.
type Spool struct {
	dir string
	max Options
	log *slog.Logger

	mu      sync.Mutex
	items   []Item // sorted by Seq
	bytes   int64
	dropped uint64
}

// Open opens (creating it if needed) the spool in dir. It removes the
// temporary files a crash can leave, moves files it does not recognise into
// dir/bad/ with a warning, and applies the limits, which may have shrunk
// since the last run.
func Open(dir string, opts Options) (*Spool, error) {
	if opts.MaxBytes < 0 || opts.MaxReports < 0 {
		return nil, fmt.Errorf("open spool %s: negative limits (max bytes %d, max reports %d)", dir, opts.MaxBytes, opts.MaxReports)
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxReports == 0 {
		opts.MaxReports = DefaultMaxReports
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Reports describe the host's security posture: owner-only.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	s := &Spool{dir: dir, max: opts, log: log}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		p := filepath.Join(dir, name)
		switch {
		case name == BadDir && e.IsDir():
		case strings.HasPrefix(name, tmpPrefix) && e.Type().IsRegular():
			// A Put that never reached its rename: the report was not
			// stored, and the caller was told so.
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("open spool: remove unfinished write: %w", err)
			}
			log.Info("spool: removed an unfinished write", "path", p)
		default:
			seq, ok := parseName(name)
			var size int64
			reason := "name is not <sequence>" + suffix
			if ok && e.Type().IsRegular() {
				info, err := e.Info()
				if err != nil {
					return nil, fmt.Errorf("open spool: %w", err)
				}
				size = info.Size()
				if size > 0 {
					s.items = append(s.items, Item{Seq: seq, Path: p, Size: size})
					s.bytes += size
					continue
				}
				reason = "report is empty"
			} else if ok {
				reason = "not a regular file"
			}
			if err := s.quarantine(name, reason); err != nil {
				return nil, err
			}
		}
	}
	slices.SortFunc(s.items, func(a, b Item) int { return cmpSeq(a.Seq, b.Seq) })
	if err := s.enforce(); err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	return s, nil
}

// quarantine moves an unrecognised entry into dir/bad, under a free name.
func (s *Spool) quarantine(name, reason string) error {
	bad := filepath.Join(s.dir, BadDir)
	if err := os.MkdirAll(bad, 0o700); err != nil {
		return fmt.Errorf("open spool: %w", err)
	}
	dst := filepath.Join(bad, name)
	for i := 1; ; i++ {
		if _, err := os.Lstat(dst); errors.Is(err, fs.ErrNotExist) {
			break
		}
		dst = filepath.Join(bad, name+"."+strconv.Itoa(i))
	}
	if err := os.Rename(filepath.Join(s.dir, name), dst); err != nil {
		return fmt.Errorf("open spool: set aside %s: %w", name, err)
	}
	s.log.Warn("spool: set aside a file that is not a report", "file", name, "reason", reason, "moved_to", dst)
	return nil
}

func fileName(seq uint64) string { return fmt.Sprintf("%020d%s", seq, suffix) }

// parseName accepts exactly the names Put writes, so that one sequence
// has one file.
func parseName(n string) (uint64, bool) {
	digits, ok := strings.CutSuffix(n, suffix)
	if !ok || len(digits) != 20 || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	seq, err := strconv.ParseUint(digits, 10, 64)
	return seq, err == nil
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Put stores a report durably under its sequence, replacing one stored
// under the same sequence, then drops the oldest reports while the spool is
// over a limit (possibly this one, if its sequence is the oldest). A report
// larger than the byte limit, or empty, is refused.
func (s *Spool) Put(seq uint64, data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("spool report %d: empty", seq)
	}
	if int64(len(data)) > s.max.MaxBytes {
		return fmt.Errorf("spool report %d: %d bytes is more than the spool's limit of %d", seq, len(data), s.max.MaxBytes)
	}
	// Write and sync outside the lock: it is the slow part, and the
	// temporary name is private to this call.
	tmp, err := writeTemp(s.dir, data)
	if err != nil {
		return fmt.Errorf("spool report %d: %w", seq, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	final := filepath.Join(s.dir, fileName(seq))
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("spool report %d: %w", seq, err)
	}
	// The rename is durable only once the directory is synced.
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("spool report %d: %w", seq, err)
	}
	it := Item{Seq: seq, Path: final, Size: int64(len(data))}
	i, found := slices.BinarySearchFunc(s.items, seq, func(it Item, seq uint64) int { return cmpSeq(it.Seq, seq) })
	if found {
		s.bytes += it.Size - s.items[i].Size
		s.items[i] = it
	} else {
		s.items = slices.Insert(s.items, i, it)
		s.bytes += it.Size
	}
	if err := s.enforce(); err != nil {
		return fmt.Errorf("spool report %d: stored, but %w", seq, err)
	}
	return nil
}

func writeTemp(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return "", err
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(f.Name())
		return "", werr
	}
	return f.Name(), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// enforce drops the oldest reports while over a limit; s.mu is held.
func (s *Spool) enforce() error {
	for len(s.items) > 0 && (len(s.items) > s.max.MaxReports || s.bytes > s.max.MaxBytes) {
		old := s.items[0]
		limit := "max_reports"
		if len(s.items) <= s.max.MaxReports {
			limit = "max_bytes"
		}
		if err := os.Remove(old.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("drop report %d: %w", old.Seq, err)
		}
		s.items = s.items[1:]
		s.bytes -= old.Size
		s.dropped++
		s.log.Warn("spool full: dropped the oldest report", "sequence", old.Seq, "bytes", old.Size, "limit", limit,
			"spooled", len(s.items), "spooled_bytes", s.bytes, "dropped_total", s.dropped)
	}
	return nil
}

// Items returns the spooled reports, oldest (lowest sequence) first. It is
// a snapshot: an item may be dropped or removed before it is read. The
// error is for implementations that must read the disk; this one keeps an
// index and does not fail.
func (s *Spool) Items() ([]Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.items), nil
}

// Read returns a spooled report's bytes. A report dropped or removed since
// Items listed it gives an error matching fs.ErrNotExist.
func (s *Spool) Read(it Item) ([]byte, error) {
	// The path is derived from the sequence rather than taken from the
	// Item, so a caller cannot make the spool read outside its directory.
	data, err := os.ReadFile(filepath.Join(s.dir, fileName(it.Seq)))
	if err != nil {
		return nil, fmt.Errorf("read spooled report %d: %w", it.Seq, err)
	}
	return data, nil
}

// Remove deletes the report with the sequence, once it has been delivered.
// Removing one that is not there (already dropped) is not an error.
func (s *Spool) Remove(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, found := slices.BinarySearchFunc(s.items, seq, func(it Item, seq uint64) int { return cmpSeq(it.Seq, seq) })
	if !found {
		return nil
	}
	// No directory sync: if a crash undoes this removal the report is
	// sent again, and the server's dedupe on Nats-Msg-Id and sequence
	// makes that harmless.
	if err := os.Remove(s.items[i].Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove spooled report %d: %w", seq, err)
	}
	s.bytes -= s.items[i].Size
	s.items = slices.Delete(s.items, i, i+1)
	return nil
}

// Len returns the number of spooled reports.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

// Bytes returns the total size of spooled reports.
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// Dropped counts the reports dropped to stay within the limits since Open
// (including by Open itself).
func (s *Spool) Dropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}
