package loader

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/plumbline/plumbline/checks"
)

// guardedHost is the host as a plugin may see it: everything a built-in
// check may read, except the agent itself (its /proc entry, which holds its
// environment and open files, and the paths in deny: its data directory and
// credentials), and commands only in the shapes the built-in checks use.
// The service reads as the agent's user, so these are the reads a plugin
// running as another user could otherwise borrow the agent's rights for.
type guardedHost struct {
	checks.Host
	deny []string // absolute, symlink-free paths on the live host
	pid  string   // the agent's pid
	live bool     // the host is the one the agent runs on: guard it
	memo *checks.Memo
}

// Memo implements checks.Memoizer with the scanned host's own per-scan
// cache, so that the package database the agent parsed for its linked
// checks is parsed once for every plugin of the scan too.
func (g *guardedHost) Memo() *checks.Memo { return g.memo }

func newGuardedHost(h checks.Host, deny []string) *guardedHost {
	g := &guardedHost{Host: h, pid: strconv.Itoa(os.Getpid()), memo: &checks.Memo{}}
	if m, ok := h.(checks.Memoizer); ok {
		g.memo = m.Memo()
	}
	if !h.Live() {
		return g // an image's /proc and files are not the agent's
	}
	g.live = true
	for _, p := range deny {
		if p == "" {
			continue
		}
		if a, err := filepath.Abs(p); err == nil {
			p = a
		}
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		g.deny = append(g.deny, filepath.Clean(p))
	}
	return g
}

// check refuses p when it leads into a denied path. The path is resolved
// as the kernel resolves it (links in every component, the last one only
// when follow is set, and ".." applied to the resolved path, not to the
// text: "/dev/fd/../environ" is the agent's /proc/<pid>/environ), so that
// a link (/dev/fd, /tmp/x -> /proc/self) does not get round it. The
// agent's /proc entry is denied under any of its thread ids too
// (/proc/<tid> is the same process), and no link in it is followed (cwd,
// root, fd/N lead wherever the agent is); what the host-wide links
// /proc/mounts and /proc/net lead to in it is the host's, and is served.
func (g *guardedHost) check(op, p string, follow bool) error {
	if !g.live {
		return nil
	}
	if g.leadsToDenied(p, follow) {
		return &fs.PathError{Op: op, Path: p, Err: fmt.Errorf("the agent's own files are not served to plugins: %w", fs.ErrPermission)}
	}
	return nil
}

// maxLinks matches Linux's MAXSYMLINKS.
const maxLinks = 40

func (g *guardedHost) leadsToDenied(p string, follow bool) bool {
	if !path.IsAbs(p) {
		return false // the host refuses it
	}
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
		if g.deniedPath(next) {
			return true
		}
		if rest == "" && !follow {
			return g.denied(next)
		}
		fi, err := os.Lstat(next)
		if err != nil {
			// Missing, or not a directory: the kernel fails here too;
			// the text left is checked as written.
			return g.denied(path.Join(next, rest))
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if in, _ := g.agentProc(next); in {
			return true
		}
		if links++; links > maxLinks {
			return false // the kernel gives up (ELOOP) as well
		}
		target, err := os.Readlink(next)
		if err != nil {
			return false
		}
		if !path.IsAbs(target) && strings.HasPrefix(next, "/proc/") && strings.Contains(target, ":") {
			// Another process's magic link to something without a path
			// (a pipe, a socket, an anonymous inode).
			cur = next
			continue
		}
		if path.IsAbs(target) {
			cur = "/"
		}
		rest = strings.TrimLeft(target+"/"+rest, "/")
	}
	return g.denied(cur)
}

// denied reports whether clean absolute path p is, or is inside, a denied
// path or the agent's /proc entry.
func (g *guardedHost) denied(p string) bool {
	if in, host := g.agentProc(p); in && !host {
		return true
	}
	return g.deniedPath(p)
}

