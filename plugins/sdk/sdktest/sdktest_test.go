package sdktest_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/plugins/sdk"
	"github.com/plumbline/plumbline/plugins/sdk/sdktest"
	"github.com/plumbline/plumbline/plugins/sdk/sdktest/testdata/example/hostname"
)

// recorder is a testing.TB whose failures are recorded instead of failing
// the test, so that a test can require a helper to fail, and why. Fatal
// ends the helper's goroutine as it would end a test's.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed bool
	msgs   []string
}

func (r *recorder) Helper() {}

func (r *recorder) record(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.msgs = append(r.msgs, msg)
}

func (r *recorder) Error(args ...any)                 { r.record(fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) { r.record(fmt.Sprintf(format, args...)) }
func (r *recorder) Fail()                             { r.record("Fail called") }
func (r *recorder) FailNow()                          { r.Fail(); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)                 { r.Error(args...); runtime.Goexit() }
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); runtime.Goexit() }

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// capture runs fn with a recorder in a goroutine of its own (Fatal ends
// it) and returns what was recorded.
func capture(t *testing.T, fn func(tb testing.TB)) *recorder {
	t.Helper()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r
}

// requireFailure fails t unless the recorder failed with a message
// containing want.
func requireFailure(t *testing.T, r *recorder, want string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.failed {
		t.Fatalf("the helper did not fail the test; want a failure mentioning %q", want)
	}
	all := strings.Join(r.msgs, "\n")
	if !strings.Contains(all, want) {
		t.Fatalf("the helper failed with:\n%s\nwant a message mentioning %q", all, want)
	}
}

func requireNoFailure(t *testing.T, r *recorder) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed {
		t.Fatalf("the helper failed the test:\n%s", strings.Join(r.msgs, "\n"))
	}
}

// want is the status each example check must give on a fixture host.
type want map[string]checks.Status

func requireStatuses(t *testing.T, got sdktest.Results, w want) {
	t.Helper()
	if len(got) != len(w) {
		t.Errorf("got results for %d checks, want %d: %v", len(got), len(w), got)
	}
	for id, status := range w {
		r, ok := got[id]
		switch {
		case !ok:
			t.Errorf("%s: no result", id)
		case r.Status != status:
			t.Errorf("%s: %s (%s), want %s; evidence %+v", id, r.Status, r.Message, status, r.Evidence)
		case r.ID != id || r.Title == "" || r.Severity == 0:
			t.Errorf("%s: result not filled in as the engine does: %+v", id, r)
		}
	}
}

