package loader

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/baseline"
	"github.com/plumbline/plumbline/plugins/protocol"
)

// The fault tests run real plugin binaries (built by TestMain from
// testdata/) that misbehave in one way each, through Open and the engine as
// a scan does, and assert what the operator sees: the ERROR results of the
// plugin's checks, the plugin's entry in the report (Refs), the other
// results intact, and no process left behind.

// TestStartFaults covers plugins that never get to run a check: refused
// before launch (pins, permissions, paths) or failed at the handshake or
// Describe. The plugin's Refs entry carries the reason, and every check in
// its namespace reports ERROR with that same reason.
func TestStartFaults(t *testing.T) {
	t.Parallel()
	goodSum, otherSum := pin(t, filepath.Join(binDir, "good")), pin(t, filepath.Join(binDir, "hang"))
	tests := []struct {
		name string
		// setup fills the plugin directory, and returns the pins and the
		// binary that would run.
		setup  func(t *testing.T, dir string) (pins map[string]string, exe string)
		plugin string
		cfg    Config
		// want are parts of the error, given the plugin directory.
		want func(dir string) []string
		// launched says whether the binary ran at all; it is known for
		// the good plugin, which records its launches.
		launched bool
	}{
		{
			name: "crashes at start",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				exe := install(t, dir, "startcrash", "startcrash")
				return pinAll(t, dir, "startcrash"), exe
			},
			plugin: "startcrash",
			want: func(string) []string {
				return []string{"plugin startcrash exited before the handshake (exit status 3); last stderr: startcrash: open /etc/startcrash.conf: no such file or directory"}
			},
		},
		{
			name: "hangs before the handshake",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				exe := install(t, dir, "slowstart", "slowstart")
				return pinAll(t, dir, "slowstart"), exe
			},
			plugin: "slowstart",
			cfg:    Config{StartTimeout: time.Second},
			want: func(string) []string {
				return []string{"plugin slowstart did not complete the go-plugin handshake within 1s (timeout); last stderr: slowstart: waiting for the license server"}
			},
		},
		{
			name: "writes garbage to stdout",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				exe := install(t, dir, "garbage", "garbage")
				return pinAll(t, dir, "garbage"), exe
			},
			plugin: "garbage",
			want: func(string) []string {
				return []string{"plugin garbage did not complete the go-plugin handshake (it printed something else to stdout first, or is not a plumbline plugin): Unrecognized remote plugin message: garbage plugin v0.1 starting up"}
			},
		},
		{
			name: "wrong protocol version",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				exe := install(t, dir, "wrongproto", "wrongproto")
				return pinAll(t, dir, "wrongproto"), exe
			},
			plugin: "wrongproto",
			want: func(string) []string {
				return []string{"plugin wrongproto speaks another plugin protocol version (this agent speaks 1): ", "Plugin version: 2"}
			},
		},
		{
			name: "wrong checksum",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				exe := install(t, dir, "good", "good")
				return map[string]string{"good": otherSum}, exe
			},
			plugin: "good",
			want: func(dir string) []string {
				return []string{filepath.Join(dir, "good") + ": sha256 " + goodSum + " does not match the pinned " + otherSum + "; refusing to launch it"}
			},
		},
		{
			name: "world-writable binary",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				exe := install(t, dir, "good", "good")
				pins := pinAll(t, dir, "good")
				if err := os.Chmod(exe, 0o777); err != nil {
					t.Fatal(err)
				}
				return pins, exe
			},
			plugin: "good",
			want: func(dir string) []string {
				p := filepath.Join(dir, "good")
				return []string{p + " is writable by group or others (mode 0777); run chmod go-w " + p}
			},
		},
		{
			name: "group-writable plugin directory",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				exe := install(t, dir, "good", "good")
				if err := os.Chmod(dir, 0o775); err != nil {
					t.Fatal(err)
				}
				return pinAll(t, dir, "good"), exe
			},
			plugin: "good",
			want: func(dir string) []string {
				return []string{"plugin directory " + dir + ": " + dir + " is writable by group or others (mode 0775); run chmod go-w " + dir}
			},
		},
		{
			name: "owned by another user",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				if os.Geteuid() != 0 {
					t.Skip("giving the file to another user needs root")
				}
				exe := install(t, dir, "good", "good")
				if err := os.Chown(exe, 4242, 4242); err != nil {
					t.Fatal(err)
				}
				return pinAll(t, dir, "good"), exe
			},
			plugin: "good",
			want: func(dir string) []string {
				return []string{filepath.Join(dir, "good") + " is owned by uid 4242; a plugin must be owned by root or the agent's user"}
			},
		},
		{
			name: "not executable",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				exe := install(t, dir, "good", "good")
				if err := os.Chmod(exe, 0o644); err != nil {
					t.Fatal(err)
				}
				return pinAll(t, dir, "good"), exe
			},
			plugin: "good",
			want: func(dir string) []string {
				return []string{filepath.Join(dir, "good") + " is not executable by its owner (mode 0644)"}
			},
		},
		{
			name: "symlinked plugin",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				// The link points at a copy of the test's own, so that
				// its launch record is the test's alone.
				exe := install(t, t.TempDir(), "good", "good")
				if err := os.Symlink(exe, filepath.Join(dir, "good")); err != nil {
					t.Fatal(err)
				}
				return map[string]string{"good": pin(t, exe)}, exe
			},
			plugin: "good",
			want: func(dir string) []string {
				return []string{filepath.Join(dir, "good") + " is a symbolic link: copy the plugin binary into the plugin directory"}
			},
		},
		{
			name: "pinned plugin missing",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				return map[string]string{"good": goodSum}, filepath.Join(dir, "good")
			},
			plugin: "good",
			want: func(dir string) []string {
				return []string{"pinned plugin good: no such file in " + dir}
			},
		},
		{
			name: "describes itself under another name",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				exe := install(t, dir, "alpha", "good")
				return pinAll(t, dir, "good"), exe
			},
			plugin: "good",
			want: func(string) []string {
				return []string{`plugin good: describes itself as "alpha"; a plugin's file name must be its name`}
			},
			launched: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newPluginDir(t)
			pins, exe := tt.setup(t, dir)
			h := fixtureHost(t)
			cfg := tt.cfg
			cfg.Dir, cfg.Pins = dir, pins
			s := open(t, cfg, h)

			ref := refOf(t, s, tt.plugin)
			for _, w := range tt.want(dir) {
				if !strings.Contains(ref.Error, w) {
					t.Errorf("Refs error:\n%s\nwant it to contain:\n%s", ref.Error, w)
				}
			}
			if ref.Version != "" {
				t.Errorf("Refs version %q for a plugin that never described itself", ref.Version)
			}
			// A baseline naming the plugin's checks still runs: each is
			// ERROR with the reason.
			if !s.Owns(tt.plugin + ".pass") {
				t.Errorf("Owns(%s.pass) = false: a pinned plugin's namespace must stay its own", tt.plugin)
			}
			if got := len(s.Checks()); got != 0 {
				t.Errorf("Checks() = %d checks, want none", got)
			}
			rs := run(h, time.Second, entry(t, s, tt.plugin+".pass", nil))
			if r := rs[tt.plugin+".pass"]; r.Status != checks.StatusError || r.Message != ref.Error {
				t.Errorf("%s.pass = %s %q, want ERROR %q", tt.plugin, r.Status, r.Message, ref.Error)
			}
			s.Close()

			if pids := launches(t, exe); tt.launched != (len(pids) > 0) {
				t.Errorf("launched %v times (pids %v), want launched %v", len(pids), pids, tt.launched)
			} else {
				assertGone(t, "plugin", false, pids...)
			}
			assertNoProcessRuns(t, exe)
			assertRunDirClean(t, s)
		})
	}
}

