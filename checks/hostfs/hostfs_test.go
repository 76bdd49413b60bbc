package hostfs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks"
)

// tree builds a root in a temp dir: files (path -> content) and symlinks
// (path -> target). Symlinks are made at test time because the cases are
// about links that escape, loop or dangle.
func tree(t *testing.T, files map[string]string, links map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for p, target := range links {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, full); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func newRoot(t *testing.T, root string) *Root {
	t.Helper()
	r, err := New(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestResolveStaysInsideRoot(t *testing.T) {
	t.Parallel()
	// A secret outside the root that escaping links would reach.
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := tree(t,
		map[string]string{
			"usr/share/zoneinfo/Etc/UTC": "tzdata",
			"etc/sudoers":                "inside",
			"secret":                     "root-secret",
		},
		map[string]string{
			"etc/localtime":     "/usr/share/zoneinfo/Etc/UTC",    // absolute: must resolve in root
			"etc/rel":           "../usr/share/zoneinfo/Etc/UTC",  // relative
			"etc/escape_dotdot": "../../../../../../secret",       // clamps at root like chroot
			"etc/escape_abs":    filepath.Join(outside, "secret"), // absolute host path: re-rooted
			"etc/dirlink":       "/usr/share/zoneinfo",            // directory link mid-path
			"etc/chain":         "/etc/localtime",                 // link to link
			"etc/loop_a":        "/etc/loop_b",                    // loop
			"etc/loop_b":        "/etc/loop_a",                    //
			"etc/dangling":      "/nonexistent/file",              //
			"etc/self":          "self",                           // self loop
		})
	r := newRoot(t, root)
	ctx := context.Background()

	tests := []struct {
		path    string
		want    string
		wantErr error
	}{
		{"/etc/sudoers", "inside", nil},
		{"/etc/localtime", "tzdata", nil},
		{"/etc/rel", "tzdata", nil},
		{"/etc/escape_dotdot", "root-secret", nil},
		{"/etc/dirlink/Etc/UTC", "tzdata", nil},
		{"/etc/chain", "tzdata", nil},
		{"/../../etc/sudoers", "inside", nil},
		{"/etc/escape_abs", "", fs.ErrNotExist},
		{"/etc/loop_a", "", checks.ErrLoop},
		{"/etc/self", "", checks.ErrLoop},
		{"/etc/dangling", "", fs.ErrNotExist},
		{"/etc/missing", "", fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			got, err := r.ReadFile(ctx, tt.path)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ReadFile(%s) error = %v, want %v", tt.path, err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.path) {
					t.Errorf("error %q does not name the host path %s", err, tt.path)
				}
				if strings.Contains(err.Error(), root) {
					t.Errorf("error %q leaks the real root directory", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadFile(%s): %v", tt.path, err)
			}
			if string(got) != tt.want {
				t.Errorf("ReadFile(%s) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestStatLstatReadlink(t *testing.T) {
	t.Parallel()
	root := tree(t, map[string]string{"usr/bin/sudo": "#!"}, map[string]string{"bin": "usr/bin"})
	if err := os.Chmod(filepath.Join(root, "usr/bin/sudo"), os.ModeSetuid|0o755); err != nil {
		t.Fatal(err)
	}
	r := newRoot(t, root)
	ctx := context.Background()

	fi, err := r.Stat(ctx, "/bin/sudo")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Perm() != 0o4755 || fi.Path != "/bin/sudo" || fi.Name != "sudo" {
		t.Errorf("Stat = %+v (perm %o), want perm 4755 at /bin/sudo", fi, fi.Perm())
	}
	if fi.UID != uint32(os.Getuid()) {
		t.Errorf("UID = %d, want %d", fi.UID, os.Getuid())
	}
	li, err := r.Lstat(ctx, "/bin")
	if err != nil {
		t.Fatal(err)
	}
	if !li.IsSymlink() {
		t.Errorf("Lstat(/bin) mode %v, want symlink", li.Mode)
	}
	target, err := r.Readlink(ctx, "/bin")
	if err != nil || target != "usr/bin" {
		t.Errorf("Readlink(/bin) = %q, %v", target, err)
	}
}

func TestReadDirAndGlob(t *testing.T) {
	t.Parallel()
	root := tree(t, map[string]string{
		"etc/sudoers.d/10-logging":  "a",
		"etc/sudoers.d/README":      "b",
		"etc/sudoers.d/.hidden":     "c",
		"etc/pam.d/common-auth":     "d",
		"etc/pam.d/common-password": "e",
		"etc/pam.d/sshd":            "f",
	}, map[string]string{"etc/pam.d/other": "/etc/pam.d/sshd"})
	r := newRoot(t, root)
	ctx := context.Background()

	entries, err := r.ReadDir(ctx, "/etc/sudoers.d")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Path)
	}
	if want := []string{"/etc/sudoers.d/.hidden", "/etc/sudoers.d/10-logging", "/etc/sudoers.d/README"}; !slices.Equal(names, want) {
		t.Errorf("ReadDir = %v, want %v", names, want)
	}

	tests := []struct {
		pattern string
		want    []string
	}{
		{"/etc/pam.d/common-*", []string{"/etc/pam.d/common-auth", "/etc/pam.d/common-password"}},
		{"/etc/*/common-auth", []string{"/etc/pam.d/common-auth"}},
		{"/etc/sudoers.d/*", []string{"/etc/sudoers.d/10-logging", "/etc/sudoers.d/README"}},
		{"/etc/pam.d/other", []string{"/etc/pam.d/other"}},
		{"/etc/nothing/*", nil},
		{"/etc/pam.d/[cs]*", []string{"/etc/pam.d/common-auth", "/etc/pam.d/common-password", "/etc/pam.d/sshd"}},
	}
	for _, tt := range tests {
		got, err := r.Glob(ctx, tt.pattern)
		if err != nil {
			t.Errorf("Glob(%s): %v", tt.pattern, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Glob(%s) = %v, want %v", tt.pattern, got, tt.want)
		}
	}
	if _, err := r.Glob(ctx, "/etc/[unclosed"); err == nil {
		t.Error("Glob with a bad pattern: want error")
	}
	if _, err := r.Glob(ctx, "relative/*"); err == nil {
		t.Error("Glob with a relative pattern: want error")
	}
}

func TestProcAndSysMapping(t *testing.T) {
	t.Parallel()
	root := tree(t, map[string]string{"etc/hostname": "img"}, nil)
	proc := tree(t, map[string]string{"mounts": "proc /proc proc rw 0 0\n"}, map[string]string{"self": "1"})
	r, err := New(Options{Root: root, Proc: proc})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.ReadFile(context.Background(), "/proc/mounts")
	if err != nil || !strings.HasPrefix(string(got), "proc /proc") {
		t.Errorf("ReadFile(/proc/mounts) = %q, %v", got, err)
	}
	if r.Live() {
		t.Error("a tree under a temp dir must not be Live")
	}
}

func TestNewRejectsBadRoot(t *testing.T) {
	t.Parallel()
	if _, err := New(Options{Root: "/nonexistent/plumbline-root"}); err == nil || !strings.Contains(err.Error(), "/nonexistent/plumbline-root") {
		t.Errorf("New(missing root) error = %v, want one naming the root", err)
	}
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Root: f}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("New(file root) error = %v, want \"not a directory\"", err)
	}
}

func TestReadFileTooLarge(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	big := make([]byte, checks.MaxFileSize+1)
	if err := os.WriteFile(filepath.Join(root, "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := newRoot(t, root).ReadFile(context.Background(), "/big")
	if !errors.Is(err, checks.ErrTooLarge) {
		t.Errorf("ReadFile(big) error = %v, want ErrTooLarge", err)
	}
}

func TestExecAllowList(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	r, err := New(Options{Root: root, Commands: map[string]string{
		"echo":  "/bin/echo",
		"sleep": "/bin/sleep",
	}, ExecTimeout: 200_000_000})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := r.Exec(ctx, "rm", "-rf", "/"); !errors.Is(err, checks.ErrNotAllowed) {
		t.Errorf("Exec(rm) error = %v, want ErrNotAllowed", err)
	}
	res, err := r.Exec(ctx, "echo", "--root", checks.ExecRoot)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(res.Stdout)); got != "--root "+root {
		t.Errorf("echo output %q, want the root substituted", got)
	}
	if _, err := r.Exec(ctx, "sleep", "5"); err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("Exec(sleep 5) error = %v, want a deadline error", err)
	}
}

func TestMemoComputesOnce(t *testing.T) {
	t.Parallel()
	r := newRoot(t, t.TempDir())
	calls := 0
	for range 3 {
		v, err := checks.Memoized(r, "k", func() (int, error) { calls++; return 42, nil })
		if err != nil || v != 42 {
			t.Fatalf("Memoized = %d, %v", v, err)
		}
	}
	if calls != 1 {
		t.Errorf("fn called %d times, want 1", calls)
	}
}

func TestMemoDoesNotKeepContextErrors(t *testing.T) {
	t.Parallel()
	r := newRoot(t, t.TempDir())
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := checks.Memoized(r, "pkgdb", func() (int, error) { return 0, cancelled.Err() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first caller: %v, want its own cancellation", err)
	}
	v, err := checks.Memoized(r, "pkgdb", func() (int, error) { return 7, nil })
	if err != nil || v != 7 {
		t.Errorf("second caller got %d, %v; want a fresh computation", v, err)
	}
}

func TestDotDotAfterSymlinkFollowsTheLink(t *testing.T) {
	t.Parallel()
	root := tree(t, map[string]string{"x/f": "under x", "f": "at root", "file": "plain"}, map[string]string{"l": "/x/y"})
	if err := os.MkdirAll(filepath.Join(root, "x/y"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := newRoot(t, root)
	got, err := r.ReadFile(context.Background(), "/l/../f")
	if err != nil || string(got) != "under x" {
		t.Errorf("ReadFile(/l/../f) = %q, %v; want the kernel's answer, /x/f", got, err)
	}
	if _, err := r.ReadFile(context.Background(), "/file/../f"); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("ReadFile(/file/../f) error = %v, want ENOTDIR", err)
	}
}

func TestReadFileRefusesFIFO(t *testing.T) {
	t.Parallel()
	root := tree(t, map[string]string{"etc/hostname": "x"}, nil)
	if err := syscall.Mkfifo(filepath.Join(root, "etc/sudoers"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := newRoot(t, root).ReadFile(context.Background(), "/etc/sudoers")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("ReadFile(fifo) error = %v, want \"not a regular file\"", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFile blocked on a FIFO")
	}
}

func TestGlobReportsUnreadableDirectories(t *testing.T) {
	t.Parallel()
	root := tree(t, nil, map[string]string{"etc/loop": "loop"})
	r := newRoot(t, root)
	if _, err := r.Glob(context.Background(), "/etc/loop/*"); !errors.Is(err, checks.ErrLoop) {
		t.Errorf("Glob through a symlink loop: error %v, want ErrLoop, not an empty match", err)
	}
	if got, err := r.Glob(context.Background(), "/etc/missing/*"); err != nil || got != nil {
		t.Errorf("Glob under a missing dir = %v, %v; want no matches and no error", got, err)
	}
}

func TestMemoPanicIsAnError(t *testing.T) {
	t.Parallel()
	r := newRoot(t, t.TempDir())
	func() {
		defer func() { _ = recover() }()
		_, _ = checks.Memoized(r, "pkgdb", func() ([]string, error) { panic("corrupt database") })
	}()
	v, err := checks.Memoized(r, "pkgdb", func() ([]string, error) { return []string{"must not be called"}, nil })
	if err == nil || !strings.Contains(err.Error(), "corrupt database") || v != nil {
		t.Errorf("after a panic: %v, %v; want the panic as an error for every caller", v, err)
	}
	if _, err := checks.Memoized(r, "pkgdb", func() (int, error) { return 0, nil }); err == nil {
		t.Error("same key, other type: want an error, not a zero value")
	}
}

func TestExecOutputTooLarge(t *testing.T) {
	t.Parallel()
	r, err := New(Options{Root: t.TempDir(), Commands: map[string]string{"head": "/usr/bin/head"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Exec(context.Background(), "head", "-c", "2000000", "/dev/zero")
	if !errors.Is(err, checks.ErrTooLarge) {
		t.Errorf("Exec with 2 MB of output: error %v, want ErrTooLarge", err)
	}
}

func TestExecReportsCallerDeadline(t *testing.T) {
	t.Parallel()
	r, err := New(Options{Root: t.TempDir(), Commands: map[string]string{"sleep": "/bin/sleep"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := r.Exec(ctx, "sleep", "5"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Exec past the caller's deadline: error %v, want context.DeadlineExceeded", err)
	}
}