// fixtures are the example plugin's fixture hosts with what each check
// gives on them, with default parameters.
var fixtures = []struct {
	root string
	want want
}{
	{"testdata/hosts/pass", want{"example.hostname_set": checks.StatusPass, "example.hostname_mode": checks.StatusPass}},
	{"testdata/hosts/localhost", want{"example.hostname_set": checks.StatusFail, "example.hostname_mode": checks.StatusPass}},
	// Only the MODES file makes this host's /etc/hostname writable.
	{"testdata/hosts/writable", want{"example.hostname_set": checks.StatusPass, "example.hostname_mode": checks.StatusFail}},
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		plugin  sdk.Plugin
		wantErr string // "" when the declaration is valid
	}{
		{"valid", hostname.Plugin, ""},
		{"bad name", sdk.Plugin{Name: "Example", Version: "1", Checks: hostname.Plugin.Checks}, `plugin name "Example"`},
		{"no version", sdk.Plugin{Name: "example", Checks: hostname.Plugin.Checks}, "version is empty"},
		{"no checks", sdk.Plugin{Name: "example", Version: "1"}, "provides no checks"},
		{"foreign check ids", sdk.Plugin{Name: "other", Version: "1", Checks: hostname.Plugin.Checks}, `must start with the plugin name "other."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := capture(t, func(tb testing.TB) { sdktest.Validate(tb, tt.plugin) })
			if tt.wantErr == "" {
				requireNoFailure(t, r)
			} else {
				requireFailure(t, r, tt.wantErr)
			}
		})
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	for _, f := range fixtures {
		t.Run(f.root, func(t *testing.T) {
			t.Parallel()
			requireStatuses(t, sdktest.Run(t, hostname.Plugin, f.root), f.want)
		})
	}
}

func TestRunParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []sdktest.Option
		want    checks.Status
		wantErr string
	}{
		{"defaults", nil, checks.StatusPass, ""},
		{"override makes the name forbidden", []sdktest.Option{sdktest.Params("example.hostname_set", map[string]any{"forbidden": []any{"web-01"}})}, checks.StatusFail, ""},
		{"unknown check", []sdktest.Option{sdktest.Params("example.no_such_check", map[string]any{"x": 1})}, 0, `Params("example.no_such_check")`},
		{"unknown parameter", []sdktest.Option{sdktest.Params("example.hostname_set", map[string]any{"allowed": []any{"x"}})}, 0, `unknown parameter "allowed"`},
		{"wrong kind", []sdktest.Option{sdktest.Params("example.hostname_set", map[string]any{"forbidden": 3})}, 0, "want a list of strings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got sdktest.Results
			r := capture(t, func(tb testing.TB) { got = sdktest.Run(tb, hostname.Plugin, "testdata/hosts/pass", tt.opts...) })
			if tt.wantErr != "" {
				requireFailure(t, r, tt.wantErr)
				return
			}
			requireNoFailure(t, r)
			if s := got["example.hostname_set"].Status; s != tt.want {
				t.Errorf("example.hostname_set: %s, want %s", s, tt.want)
			}
		})
	}
}

func TestRunRefusesInvalidPlugin(t *testing.T) {
	t.Parallel()
	bad := sdk.Plugin{Name: "example", Checks: hostname.Plugin.Checks}
	r := capture(t, func(tb testing.TB) { sdktest.Run(tb, bad, "testdata/hosts/pass") })
	requireFailure(t, r, "version is empty")
}

// slow is a check that ignores its context, as a check stuck in a read does.
type slow struct{ hostname.Set }

func (slow) Run(context.Context, checks.Host, checks.Params) checks.Result {
	select {}
}

// drifted is the hostname check changed after the binary was built.
type drifted struct{ hostname.Set }

func (drifted) Run(context.Context, checks.Host, checks.Params) checks.Result {
	return checks.Fail("changed since the build")
}

func TestRunCheckTimeout(t *testing.T) {
	t.Parallel()
	p := sdk.Plugin{Name: "example", Version: "1", Checks: []sdk.Check{slow{}}}
	got := sdktest.Run(t, p, "testdata/hosts/pass", sdktest.CheckTimeout(50*time.Millisecond))
	r := got["example.hostname_set"]
	if r.Status != checks.StatusError || !strings.Contains(r.Message, "timeout") {
		t.Errorf("a stuck check gave %s %q, want ERROR timeout", r.Status, r.Message)
	}
}

func TestBuildReportsCompileErrors(t *testing.T) {
	t.Parallel()
	r := capture(t, func(tb testing.TB) { sdktest.Build(tb, "testdata/broken") })
	requireFailure(t, r, "cannot use")
}

// TestExampleBinary builds the example plugin once and runs every binary
// helper on it.
func TestExampleBinary(t *testing.T) {
	t.Parallel()
	bin := sdktest.Build(t, "testdata/example")

	t.Run("CheckHandshake", func(t *testing.T) {
		t.Parallel()
		r := capture(t, func(tb testing.TB) { sdktest.CheckHandshake(tb, bin) })
		requireNoFailure(t, r)
	})
	for _, f := range fixtures {
		t.Run("RunBinary/"+f.root, func(t *testing.T) {
			t.Parallel()
			requireStatuses(t, sdktest.RunBinary(t, bin, f.root), f.want)
		})
		t.Run("Conform/"+f.root, func(t *testing.T) {
			t.Parallel()
			requireStatuses(t, sdktest.Conform(t, hostname.Plugin, bin, f.root), f.want)
		})
	}
	t.Run("RunBinary/Params", func(t *testing.T) {
		t.Parallel()
		got := sdktest.RunBinary(t, bin, "testdata/hosts/pass",
			sdktest.Params("example.hostname_set", map[string]any{"forbidden": []any{"web-01"}}))
		if s := got["example.hostname_set"].Status; s != checks.StatusFail {
			t.Errorf("example.hostname_set with web-01 forbidden: %s, want FAIL", s)
		}
	})
	t.Run("Conform/ReportsDifferences", func(t *testing.T) {
		t.Parallel()
		// In process, the hostname check has changed and the mode check is
		// gone: both must be reported, by id.
		p := sdk.Plugin{Name: "example", Version: "1.0.0", Checks: []sdk.Check{drifted{}}}
		r := capture(t, func(tb testing.TB) { sdktest.Conform(tb, p, bin, "testdata/hosts/pass") })
		requireFailure(t, r, "example.hostname_set on testdata/hosts/pass differs")
		requireFailure(t, r, "example.hostname_mode on testdata/hosts/pass: provided by the binary")
	})
}

func TestNoisyPluginIsCaught(t *testing.T) {
	t.Parallel()
	bin := sdktest.Build(t, "testdata/noisy")
	t.Run("CheckHandshake", func(t *testing.T) {
		t.Parallel()
		r := capture(t, func(tb testing.TB) { sdktest.CheckHandshake(tb, bin) })
		requireFailure(t, r, `printed "noisy plugin starting" to stdout before the go-plugin handshake`)
	})
	t.Run("RunBinary", func(t *testing.T) {
		t.Parallel()
		r := capture(t, func(tb testing.TB) { sdktest.RunBinary(tb, bin, "testdata/hosts/pass") })
		requireFailure(t, r, "did not complete the go-plugin handshake")
	})
}

func TestCrashingPluginIsCaught(t *testing.T) {
	t.Parallel()
	bin := sdktest.Build(t, "testdata/crashy")
	var got sdktest.Results
	r := capture(t, func(tb testing.TB) { got = sdktest.RunBinary(tb, bin, "testdata/hosts/pass") })
	requireFailure(t, r, "plugin crashed (exit status 3)")
	if res := got["crashy.exits"]; res.Status != checks.StatusError {
		t.Errorf("crashy.exits: %s %q, want ERROR", res.Status, res.Message)
	}
}

func TestCheckHandshakeOnNonPlugin(t *testing.T) {
	t.Parallel()
	// A program that is not a plugin at all: it neither refuses to run by
	// hand nor prints the handshake for the agent.
	r := capture(t, func(tb testing.TB) { sdktest.CheckHandshake(tb, "/bin/true") })
	requireFailure(t, r, "without the agent's cookie exited 0")
	requireFailure(t, r, "ended without a handshake line")
}