// result is what a test expects of one check's result.
type result struct {
	status checks.Status
	// msg is the exact message, or a regular expression for all of it
	// when it starts with ^.
	msg string
}

// matches reports whether r is the result wanted.
func (w result) matches(r checks.Result) bool {
	if strings.HasPrefix(w.msg, "^") {
		return r.Status == w.status && regexp.MustCompile(w.msg+`$`).MatchString(r.Message)
	}
	return r.Status == w.status && r.Message == w.msg
}

// TestRunFaults covers a plugin that starts well and then fails during
// its run: the checks concerned are ERROR with the reason, the other checks
// of the batch keep their results, and nothing of the plugin survives.
func TestRunFaults(t *testing.T) {
	t.Parallel()
	const crashed = "plugin good: plugin crashed (exit status 2); last stderr: good: cannot parse /etc/example.conf | good: giving up"
	tests := []struct {
		name    string
		timeout time.Duration // the engine's check timeout
		checks  map[string]map[string]any
		// want holds {child} for the spawned child's pid.
		want map[string]result
		// wantRef is the plugin's Refs error ("" for none).
		wantRef string
		// killedInRun says the plugin must be gone right after the run,
		// before Close.
		killedInRun bool
		// child says the plugin spawned a process, whose pid is in
		// {pidfile}.
		child bool
	}{
		{
			name:    "crashes mid-run",
			timeout: 30 * time.Second,
			checks:  map[string]map[string]any{"good.crash": nil, "good.sleep": {"for": "1m"}},
			want: map[string]result{
				"good.crash": {checks.StatusError, crashed},
				"good.sleep": {checks.StatusError, crashed},
			},
			wantRef:     "plugin crashed (exit status 2); last stderr: good: cannot parse /etc/example.conf | good: giving up",
			killedInRun: true,
		},
		{
			name:    "panics in a goroutine",
			timeout: 30 * time.Second,
			checks:  map[string]map[string]any{"good.panic": nil},
			want: map[string]result{
				// The panic's own line leads, then the stack.
				"good.panic": {checks.StatusError, `^plugin good: plugin crashed \(exit status 2\); last stderr: panic: good: index out of range in the parser \| main\.main\.func\S+\(\) \| .*/good/main\.go:\d+ .*`},
			},
			wantRef:     "plugin crashed (exit status 2); last stderr: panic: good: index out of range in the parser",
			killedInRun: true,
		},
		{
			name:    "check exceeds its timeout",
			timeout: time.Second,
			checks:  map[string]map[string]any{"good.stuck": nil, "good.pass": nil, "good.sleep": {"for": "10ms"}},
			want: map[string]result{
				"good.stuck": {checks.StatusError, "timeout after 1s"},
				"good.pass":  {checks.StatusPass, "read os-release"},
				"good.sleep": {checks.StatusPass, "slept"},
			},
		},
		{
			name:    "spawns a child and exits",
			timeout: 30 * time.Second,
			checks:  map[string]map[string]any{"good.spawn": {"pidfile": "{pidfile}", "then": "exit"}, "good.sleep": {"for": "1m"}},
			want: map[string]result{
				"good.spawn": {checks.StatusError, `plugin good: plugin exited; last stderr: good: exiting, leaving child {child} behind`},
				"good.sleep": {checks.StatusError, `plugin good: plugin exited; last stderr: good: exiting, leaving child {child} behind`},
			},
			wantRef:     "plugin exited; last stderr: good: exiting, leaving child",
			killedInRun: true,
			child:       true,
		},
		{
			name:    "spawns a child and returns",
			timeout: 30 * time.Second,
			checks:  map[string]map[string]any{"good.spawn": {"pidfile": "{pidfile}", "then": "return"}},
			want: map[string]result{
				"good.spawn": {checks.StatusPass, `spawned {child}`},
			},
			child: true,
		},
		{
			// Out of the process group and without the run token: only
			// the plugin's PID namespace takes it down.
			name:    "spawns a child in a session of its own without the token and returns",
			timeout: 30 * time.Second,
			checks:  map[string]map[string]any{"good.spawn": {"pidfile": "{pidfile}", "then": "return", "setsid": true, "scrub": true}},
			want: map[string]result{
				"good.spawn": {checks.StatusPass, `spawned {child}`},
			},
			child: true,
		},
		{
			// Out of the process group, but it still carries the
			// launch's run token.
			name:    "spawns a child in a session of its own and returns",
			timeout: 30 * time.Second,
			checks:  map[string]map[string]any{"good.spawn": {"pidfile": "{pidfile}", "then": "return", "setsid": true}},
			want: map[string]result{
				"good.spawn": {checks.StatusPass, `spawned {child}`},
			},
			child: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newPluginDir(t)
			exe := install(t, dir, "good", "good")
			h := fixtureHost(t)
			s := open(t, Config{Dir: dir, Pins: pinAll(t, dir, "good")}, h)
			pid := pidOf(t, s, "good")
			pidfile := filepath.Join(t.TempDir(), "child.pid")

			var entries []baseline.Entry
			for id, params := range tt.checks {
				p := maps.Clone(params)
				if p["pidfile"] == "{pidfile}" {
					p["pidfile"] = pidfile
				}
				entries = append(entries, entry(t, s, id, p))
			}
			rs := run(h, tt.timeout, entries...)

			child := ""
			if tt.child {
				child = strconv.Itoa(readPid(t, pidfile))
			}
			for id, w := range tt.want {
				w.msg = strings.ReplaceAll(w.msg, "{child}", child)
				if r := rs[id]; !w.matches(r) {
					t.Errorf("%s = %s %q\nwant %s %q", id, r.Status, r.Message, w.status, w.msg)
				}
			}
			if got := refOf(t, s, "good").Error; tt.wantRef == "" && got != "" || !strings.Contains(got, tt.wantRef) {
				t.Errorf("Refs error = %q, want %q", got, tt.wantRef)
			}

			if tt.killedInRun {
				assertGone(t, "plugin after its run failed", false, pid)
				if tt.child {
					assertGone(t, "child of the plugin after its run failed", true, readPid(t, pidfile))
				}
			} else if err := syscall.Kill(pid, 0); err != nil {
				t.Errorf("the plugin was killed by the run (%v); a well-behaved plugin lives until Close", err)
			}
			s.Close()
			assertGone(t, "plugin", false, launches(t, exe)...)
			if tt.child {
				assertGone(t, "child of the plugin", true, readPid(t, pidfile))
			}
			assertNoProcessRuns(t, exe)
			assertRunDirClean(t, s)
		})
	}
}

