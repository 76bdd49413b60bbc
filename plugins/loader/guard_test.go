package loader

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/hostfs"
)

// The agent's /proc entry is refused however it is named: through /dev/fd
// and "..", under a thread id, through a link of its own (cwd, an open
// file without a path); the host-wide /proc/mounts and /proc/net, which
// link into it, are still served; Glob does not name what is refused.
func TestGuardResolvesAsTheKernel(t *testing.T) {
	t.Parallel()
	live, err := hostfs.New(hostfs.Options{Root: "/"})
	if err != nil {
		t.Fatal(err)
	}
	secrets := t.TempDir()
	g := newGuardedHost(live, []string{secrets})
	ctx := context.Background()
	pid := strconv.Itoa(os.Getpid())
	var tid string
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, e := range tasks {
		if e.Name() != pid {
			tid = e.Name()
		}
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	deleted, err := os.CreateTemp(secrets, "spool")
	if err != nil {
		t.Fatal(err)
	}
	defer deleted.Close()
	os.Remove(deleted.Name())

	refused := []string{
		"/dev/fd/../environ",
		"/dev/fd/../fd/../environ",
		"/proc/self/net/../environ",
		"/proc/self/cwd/etc/os-release",
		"/proc/self/fd/" + strconv.Itoa(int(pr.Fd())),
		"/proc/self/fd/" + strconv.Itoa(int(deleted.Fd())),
	}
	if tid != "" {
		refused = append(refused, "/proc/"+tid+"/environ", "/proc/"+tid+"/fd/"+strconv.Itoa(int(pr.Fd())))
	}
	for _, p := range refused {
		if _, err := g.ReadFile(ctx, p); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("guarded read of %s: %v, want permission refused", p, err)
		}
	}
	if _, err := g.ReadDir(ctx, "/dev/fd/.."); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("guarded readdir of /dev/fd/..: %v, want permission refused", err)
	}
	if _, err := g.Readlink(ctx, "/dev/fd/../exe"); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("guarded readlink of /dev/fd/../exe: %v, want permission refused", err)
	}
	for _, p := range []string{"/proc/mounts", "/proc/net/dev", "/proc/1/status", "/etc/os-release"} {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if _, err := g.ReadFile(ctx, p); err != nil {
			t.Errorf("guarded read of %s: %v", p, err)
		}
	}
	for _, pattern := range []string{filepath.Join(secrets, "*"), "/proc/" + pid + "/fd/*", "/dev/fd/*"} {
		if m, err := g.Glob(ctx, pattern); len(m) != 0 {
			t.Errorf("guarded glob %s = %v, %v; want no matches", pattern, m, err)
		}
	}
	if m, err := g.Glob(ctx, "/proc/*/comm"); err != nil || len(m) == 0 {
		t.Errorf("guarded glob /proc/*/comm = %d matches, %v", len(m), err)
	} else {
		for _, p := range m {
			if p == "/proc/"+pid+"/comm" {
				t.Errorf("guarded glob /proc/*/comm names the agent's entry")
			}
		}
	}
}

// The guarded host shares the scanned host's per-scan cache: the package
// database is parsed once per scan however many plugins ask for it.
func TestGuardedHostSharesTheScanMemo(t *testing.T) {
	t.Parallel()
	h := fixtureHost(t)
	g := newGuardedHost(h, nil)
	calls := 0
	read := func() (string, error) { calls++; return "db", nil }
	for _, via := range []checks.Host{h, g, g} {
		if v, err := checks.Memoized(via, "pkgdb-test", read); v != "db" || err != nil {
			t.Fatalf("Memoized = %q, %v", v, err)
		}
	}
	if calls != 1 {
		t.Errorf("computed %d times through the host and its guard, want once", calls)
	}
}
