package checks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"
)

// Host is everything a check may read. Paths are absolute paths as seen from
// inside the scanned system ("/etc/sudoers"); the implementation maps them
// into the scanned root, follows symlinks inside it, and never escapes it.
// /proc and /sys paths read the live kernel's views (or fixture trees).
//
// The interface is deliberately file-shaped so that it can be served to
// out-of-process plugins unchanged.
type Host interface {
	// ReadFile returns the file's contents, at most MaxFileSize bytes.
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// Stat follows symlinks; Lstat does not.
	Stat(ctx context.Context, path string) (FileInfo, error)
	Lstat(ctx context.Context, path string) (FileInfo, error)
	// ReadDir lists a directory sorted by name.
	ReadDir(ctx context.Context, path string) ([]FileInfo, error)
	// Readlink returns a symlink's target as written.
	Readlink(ctx context.Context, path string) (string, error)
	// Glob matches a path.Match pattern against the host's tree, sorted.
	Glob(ctx context.Context, pattern string) ([]string, error)
	// Exec runs an allow-listed command on the machine doing the scan,
	// under a deadline. An argument equal to ExecRoot is replaced by the
	// directory holding the scanned root, for commands such as
	// "rpm --root" that can read a mounted image.
	Exec(ctx context.Context, name string, args ...string) (ExecResult, error)
	// Live reports whether the host is the running system (root "/" with its
	// own /proc), as opposed to a mounted image or fixture tree whose
	// processes and kernel state cannot be observed.
	Live() bool
}

// ExecRoot stands for the scanned root's directory in Exec arguments.
const ExecRoot = "{root}"

// MaxFileSize bounds ReadFile: configuration files are small, and a huge file
// where a config is expected is itself a finding, not something to load.
const MaxFileSize = 16 << 20

// FileInfo is what a check learns about a file: enough for permission and
// ownership checks, and plain data so it can cross a process boundary.
type FileInfo struct {
	// Path is the host path (inside the root).
	Path    string      `json:"path"`
	Name    string      `json:"name"`
	Mode    fs.FileMode `json:"mode"`
	UID     uint32      `json:"uid"`
	GID     uint32      `json:"gid"`
	Size    int64       `json:"size"`
	ModTime time.Time   `json:"mod_time"`
}

// IsDir reports whether the file is a directory.
func (f FileInfo) IsDir() bool { return f.Mode.IsDir() }

// IsSymlink reports whether the file is a symbolic link (only from Lstat/ReadDir).
func (f FileInfo) IsSymlink() bool { return f.Mode&fs.ModeSymlink != 0 }

// Perm returns the permission bits including setuid, setgid and sticky, as
// octal modes are written: 04755 and not Go's mode flags.
func (f FileInfo) Perm() uint32 {
	m := uint32(f.Mode.Perm())
	if f.Mode&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if f.Mode&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if f.Mode&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	return m
}

// ExecResult is the outcome of an allow-listed command.
type ExecResult struct {
	Stdout   []byte `json:"stdout"`
	Stderr   []byte `json:"stderr"`
	ExitCode int    `json:"exit_code"`
}

// Errors a Host returns; wrap-compatible with errors.Is.
var (
	// ErrNotExist is fs.ErrNotExist so that callers can use either.
	ErrNotExist = fs.ErrNotExist
	// ErrLoop: too many levels of symbolic links.
	ErrLoop = errors.New("too many levels of symbolic links")
	// ErrTooLarge: the file exceeds MaxFileSize.
	ErrTooLarge = errors.New("file too large")
	// ErrNotAllowed: the command is not on the allow list.
	ErrNotAllowed = errors.New("command not allowed")
)

// Memoizer is an optional Host capability: a per-scan cache so that the
// package database or the process table is read once per scan, however
// many checks need it.
type Memoizer interface {
	Memo() *Memo
}

// Memo caches values per key for one scan; safe for concurrent use. The
// first caller for a key computes it while others wait.
type Memo struct {
	mu      sync.Mutex
	entries map[string]*memoEntry
}

type memoEntry struct {
	once sync.Once
	val  any
	err  error
}

// Memoized returns fn's result for key, computing it at most once per Memo.
// Without a Memoizer host it simply calls fn. A result that failed because
// the computing check's context ended is not kept: another check with time
// left computes it afresh instead of inheriting someone else's timeout.
func Memoized[T any](h Host, key string, fn func() (T, error)) (T, error) {
	mz, ok := h.(Memoizer)
	if !ok {
		return fn()
	}
	m := mz.Memo()
	for attempt := 0; ; attempt++ {
		m.mu.Lock()
		if m.entries == nil {
			m.entries = map[string]*memoEntry{}
		}
		e, ok := m.entries[key]
		if !ok {
			e = &memoEntry{}
			m.entries[key] = e
		}
		m.mu.Unlock()
		e.once.Do(func() {
			// A panic would leave the entry "done" with no value and no
			// error; every later caller would then see an empty result.
			defer func() {
				if p := recover(); p != nil {
					e.err = fmt.Errorf("reading %s failed: panic: %v", key, p)
				}
			}()
			e.val, e.err = fn()
		})
		if isContextErr(e.err) {
			m.mu.Lock()
			if m.entries[key] == e {
				delete(m.entries, key)
			}
			m.mu.Unlock()
			if attempt < 2 {
				continue
			}
		}
		v, ok := e.val.(T)
		if !ok && e.err == nil {
			return v, fmt.Errorf("memo key %s holds %T, not the type asked for", key, e.val)
		}
		return v, e.err
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
