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
}

func newGuardedHost(h checks.Host, deny []string) *guardedHost {
	g := &guardedHost{Host: h}
	if !h.Live() {
		return g // an image's /proc and files are not the agent's
	}
	for _, p := range append([]string{"/proc/" + strconv.Itoa(os.Getpid())}, deny...) {
		if p == "" {
			continue
		}
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		g.deny = append(g.deny, filepath.Clean(p))
	}
	return g
}

// check refuses p when it leads into a denied path. The link-free path is
// worked out first, so that a link the plugin made (/tmp/x -> /proc/self)
// does not get round it. follow says whether the last component's link
// is followed by the operation.
func (g *guardedHost) check(op, p string, follow bool) error {
	if len(g.deny) == 0 {
		return nil
	}
	clean := path.Clean(p)
	real := clean
	if follow {
		if r, err := filepath.EvalSymlinks(clean); err == nil {
			real = r
		}
	} else if r, err := filepath.EvalSymlinks(path.Dir(clean)); err == nil {
		real = filepath.Join(r, path.Base(clean))
	}
	for _, d := range g.deny {
		for _, c := range []string{clean, real} {
			if c == d || strings.HasPrefix(c, d+"/") {
				return &fs.PathError{Op: op, Path: p, Err: fmt.Errorf("the agent's own files are not served to plugins: %w", fs.ErrPermission)}
			}
		}
	}
	return nil
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