// TestStderrBounded checks that a plugin that floods stderr before it
// crashes costs the agent at most OutputBytes, and that the ERROR message
// still carries its last words, and only a few lines of them.
func TestStderrBounded(t *testing.T) {
	t.Parallel()
	dir := newPluginDir(t)
	install(t, dir, "good", "good")
	h := fixtureHost(t)
	const bound = 4096
	s := open(t, Config{Dir: dir, Pins: pinAll(t, dir, "good"), OutputBytes: bound}, h)
	// About 170 KB, in one write.
	r := run(h, 30*time.Second, entry(t, s, "good.crash_noisy", map[string]any{"noise_lines": 2000}))["good.crash_noisy"]

	if r.Status != checks.StatusError || !strings.HasPrefix(r.Message, "plugin good: plugin crashed (exit status 2); last stderr: ") ||
		!strings.HasSuffix(r.Message, "good: cannot parse /etc/example.conf | good: giving up") {
		t.Errorf("result = %s %q, want the crash with the last stderr lines", r.Status, r.Message)
	}
	if n := strings.Count(r.Message, " | "); n != 4 {
		t.Errorf("message carries %d stderr lines, want 5: %q", n+1, r.Message)
	}
	l := s.owner["good"]
	l.proc.stderr.mu.Lock()
	kept, cut := len(l.proc.stderr.buf), l.proc.stderr.cut
	l.proc.stderr.mu.Unlock()
	if kept > bound || !cut {
		t.Errorf("stderr tail holds %d bytes (cut %v), want at most %d, cut", kept, cut, bound)
	}
}

