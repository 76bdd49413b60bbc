// Package hostfs implements checks.Host over a directory tree: the live
// system ("/"), a mounted image, a chroot, or a fixture tree. Paths are
// resolved as the scanned system would resolve them: absolute symlinks and
// ".." stay inside the root, as under chroot(2).
package hostfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/plumbline/plumbline/checks"
)

// maxSymlinks matches Linux's MAXSYMLINKS.
const maxSymlinks = 40

// Options say where the scanned system lives.
type Options struct {
	// Root is the directory that is "/" for the scanned system; default "/".
	Root string
	// Proc and Sys are the directories serving /proc and /sys; by default
	// Root/proc and Root/sys. For a mounted image they are usually empty
	// and checks that need kernel state say so.
	Proc string
	Sys  string
	// ExecTimeout bounds each allow-listed command; default 5s.
	ExecTimeout time.Duration
	// Commands is the allow list for Exec: command name to absolute path.
	// Nil means DefaultCommands.
	Commands map[string]string
}

// DefaultCommands are the only external commands checks may run, each with
// a file-based fallback where one exists.
var DefaultCommands = map[string]string{
	"cryptsetup": "/usr/sbin/cryptsetup",
	"rpm":        "/usr/bin/rpm",
}

// Root is a checks.Host over a directory tree.
type Root struct {
	root, proc, sys string
	// direct is set when the tree is the live system with no remapping, so
	// the kernel's own path resolution is exactly ours.
	direct      bool
	execTimeout time.Duration
	commands    map[string]string
	memo        checks.Memo
}

var _ checks.Host = (*Root)(nil)
var _ checks.Memoizer = (*Root)(nil)

// New checks that the root exists and returns a Host over it.
func New(opts Options) (*Root, error) {
	if opts.Root == "" {
		opts.Root = "/"
	}
	abs, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", opts.Root, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", opts.Root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("root %s: not a directory", opts.Root)
	}
	r := &Root{
		root:        abs,
		proc:        opts.Proc,
		sys:         opts.Sys,
		execTimeout: opts.ExecTimeout,
		commands:    opts.Commands,
	}
	if r.proc == "" {
		r.proc = filepath.Join(abs, "proc")
	}
	if r.sys == "" {
		r.sys = filepath.Join(abs, "sys")
	}
	if r.execTimeout <= 0 {
		r.execTimeout = 5 * time.Second
	}
	if r.commands == nil {
		r.commands = DefaultCommands
	}
	r.direct = abs == "/" && filepath.Clean(r.proc) == "/proc" && filepath.Clean(r.sys) == "/sys"
	return r, nil
}

// Memo implements checks.Memoizer.
func (r *Root) Memo() *checks.Memo { return &r.memo }

// Live implements checks.Host.
func (r *Root) Live() bool { return r.direct }

// RootDir returns the directory the host is read from.
func (r *Root) RootDir() string { return r.root }

// toReal maps a clean absolute host path to the directory tree that serves it.
func (r *Root) toReal(v string) string {
	for _, m := range [...]struct{ prefix, dir string }{{"/proc", r.proc}, {"/sys", r.sys}} {
		if v == m.prefix {
			return m.dir
		}
		if strings.HasPrefix(v, m.prefix+"/") {
			return filepath.Join(m.dir, v[len(m.prefix):])
		}
	}
	return filepath.Join(r.root, v)
}

