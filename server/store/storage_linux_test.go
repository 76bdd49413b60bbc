package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
)

// bigBatch is n new hosts with 150 results each: enough pages that a full
// database cannot take it.
func bigBatch(first, n int) []*report.Report {
	var rs []*report.Report
	for h := range n {
		results := make([]checks.Result, 150)
		for i := range results {
			results[i] = fail(fmt.Sprintf("cis.%03d", i), maxDays(fmt.Sprint(100+i), i+1))
		}
		rs = append(rs, mkReport(fmt.Sprintf("host-%04d", first+h), 1, results...))
	}
	return rs
}

// checkFullThenRecovers applies a batch that does not fit, checks the
// error and that nothing was applied, frees space, and applies it again.
func checkFullThenRecovers(t *testing.T, s *Store, free func()) {
	t.Helper()
	ctx := context.Background()
	before, err := s.Stats(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	batch := bigBatch(100, 20)
	_, err = s.Apply(ctx, batch, t0)
	if err == nil {
		t.Fatal("Apply on a full database succeeded")
	}
	if !errors.Is(err, ErrFull) || !strings.Contains(err.Error(), s.Path()) || !strings.Contains(err.Error(), "full") {
		t.Fatalf("Apply on a full database: err = %v, want ErrFull naming %s and saying full", err, s.Path())
	}
	t.Logf("error as the operator sees it: %v", err)
	after, err := s.Stats(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("failed batch changed the store: %+v -> %+v", before, after)
	}
	free()
	got, err := s.Apply(ctx, batch, t0)
	if err != nil {
		t.Fatalf("Apply after space was freed: %v", err)
	}
	for i, r := range got {
		if r.Outcome != Applied {
			t.Fatalf("report %d after space was freed: %v, want applied", i+1, r.Outcome)
		}
	}
	if st, _ := s.Stats(ctx, t0); st.Hosts != before.Hosts+len(batch) {
		t.Errorf("after recovery: %d hosts, want %d", st.Hosts, before.Hosts+len(batch))
	}
}

// The database's own size cap (PRAGMA max_page_count on the writer
// connection) gives SQLITE_FULL exactly as a full disk does.
func TestApplyDatabaseFull(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	mustApply(t, s, t0, bigBatch(0, 2)...)
	var pages int
	if err := s.w.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	rawExec(t, s.w, fmt.Sprintf("PRAGMA max_page_count = %d", pages))
	checkFullThenRecovers(t, s, func() { rawExec(t, s.w, "PRAGMA max_page_count = 1073741823") })
}

// mountTmpfs mounts a small tmpfs on a new directory, or skips the test.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// A real full file system: the store on a 4 MiB tmpfs, filled by a
// ballast file; removing the ballast lets the same batch through.
func TestApplyDiskFull(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, "4m")
	path := filepath.Join(dir, "plumbline.db")
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close() // before the unmount registered by mountTmpfs
	mustApply(t, s, t0, bigBatch(0, 1)...)
	ballast := filepath.Join(dir, "ballast")
	fillDisk(t, dir, ballast, 16<<10)
	checkFullThenRecovers(t, s, func() {
		if err := os.Remove(ballast); err != nil {
			t.Fatal(err)
		}
	})
}

// fillDisk writes path until the file system at dir has at most keep bytes
// free.
func fillDisk(t *testing.T, dir, path string, keep int64) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	if free <= keep {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for left := free - keep; left > 0; left -= int64(len(chunk)) {
		n := min(int64(len(chunk)), left)
		if _, err := f.Write(chunk[:n]); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
}

// A data directory on a read-only mount (a read-only bind mount of a
// directory holding a valid database): Open refuses it with an error
// naming the file, rather than starting a server that cannot store
// anything. Tests run as root, which chmod does not stop; a read-only
// mount does. A mount cannot be made read-only while files on it are
// open for writing (EBUSY), so the case of a file system turning
// read-only under a running store is not simulated here.
func TestOpenReadOnlyMount(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(src, "plumbline.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, t0, mkReport("h1", 1, pass("a")))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro := t.TempDir()
	if out, err := exec.Command("mount", "--bind", src, ro).CombinedOutput(); err != nil {
		t.Skipf("cannot bind-mount here (needs root or CAP_SYS_ADMIN): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", ro).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", ro, err, out)
		}
	})
	if out, err := exec.Command("mount", "-o", "remount,bind,ro", ro).CombinedOutput(); err != nil {
		t.Skipf("cannot remount read-only: %v: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(ro, "probe"), nil, 0o644); err == nil {
		t.Skip("the read-only bind mount is writable here")
	}
	path := filepath.Join(ro, "plumbline.db")
	_, err = Open(ctx, path, Options{})
	if err == nil {
		t.Fatal("Open on a read-only mount succeeded")
	}
	t.Logf("error as the operator sees it: %v", err)
	if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "read-only file system") {
		t.Errorf("err = %v, want ErrReadOnly naming %s and saying read-only file system", err, path)
	}
}