// TestHangingPlugin covers a plugin that never answers and ignores Stop:
// the agent gives up at the check deadline (or the plugin's budget,
// whichever comes first), asks it to stop, kills it, and reports timeout.
func TestHangingPlugin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		timeout time.Duration
		want    string
		wantRef string
	}{
		{
			name:    "no answer within the check timeout",
			timeout: 500 * time.Millisecond,
			want:    "timeout after 500ms: plugin hang gave no result",
			wantRef: "gave no result within 500ms; stopped and killed",
		},
		{
			name:    "budget used up",
			cfg:     Config{Budget: 1500 * time.Millisecond},
			timeout: time.Minute,
			want:    "timeout: plugin hang used up its budget of 1.5s",
			wantRef: "used up its budget of 1.5s; stopped and killed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newPluginDir(t)
			exe := install(t, dir, "hang", "hang")
			h := fixtureHost(t)
			cfg := tt.cfg
			cfg.Dir, cfg.Pins = dir, pinAll(t, dir, "hang")
			s := open(t, cfg, h)
			pid := pidOf(t, s, "hang")

			start := time.Now()
			r := run(h, tt.timeout, entry(t, s, "hang.block", nil))["hang.block"]
			if r.Status != checks.StatusError || r.Message != tt.want {
				t.Errorf("hang.block = %s %q, want ERROR %q", r.Status, r.Message, tt.want)
			}
			// Not a timing test: the bound only tells "gave up" from
			// "waited for the check timeout".
			if elapsed := time.Since(start); elapsed > 30*time.Second {
				t.Errorf("the run took %s", elapsed)
			}
			if got := refOf(t, s, "hang").Error; got != tt.wantRef {
				t.Errorf("Refs error = %q, want %q", got, tt.wantRef)
			}
			stops, _ := os.ReadFile(filepath.Join(dir, ".hang.stops"))
			if strings.TrimSpace(string(stops)) != strconv.Itoa(pid) {
				t.Errorf("Stop calls recorded %q, want one from pid %d: the agent must ask before it kills", stops, pid)
			}
			// Killed by the run, not by Close.
			assertGone(t, "hung plugin", false, pid)
			assertNoProcessRuns(t, exe)
			assertRunDirClean(t, s)
		})
	}
}