// resolve returns the real path for host path p, following symlinks in
// every component (and in the last one when follow is set) without ever
// leaving the root.
func (r *Root) resolve(p string, follow bool) (string, error) {
	if !path.IsAbs(p) {
		return "", &fs.PathError{Op: "resolve", Path: p, Err: errors.New("path must be absolute")}
	}
	if r.direct {
		return p, nil
	}
	// ".." is applied to the resolved path as the walk goes, never to the
	// text: with /l -> /x/y, "/l/../f" is /x/f, as the kernel has it.
	cur := "/"
	rest := strings.TrimLeft(p, "/")
	links := 0
	for rest != "" {
		var comp string
		comp, rest, _ = strings.Cut(rest, "/")
		switch comp {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, comp)
		if rest == "" && !follow {
			cur = next
			break
		}
		fi, err := os.Lstat(r.toReal(next))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				// The remaining components cannot exist either; report
				// the path the caller asked for.
				return "", &fs.PathError{Op: "resolve", Path: p, Err: fs.ErrNotExist}
			}
			return "", &fs.PathError{Op: "resolve", Path: p, Err: unwrapPathErr(err)}
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if rest != "" && !fi.IsDir() {
				return "", &fs.PathError{Op: "resolve", Path: p, Err: syscall.ENOTDIR}
			}
			cur = next
			continue
		}
		links++
		if links > maxSymlinks {
			return "", &fs.PathError{Op: "resolve", Path: p, Err: checks.ErrLoop}
		}
		target, err := os.Readlink(r.toReal(next))
		if err != nil {
			return "", &fs.PathError{Op: "readlink", Path: next, Err: unwrapPathErr(err)}
		}
		if path.IsAbs(target) {
			cur = "/"
		}
		if rest == "" {
			rest = target
		} else {
			rest = target + "/" + rest
		}
		rest = strings.TrimLeft(rest, "/")
	}
	return r.toReal(cur), nil
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// wrap replaces the real path in an os error with the host path, so that
// messages name what the user knows ("/etc/sudoers"), not the mount point.
func wrap(op, p string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Op == "resolve" {
		return err
	}
	return &fs.PathError{Op: op, Path: p, Err: unwrapPathErr(err)}
}

// ReadFile implements checks.Host.
func (r *Root) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	real, err := r.resolve(p, true)
	if err != nil {
		return nil, err
	}
	// O_NONBLOCK so that a FIFO planted where a config file belongs cannot
	// block the scan; only regular files are read, except in /proc and
	// /sys where everything is a special file of size 0.
	f, err := os.OpenFile(real, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, wrap("open", p, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, wrap("stat", p, err)
	} else if !fi.Mode().IsRegular() && !isKernelPath(p) {
		return nil, &fs.PathError{Op: "read", Path: p, Err: fmt.Errorf("not a regular file (%s)", fi.Mode().Type())}
	}
	// /proc and /sys files report size 0, so read to EOF with a bound
	// rather than trusting Stat.
	data, err := io.ReadAll(io.LimitReader(f, checks.MaxFileSize+1))
	if err != nil {
		return nil, wrap("read", p, err)
	}
	if len(data) > checks.MaxFileSize {
		return nil, &fs.PathError{Op: "read", Path: p, Err: checks.ErrTooLarge}
	}
	return data, nil
}

func isKernelPath(p string) bool {
	p = path.Clean(p)
	return p == "/proc" || p == "/sys" || strings.HasPrefix(p, "/proc/") || strings.HasPrefix(p, "/sys/")
}

// Stat implements checks.Host.
func (r *Root) Stat(ctx context.Context, p string) (checks.FileInfo, error) {
	return r.stat(ctx, p, true)
}

// Lstat implements checks.Host.
func (r *Root) Lstat(ctx context.Context, p string) (checks.FileInfo, error) {
	return r.stat(ctx, p, false)
}

func (r *Root) stat(ctx context.Context, p string, follow bool) (checks.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return checks.FileInfo{}, err
	}
	real, err := r.resolve(p, follow)
	if err != nil {
		return checks.FileInfo{}, err
	}
	var fi fs.FileInfo
	if follow {
		fi, err = os.Stat(real)
	} else {
		fi, err = os.Lstat(real)
	}
	if err != nil {
		return checks.FileInfo{}, wrap("stat", p, err)
	}
	return fileInfo(path.Clean(p), fi), nil
}

func fileInfo(p string, fi fs.FileInfo) checks.FileInfo {
	out := checks.FileInfo{
		Path:    p,
		Name:    path.Base(p),
		Mode:    fi.Mode(),
		Size:    fi.Size(),
		ModTime: fi.ModTime(),
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		out.UID, out.GID = st.Uid, st.Gid
	}
	return out
}

