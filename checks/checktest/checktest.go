// Package checktest runs checks against fixture root trees in tests.
package checktest

import (
	"bufio"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/hostfs"
)

// Host returns a checks.Host over the fixture tree at root; the tree's own
// proc/ and sys/ directories serve /proc and /sys.
func Host(t testing.TB, root string) checks.Host {
	t.Helper()
	h, err := hostfs.New(hostfs.Options{Root: root})
	if err != nil {
		t.Fatalf("fixture root: %v", err)
	}
	return h
}

// Run runs c on the fixture tree at root with the check's default parameters
// overridden by params (which may be nil), failing the test if the
// parameters do not resolve.
func Run(t testing.TB, c checks.Check, root string, params map[string]any) checks.Result {
	t.Helper()
	p, err := checks.Resolve(c.Meta().Params, params)
	if err != nil {
		t.Fatalf("%s params: %v", c.Meta().ID, err)
	}
	return c.Run(context.Background(), Host(t, root), p)
}

// Expect runs c and fails the test unless it returns want; on mismatch it
// prints the message and evidence, which is what one needs to debug.
func Expect(t testing.TB, c checks.Check, root string, params map[string]any, want checks.Status) checks.Result {
	t.Helper()
	r := Run(t, c, root, params)
	if r.Status != want {
		t.Errorf("%s on %s: status %s, want %s\nmessage: %s\nevidence: %+v", c.Meta().ID, root, r.Status, want, r.Message, r.Evidence)
	}
	return r
}

// Materialize copies a fixture host tree into a temp dir with the modes a
// real host has: git keeps neither modes nor ownership, so each tree has a
// MODES file ("octal-mode path" or "octal-mode uid:gid path" per line;
// ownership is applied only when running as root) and everything else gets
// 0644 files and 0755 directories. Symlinks are copied as symlinks.
func Materialize(t testing.TB, fixture string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "root")
	err := filepath.WalkDir(fixture, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(fixture, p)
		if rel == "MODES" {
			return nil
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		}
	})
	if err != nil {
		t.Fatalf("copy fixture %s: %v", fixture, err)
	}
	modes, err := os.Open(filepath.Join(fixture, "MODES"))
	if errors.Is(err, fs.ErrNotExist) {
		return dst
	}
	if err != nil {
		t.Fatal(err)
	}
	defer modes.Close()
	sc := bufio.NewScanner(modes)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		modeStr, rel, ok := strings.Cut(line, " ")
		mode, perr := strconv.ParseUint(modeStr, 8, 32)
		if !ok || perr != nil {
			t.Fatalf("%s/MODES:%d: want \"octal-mode path\", got %q", fixture, n, line)
		}
		fm := fs.FileMode(mode & 0o777)
		if mode&0o4000 != 0 {
			fm |= fs.ModeSetuid
		}
		if mode&0o2000 != 0 {
			fm |= fs.ModeSetgid
		}
		if mode&0o1000 != 0 {
			fm |= fs.ModeSticky
		}
		rel = strings.TrimSpace(rel)
		// An optional owner: "0750 1000:1000 home/alice".
		if owner, rest, ok := strings.Cut(rel, " "); ok && strings.Contains(owner, ":") {
			uidS, gidS, _ := strings.Cut(owner, ":")
			uid, uerr := strconv.Atoi(uidS)
			gid, gerr := strconv.Atoi(gidS)
			if uerr != nil || gerr != nil {
				t.Fatalf("%s/MODES:%d: owner %q: want uid:gid", fixture, n, owner)
			}
			rel = strings.TrimSpace(rest)
			if os.Geteuid() == 0 {
				if err := os.Lchown(filepath.Join(dst, rel), uid, gid); err != nil {
					t.Fatalf("%s/MODES:%d: %v", fixture, n, err)
				}
			}
		}
		if err := os.Chmod(filepath.Join(dst, rel), fm); err != nil {
			t.Fatalf("%s/MODES:%d: %v", fixture, n, err)
		}
	}
	return dst
}