// TestRogueResults covers a plugin that breaks the Run contract: results
// for checks it did not declare or was not asked for, invalid statuses, a
// second result. Each is ignored or turned into ERROR for that check
// alone, noted in Refs, and the plugin's other results stand.
func TestRogueResults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		check   string
		want    result
		wantRef []string
	}{
		{
			check: "rogue.undeclared",
			want:  result{checks.StatusError, "plugin rogue ended the run without a result for this check"},
			wantRef: []string{
				`returned a result for "rogue.ghost", which it did not declare; ignored`,
				`returned a result for "good.pass", which it did not declare; ignored`,
				`returned a result for rogue.unasked, which was not asked for; ignored`,
			},
		},
		{
			check:   "rogue.bad_status",
			want:    result{checks.StatusError, "plugin rogue returned an invalid status 42"},
			wantRef: []string{"plugin returned an invalid status 42 for rogue.bad_status"},
		},
		{
			check:   "rogue.unspecified",
			want:    result{checks.StatusError, "plugin rogue returned an invalid status 0"},
			wantRef: []string{"plugin returned an invalid status 0 for rogue.unspecified"},
		},
		{
			check:   "rogue.twice",
			want:    result{checks.StatusPass, "ok"},
			wantRef: []string{"returned a second result for rogue.twice; ignored"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			t.Parallel()
			dir := newPluginDir(t)
			exe := install(t, dir, "rogue", "rogue")
			h := fixtureHost(t)
			s := open(t, Config{Dir: dir, Pins: pinAll(t, dir, "rogue")}, h)
			rs := run(h, 5*time.Second, entry(t, s, tt.check, nil), entry(t, s, "rogue.ok", nil))

			if r := rs[tt.check]; !tt.want.matches(r) {
				t.Errorf("%s = %s %q, want %s %q", tt.check, r.Status, r.Message, tt.want.status, tt.want.msg)
			}
			if r := rs["rogue.ok"]; r.Status != checks.StatusPass || r.Message != "ok" {
				t.Errorf("rogue.ok = %s %q, want PASS: one bad result must not spoil the others", r.Status, r.Message)
			}
			if len(rs) != 2 {
				t.Errorf("got results for %v, want only the two asked for", slices.Sorted(maps.Keys(rs)))
			}
			ref := refOf(t, s, "rogue")
			for _, w := range tt.wantRef {
				if !strings.Contains(ref.Error, w) {
					t.Errorf("Refs error = %q\nwant it to contain %q", ref.Error, w)
				}
			}
			s.Close()
			assertNoProcessRuns(t, exe)
			assertRunDirClean(t, s)
		})
	}
}