// ReadDir implements checks.Host. Entries are Lstat'ed: a symlink is
// reported as a symlink.
func (r *Root) ReadDir(ctx context.Context, p string) ([]checks.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	real, err := r.resolve(p, true)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(real)
	if err != nil {
		return nil, wrap("readdir", p, err)
	}
	out := make([]checks.FileInfo, 0, len(entries))
	dir := path.Clean(p)
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			// Vanished between listing and stat (common in /proc): skip.
			continue
		}
		out = append(out, fileInfo(path.Join(dir, e.Name()), fi))
	}
	return out, nil
}

// Readlink implements checks.Host.
func (r *Root) Readlink(ctx context.Context, p string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	real, err := r.resolve(p, false)
	if err != nil {
		return "", err
	}
	t, err := os.Readlink(real)
	return t, wrap("readlink", p, err)
}

// Glob implements checks.Host with path.Match semantics per component.
// Files whose names start with "." match only patterns that do too, as in a
// shell.
func (r *Root) Glob(ctx context.Context, pattern string) ([]string, error) {
	if !path.IsAbs(pattern) {
		return nil, fmt.Errorf("glob %q: pattern must be absolute", pattern)
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("glob %q: %w", pattern, err)
	}
	matches := []string{"/"}
	for _, comp := range strings.Split(strings.Trim(path.Clean(pattern), "/"), "/") {
		if comp == "" {
			continue
		}
		var next []string
		for _, dir := range matches {
			if !hasMeta(comp) {
				cand := path.Join(dir, comp)
				_, err := r.Lstat(ctx, cand)
				if err == nil {
					next = append(next, cand)
				} else if !noMatch(err) {
					return nil, fmt.Errorf("glob %s: %w", pattern, err)
				}
				continue
			}
			entries, err := r.ReadDir(ctx, dir)
			if err != nil {
				if noMatch(err) {
					continue
				}
				// Unreadable or looping: "no files" would be a lie that
				// turns into a wrong PASS.
				return nil, fmt.Errorf("glob %s: %w", pattern, err)
			}
			for _, e := range entries {
				if strings.HasPrefix(e.Name, ".") && !strings.HasPrefix(comp, ".") {
					continue
				}
				if ok, _ := path.Match(comp, e.Name); ok {
					next = append(next, e.Path)
				}
			}
		}
		matches = next
		if len(matches) == 0 {
			return nil, nil
		}
	}
	slices.Sort(matches)
	return matches, nil
}

// noMatch reports errors that mean "nothing here" for a glob: the path does
// not exist, or is not a directory.
func noMatch(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// maxExecOutput bounds what an allow-listed command may return.
const maxExecOutput = 1 << 20

// Exec implements checks.Host: only commands on the allow list, with a
// scrubbed environment, under a deadline, with bounded output.
func (r *Root) Exec(ctx context.Context, name string, args ...string) (checks.ExecResult, error) {
	bin, ok := r.commands[name]
	if !ok {
		return checks.ExecResult{}, fmt.Errorf("exec %s: %w", name, checks.ErrNotAllowed)
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, r.execTimeout)
	defer cancel()
	args = slices.Clone(args)
	for i, a := range args {
		if a == checks.ExecRoot {
			args[i] = r.root
		}
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	var stdout, stderr boundedBuffer
	stdout.limit, stderr.limit = maxExecOutput, maxExecOutput
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := checks.ExecResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	if parent.Err() != nil {
		// The caller's deadline or cancellation: say so in a way errors.Is
		// recognises, so that nothing caches it as the command's answer.
		return res, fmt.Errorf("exec %s: %w", name, parent.Err())
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("exec %s: deadline of %s exceeded", name, r.execTimeout)
	}
	if stdout.truncated {
		return res, fmt.Errorf("exec %s: output above %d bytes: %w", name, maxExecOutput, checks.ErrTooLarge)
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		res.ExitCode = exitErr.ExitCode()
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("exec %s: %w", name, err)
	}
	return res, nil
}

// boundedBuffer keeps the first limit bytes. It must not embed
// bytes.Buffer: io.Copy would use the embedded ReadFrom and bypass the bound.
type boundedBuffer struct {
	buf       bytes.Buffer
	limit     int
	truncated bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.buf.Len(); room < len(p) {
		b.truncated = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

// Bytes returns what was kept.
func (b *boundedBuffer) Bytes() []byte { return b.buf.Bytes() }