// deniedPath reports whether clean absolute path p is, or is inside, one
// of the deny paths.
func (g *guardedHost) deniedPath(p string) bool {
	for _, d := range g.deny {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// agentProc reports whether clean absolute path p is, or is inside, the
// /proc entry of the agent or of one of its threads (thread ids are not
// listed in /proc but are served there), and whether it is one of the
// entries that show the host rather than the agent (mounts, mountinfo,
// net: what /proc/mounts and /proc/net link to).
func (g *guardedHost) agentProc(p string) (in, host bool) {
	rest, ok := strings.CutPrefix(p, "/proc/")
	if !ok {
		return false, false
	}
	id, sub, _ := strings.Cut(rest, "/")
	if id == "" || strings.Trim(id, "0123456789") != "" {
		return false, false
	}
	if id != g.pid {
		if _, err := os.Lstat("/proc/" + g.pid + "/task/" + id); err != nil {
			return false, false
		}
	}
	return true, sub == "mounts" || sub == "mountinfo" || sub == "net" || strings.HasPrefix(sub, "net/")
}

func (g *guardedHost) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if err := g.check("read", p, true); err != nil {
		return nil, err
	}
	return g.Host.ReadFile(ctx, p)
}

func (g *guardedHost) Stat(ctx context.Context, p string) (checks.FileInfo, error) {
	if err := g.check("stat", p, true); err != nil {
		return checks.FileInfo{}, err
	}
	return g.Host.Stat(ctx, p)
}

func (g *guardedHost) Lstat(ctx context.Context, p string) (checks.FileInfo, error) {
	if err := g.check("lstat", p, false); err != nil {
		return checks.FileInfo{}, err
	}
	return g.Host.Lstat(ctx, p)
}

func (g *guardedHost) ReadDir(ctx context.Context, p string) ([]checks.FileInfo, error) {
	if err := g.check("readdir", p, true); err != nil {
		return nil, err
	}
	return g.Host.ReadDir(ctx, p)
}

func (g *guardedHost) Readlink(ctx context.Context, p string) (string, error) {
	if err := g.check("readlink", p, false); err != nil {
		return "", err
	}
	return g.Host.Readlink(ctx, p)
}

// Glob leaves out the matches that lead into a denied path: their names
// (the agent's open files, what its data directory holds) are the
// agent's too.
func (g *guardedHost) Glob(ctx context.Context, pattern string) ([]string, error) {
	matches, err := g.Host.Glob(ctx, pattern)
	if !g.live || len(matches) == 0 {
		return matches, err
	}
	var out []string
	for _, m := range matches {
		if g.check("glob", m, false) == nil {
			out = append(out, m)
		}
	}
	return out, err
}

// Exec allows the allow-listed commands only in the read-only shapes the
// built-in checks use: "rpm --eval" or "cryptsetup erase" must not be one
// argument away.
func (g *guardedHost) Exec(ctx context.Context, name string, args ...string) (checks.ExecResult, error) {
	if !allowedArgs(name, args) {
		return checks.ExecResult{}, fmt.Errorf("exec %s %s: only \"rpm --root {root} -qa --qf FORMAT\" and \"cryptsetup luksDump /dev/...\" are served to plugins: %w",
			name, strings.Join(args, " "), checks.ErrNotAllowed)
	}
	return g.Host.Exec(ctx, name, args...)
}

func allowedArgs(name string, args []string) bool {
	switch name {
	case "rpm":
		return len(args) == 5 && args[0] == "--root" && args[1] == checks.ExecRoot && args[2] == "-qa" && args[3] == "--qf" &&
			!strings.Contains(args[4], "%(") && !strings.Contains(args[4], "%{lua:")
	case "cryptsetup":
		return len(args) == 2 && args[0] == "luksDump" && strings.HasPrefix(args[1], "/dev/") && !strings.Contains(args[1], "..")
	}
	return false
}
