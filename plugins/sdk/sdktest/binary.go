package sdktest

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/checktest"
	"github.com/plumbline/plumbline/checks/engine"
	"github.com/plumbline/plumbline/plugins/loader"
	"github.com/plumbline/plumbline/plugins/sdk"
)

// Build compiles the plugin main package in pkgDir (with the go command on
// PATH, which go test puts first) into a temporary directory and returns
// the binary's path; a compile error fails the test with the compiler's
// output. The binary is named after the directory; RunBinary installs it
// under the plugin's own name.
func Build(t testing.TB, pkgDir string) string {
	t.Helper()
	abs, err := filepath.Abs(pkgDir)
	if err != nil {
		t.Fatalf("build plugin %s: %v", pkgDir, err)
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("build plugin %s: the go command is not on PATH: %v", pkgDir, err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(abs))
	cmd := exec.CommandContext(t.Context(), goCmd, "build", "-o", out, ".")
	cmd.Dir = abs
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkgDir, err, msg)
	}
	return out
}

// RunBinary runs every check of the plugin binary at binPath on the fixture
// tree at root the way the agent does: the binary is copied, under the name
// it describes itself with, into a private plugin directory, pinned by its
// sha256, launched by the agent's loader (verified, scrubbed environment,
// host served over gRPC), run through the engine with default parameters
// (and Params overrides), and killed. A plugin the loader refuses or cannot
// start fails the test with the reason the agent would report; one that
// crashes or misbehaves during the run fails it too, and its results (ERROR
// for the checks concerned) are still returned.
func RunBinary(t testing.TB, binPath, root string, opts ...Option) Results {
	t.Helper()
	cfg := newConfig(opts)
	runDir := shortTempDir(t)
	dir, name := install(t, binPath, runDir)
	sum, err := loader.FileSHA256(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("pin plugin %s: %v", name, err)
	}
	h := checktest.Host(t, prepare(t, root))
	ctx := t.Context()
	sess, err := loader.Open(ctx, loader.Config{
		Dir: dir, Pins: map[string]string{name: sum}, RunDir: runDir, CheckTimeout: cfg.timeout,
		Logger: testLogger(t),
	}, h)
	if err != nil {
		t.Fatalf("open plugin session: %v", err)
	}
	defer sess.Close()
	if problems := refErrors(sess); problems != "" {
		t.Fatalf("the agent refused plugin %s: %s", name, problems)
	}
	results := engine.Run(ctx, h, entries(t, sess.Checks(), cfg), engine.Options{CheckTimeout: cfg.timeout})
	if problems := refErrors(sess); problems != "" {
		t.Errorf("plugin %s misbehaved during the run (its checks are ERROR): %s", name, problems)
	}
	return keyed(results)
}

// refErrors joins what the session's report lines say went wrong.
func refErrors(sess *loader.Session) string {
	var problems []string
	for _, ref := range sess.Refs() {
		if ref.Error != "" {
			problems = append(problems, ref.Error)
		}
	}
	return strings.Join(problems, "; ")
}

// install copies the binary into a fresh plugin directory under the name
// the plugin gives itself (an agent refuses a plugin whose file name is not
// its name) and returns the directory and the name.
func install(t testing.TB, binPath, runDir string) (dir, name string) {
	t.Helper()
	staged := filepath.Join(t.TempDir(), filepath.Base(binPath))
	copyExecutable(t, binPath, staged)
	// DescribeFile also reports a file name that differs from the plugin's
	// name; that is what the copy below fixes, so only a missing
	// description is fatal here.
	d, err := loader.DescribeFile(t.Context(), staged, loader.Config{RunDir: runDir, Logger: testLogger(t)})
	if d == nil {
		t.Fatalf("describe plugin %s: %v", binPath, err)
	}
	if !sdk.ValidName(d.Name) {
		t.Fatalf("plugin %s describes itself as %q, which cannot name a plugin", binPath, d.Name)
	}
	dir = filepath.Join(t.TempDir(), "plugins")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("plugin directory: %v", err)
	}
	if err := os.Rename(staged, filepath.Join(dir, d.Name)); err != nil {
		t.Fatalf("install plugin %s: %v", d.Name, err)
	}
	return dir, d.Name
}

// copyExecutable copies src to dst with mode 0755, which the loader accepts
// whatever mode the build left.
func copyExecutable(t testing.TB, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatalf("plugin binary: %v", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatalf("copy plugin binary: %v", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatalf("copy plugin binary %s: %v", src, err)
	}
	if err := out.Close(); err != nil {
		t.Fatalf("copy plugin binary %s: %v", src, err)
	}
	// The umask may have taken bits away; the loader wants exactly owner
	// write, and execute for the owner.
	if err := os.Chmod(dst, 0o755); err != nil {
		t.Fatalf("copy plugin binary %s: %v", src, err)
	}
}

// testLogger sends the loader's warnings to the test's output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

// shortTempDir returns a temporary directory with a short path: go-plugin's
// unix socket paths must stay under the kernel's 108-byte limit, which a
// long test name in t.TempDir() can exceed.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sdktest-")
	if err != nil {
		t.Fatalf("run directory: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// Conform runs p in process (Run) and the binary at binPath (RunBinary) on
// the same fixture tree and fails the test for every check whose results
// differ in anything but duration, or that only one side provides. It
// returns the in-process results, for the caller to assert statuses on:
// two equally wrong runs conform.
func Conform(t testing.TB, p sdk.Plugin, binPath, root string, opts ...Option) Results {
	t.Helper()
	tree := prepare(t, root)
	inProc := Run(t, p, tree, opts...)
	binary := RunBinary(t, binPath, tree, opts...)
	ids := slices.Sorted(maps.Keys(inProc))
	for id := range binary {
		if _, ok := inProc[id]; !ok {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		a, inA := inProc[id]
		b, inB := binary[id]
		switch {
		case !inB:
			t.Errorf("%s on %s: provided in process but not by the binary %s (rebuild it?)", id, root, binPath)
		case !inA:
			t.Errorf("%s on %s: provided by the binary %s but not in process", id, root, binPath)
		case !reflect.DeepEqual(normalized(a), normalized(b)):
			t.Errorf("%s on %s differs:\nin process: %s\nbinary:     %s", id, root, describe(a), describe(b))
		}
	}
	return inProc
}

// normalized drops what legitimately differs between two runs.
func normalized(r checks.Result) checks.Result {
	r.Duration = 0
	if len(r.Evidence) == 0 {
		r.Evidence = nil
	}
	return r
}

func describe(r checks.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (severity %s, title %q): %q", r.Status, r.Severity, r.Title, r.Message)
	for _, e := range r.Evidence {
		fmt.Fprintf(&b, "\n            evidence %+v", e)
	}
	return b.String()
}