// osRelease is a linked (in-process) check, run alongside the plugins.
type osRelease struct{}

func (osRelease) Meta() checks.Meta {
	return checks.Meta{ID: "linked.os_release", Title: "os-release readable", Family: "linked", Severity: checks.SeverityLow, Rationale: "test", Remediation: "none"}
}

func (osRelease) Run(ctx context.Context, h checks.Host, _ checks.Params) checks.Result {
	if _, err := h.ReadFile(ctx, "/etc/os-release"); err != nil {
		return checks.Errorf("%v", err)
	}
	return checks.Pass("readable")
}

// TestCrashLeavesOthersIntact runs two plugins and a linked check in one
// scan; one plugin crashes while the other is still working.
func TestCrashLeavesOthersIntact(t *testing.T) {
	t.Parallel()
	dir := newPluginDir(t)
	alpha := install(t, dir, "alpha", "alpha")
	good := install(t, dir, "good", "good")
	h := fixtureHost(t)
	s := open(t, Config{Dir: dir, Pins: pinAll(t, dir, "alpha", "good")}, h)
	alphaPid := pidOf(t, s, "alpha")

	rs := run(h, 30*time.Second,
		entry(t, s, "alpha.crash", nil),
		entry(t, s, "alpha.sleep", map[string]any{"for": "1m"}),
		entry(t, s, "good.pass", nil),
		// Still running when alpha crashes.
		entry(t, s, "good.sleep", map[string]any{"for": "300ms"}),
		baseline.Entry{Check: osRelease{}, Params: checks.Params{}},
	)
	const crashed = "plugin alpha: plugin crashed (exit status 2); last stderr: alpha: cannot parse /etc/example.conf | alpha: giving up"
	want := map[string]result{
		"alpha.crash":       {checks.StatusError, crashed},
		"alpha.sleep":       {checks.StatusError, crashed},
		"good.pass":         {checks.StatusPass, "read os-release"},
		"good.sleep":        {checks.StatusPass, "slept"},
		"linked.os_release": {checks.StatusPass, "readable"},
	}
	for id, w := range want {
		if r := rs[id]; !w.matches(r) {
			t.Errorf("%s = %s %q, want %s %q", id, r.Status, r.Message, w.status, w.msg)
		}
	}
	if ev := rs["good.pass"].Evidence; len(ev) != 1 || ev[0].Actual != `ID=debian`+"\n"+`VERSION_ID="12"` {
		t.Errorf("good.pass evidence = %+v, want the fixture's os-release", ev)
	}
	if ref := refOf(t, s, "alpha"); !strings.Contains(ref.Error, "plugin crashed (exit status 2)") {
		t.Errorf("alpha Refs error = %q, want the crash", ref.Error)
	}
	if ref := refOf(t, s, "good"); ref.Error != "" || ref.Version != "1.2.3" || ref.SHA256 != pin(t, good) {
		t.Errorf("good Refs = %+v, want version 1.2.3, its sha256 and no error", ref)
	}
	assertGone(t, "crashed plugin", false, alphaPid)
	s.Close()
	assertNoProcessRuns(t, alpha, good)
	assertRunDirClean(t, s)
}

