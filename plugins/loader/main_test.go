package loader

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/baseline"
	"github.com/plumbline/plumbline/checks/engine"
	"github.com/plumbline/plumbline/checks/hostfs"
	"github.com/plumbline/plumbline/checks/report"
)

// binDir holds the test plugins built by TestMain, each under its own name.
var binDir string

// agentSecrets are set in the test process, as an agent's environment would
// carry them; no plugin may see them.
var agentSecrets = map[string]string{
	"PLUMBLINE_NATS_CREDS":  "/etc/plumbline/nats.creds",
	"PLUMBLINE_NATS_URL":    "tls://nats.example.net:4222",
	"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"HTTPS_PROXY":           "http://proxy.example.net:3128",
}

// builds are the test plugins: output name, source under testdata, and
// the plugin name linked in (for the one source that serves as several),
// or other -X settings of package main.
var builds = []struct{ out, src, name, set string }{
	{"good", "good", "", ""},
	{"alpha", "good", "alpha", ""},
	{"startcrash", "startcrash", "", ""},
	{"slowstart", "slowstart", "", ""},
	{"garbage", "garbage", "", ""},
	{"wrongproto", "wrongproto", "", ""},
	{"rogue", "rogue", "", ""},
	{"rogue_longversion", "rogue", "", "version=" + strings.Repeat("9", 200)},
	{"rogue_longtitle", "rogue", "", "titleSuffix=" + strings.Repeat("t", 300)},
	{"hang", "hang", "", ""},
}