// TestEnvironmentScrubbed checks that a plugin inherits none of the agent's
// environment: only the fixed base, go-plugin's handshake variables and the
// run token.
func TestEnvironmentScrubbed(t *testing.T) {
	t.Parallel()
	for k := range agentSecrets {
		if os.Getenv(k) == "" {
			t.Fatalf("%s is not set in the test process: the test would prove nothing", k)
		}
	}
	dir := newPluginDir(t)
	install(t, dir, "good", "good")
	h := fixtureHost(t)
	s := open(t, Config{Dir: dir, Pins: pinAll(t, dir, "good")}, h)
	r := run(h, 10*time.Second, entry(t, s, "good.env", nil))["good.env"]
	if r.Status != checks.StatusPass {
		t.Fatalf("good.env = %s %q", r.Status, r.Message)
	}
	env := map[string]string{}
	for _, e := range r.Evidence {
		env[e.Key] = e.Actual
	}
	for k := range agentSecrets {
		if v, ok := env[k]; ok {
			t.Errorf("the plugin sees %s=%q", k, v)
		}
	}
	for k, want := range map[string]string{"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/", "LANG": "C", "LC_ALL": "C"} {
		if env[k] != want {
			t.Errorf("the plugin sees %s=%q, want %q", k, env[k], want)
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(env[EnvRunToken]) {
		t.Errorf("%s=%q, want a run token", EnvRunToken, env[EnvRunToken])
	}
	if env[protocol.EnvAgentUID] != strconv.Itoa(os.Geteuid()) {
		t.Errorf("%s=%q, want the agent's uid %d", protocol.EnvAgentUID, env[protocol.EnvAgentUID], os.Geteuid())
	}
	// Everything else is go-plugin's handshake.
	allowed := []string{"PATH", "HOME", "LANG", "LC_ALL", EnvRunToken, protocol.EnvAgentUID, "PLUMBLINE_PLUGIN"}
	for k, v := range env {
		if !slices.Contains(allowed, k) && !strings.HasPrefix(k, "PLUGIN_") {
			t.Errorf("the plugin sees %s=%q, which the agent does not set for it", k, v)
		}
	}
}

// TestUnpinnedFileNotLaunched checks that a file in the plugin directory
// that is not pinned is reported and not run, while the pinned plugin
// beside it runs.
func TestUnpinnedFileNotLaunched(t *testing.T) {
	t.Parallel()
	dir := newPluginDir(t)
	install(t, dir, "good", "good")
	stray := install(t, dir, "good", "stray")
	h := fixtureHost(t)
	s := open(t, Config{Dir: dir, Pins: pinAll(t, dir, "good")}, h)

	// The reason, then how to pin it (whose wording may change).
	ref := refOf(t, s, "stray")
	if !strings.HasPrefix(ref.Error, stray+" is not pinned; it was not launched.") || !strings.Contains(ref.Error, "sha256sum "+stray) || ref.SHA256 != "" {
		t.Errorf("stray Refs = %+v, want it not pinned, not launched, and how to pin it", ref)
	}
	if _, ok := s.Lookup("stray.pass"); ok || s.Owns("stray.pass") {
		t.Error("an unpinned file's namespace is served as a plugin's")
	}
	if r := run(h, 10*time.Second, entry(t, s, "good.pass", nil))["good.pass"]; r.Status != checks.StatusPass {
		t.Errorf("good.pass = %s %q, want PASS", r.Status, r.Message)
	}
	s.Close()
	if pids := launches(t, stray); len(pids) > 0 {
		t.Errorf("the unpinned file was launched (pids %v)", pids)
	}
}