func TestMain(m *testing.M) {
	if os.Getenv("PLUMBLINE_TEST_PEER_DIR") != "" {
		// Started by TestSocketsAdmitOnlyAgentAndPlugin as another user,
		// to run TestPeerDial alone: no plugins to build.
		os.Exit(m.Run())
	}
	for k, v := range agentSecrets {
		os.Setenv(k, v)
	}
	dir, err := os.MkdirTemp("", "plumbline-loader-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	if err := buildPlugins(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildPlugins builds every test plugin, concurrently: after the first,
// each build is mostly a link.
func buildPlugins(dir string) error {
	errs := make([]error, len(builds))
	var wg sync.WaitGroup
	for i, b := range builds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := []string{"build", "-o", filepath.Join(dir, b.out)}
			if b.name != "" {
				args = append(args, "-ldflags=-X main.name="+b.name)
			}
			if b.set != "" {
				args = append(args, "-ldflags=-X main."+b.set)
			}
			out, err := exec.Command("go", append(args, "./testdata/"+b.src)...).CombinedOutput()
			if err != nil {
				errs[i] = fmt.Errorf("build plugin %s: %v\n%s", b.out, err, out)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// newPluginDir returns an empty plugin directory that passes checkDir.
func newPluginDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "plugins")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// install copies the built plugin bin into dir as name, mode 0755, and
// returns its path.
func install(t *testing.T, dir, bin, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(binDir, bin))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// pin returns the pin of a file.
func pin(t *testing.T, path string) string {
	t.Helper()
	sum, err := FileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// pinAll pins every named plugin of dir.
func pinAll(t *testing.T, dir string, names ...string) map[string]string {
	t.Helper()
	pins := map[string]string{}
	for _, n := range names {
		pins[n] = pin(t, filepath.Join(dir, n))
	}
	return pins
}

// fixtureHost is a scanned root holding an os-release.
func fixtureHost(t *testing.T) checks.Host {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "os-release"), []byte("ID=debian\nVERSION_ID=\"12\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := hostfs.New(hostfs.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// open opens a session on cfg with a quiet logger and a run directory of
// the test's own, closed when the test ends (Close may be called earlier).
func open(t *testing.T, cfg Config, h checks.Host) *Session {
	t.Helper()
	if cfg.RunDir == "" {
		cfg.RunDir = shortTempDir(t)
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	s, err := Open(context.Background(), cfg, h)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// shortTempDir is a temporary directory with a short path: go-plugin's
// Unix sockets go under the run directory, and a socket path is limited to
// 108 bytes.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// entry resolves a check of the session (or a stand-in for one of a plugin
// that is unavailable) with parameter overrides.
func entry(t *testing.T, s *Session, id string, params map[string]any) baseline.Entry {
	t.Helper()
	c, ok := s.Lookup(id)
	if !ok {
		t.Fatalf("Lookup(%s): not found", id)
	}
	p, err := checks.Resolve(c.Meta().Params, params)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return baseline.Entry{Check: c, Params: p}
}

// run evaluates entries through the engine, as a scan does, and returns
// the results by check id.
func run(h checks.Host, timeout time.Duration, entries ...baseline.Entry) map[string]checks.Result {
	rs := engine.Run(context.Background(), h, entries, engine.Options{CheckTimeout: timeout})
	out := map[string]checks.Result{}
	for _, r := range rs {
		out[r.ID] = r
	}
	return out
}

// refOf returns the named plugin's entry of the session's Refs.
func refOf(t *testing.T, s *Session, name string) report.PluginRef {
	t.Helper()
	for _, r := range s.Refs() {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("Refs: no plugin %s in %+v", name, s.Refs())
	return report.PluginRef{}
}

// pidOf returns the process id the session launched for a plugin.
func pidOf(t *testing.T, s *Session, name string) int {
	t.Helper()
	for _, st := range s.Stats() {
		if st.Name == name && st.PID > 0 {
			return st.PID
		}
	}
	t.Fatalf("Stats: plugin %s was not launched: %+v", name, s.Stats())
	return 0
}

// launches returns the pids recorded by the good plugin installed at path
// (see recordLaunch in testdata/good).
func launches(t *testing.T, path string) []int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".launches"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("launch record %q: %v", f, err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// reapWait is how long a killed process may take to be gone.
const reapWait = 2 * time.Second

// assertGone fails unless every pid has ended. The plugins are the test
// process's children and must be reaped as well (no zombie); a process a
// plugin spawned is orphaned when the plugin dies and reaped by init,
// which in a container may never happen, so for those zombie counts as
// gone.
func assertGone(t *testing.T, what string, allowZombie bool, pids ...int) {
	t.Helper()
	deadline := time.Now().Add(reapWait)
	for _, pid := range pids {
		for !gone(pid, allowZombie) {
			if time.Now().After(deadline) {
				t.Errorf("%s: process %d (%s) is still there", what, pid, cmdline(pid))
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func gone(pid int, allowZombie bool) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	return allowZombie && procState(pid) == "Z"
}

// procState is the state letter of /proc/<pid>/stat, or "".
func procState(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name is in parentheses and may hold spaces.
	_, rest, ok := bytes.Cut(data, []byte(") "))
	if !ok || len(rest) == 0 {
		return ""
	}
	return string(rest[:1])
}

func cmdline(pid int) string {
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strings.TrimSpace(string(bytes.ReplaceAll(data, []byte{0}, []byte{' '})))
}

// assertNoProcessRuns fails if any process is running one of the binaries
// (the kernel's /proc/<pid>/exe names the file even when the agent
// executed it through /proc/self/fd). Each test installs its own copy, so
// this sees only the test's own plugins.
func assertNoProcessRuns(t *testing.T, paths ...string) {
	t.Helper()
	deadline := time.Now().Add(reapWait)
	for {
		running := processesRunning(paths)
		if len(running) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes still running %v: %v", paths, running)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func processesRunning(paths []string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink("/proc/" + e.Name() + "/exe")
		if err != nil {
			continue
		}
		if slices.Contains(paths, strings.TrimSuffix(exe, " (deleted)")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// readPid reads a pid a plugin wrote to a file.
func readPid(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the plugin wrote no pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	return pid
}

// assertRunDirClean fails if the session's killed plugins left go-plugin
// socket directories or process group records behind: a record outlives
// its processes only when the agent itself dies, for Sweep to act on.
func assertRunDirClean(t *testing.T, s *Session) {
	t.Helper()
	for _, dir := range slices.Compact([]string{s.cfg.RunDir, s.cfg.socketDir}) {
		entries, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "pg-") || strings.HasPrefix(e.Name(), "plugin") {
				t.Errorf("%s left in the run directory", e.Name())
			}
		}
	}
}
