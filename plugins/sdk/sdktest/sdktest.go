// Package sdktest is what a plugin author's tests call: run the plugin's
// checks in process against a fixture tree (fast), run the built binary
// through the agent's own loader against the same tree (real), require the
// two to agree, and check that the binary keeps stdout clean for the
// go-plugin handshake.
//
//	func TestFixtures(t *testing.T) {
//		got := sdktest.Run(t, plugin, "testdata/pass")
//		if got["acme.ntp_synced"].Status != checks.StatusPass { ... }
//	}
//
//	func TestBinary(t *testing.T) {
//		bin := sdktest.Build(t, ".")
//		sdktest.CheckHandshake(t, bin)
//		sdktest.Conform(t, plugin, bin, "testdata/pass")
//	}
//
// A fixture tree is a directory that stands for "/" ("testdata/pass/etc/...").
// Git keeps no file modes, so a tree with a MODES file ("octal-mode path" per
// line) is first copied with those modes (checktest.Materialize); a tree
// without one is read as it is.
package sdktest

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/baseline"
	"github.com/plumbline/plumbline/checks/checktest"
	"github.com/plumbline/plumbline/checks/engine"
	"github.com/plumbline/plumbline/plugins/sdk"
)

// Results are a run's results keyed by check id.
type Results map[string]checks.Result

// Option tunes Run, RunBinary and Conform.
type Option func(*config)

type config struct {
	params  map[string]map[string]any
	timeout time.Duration
}

func newConfig(opts []Option) config {
	c := config{params: map[string]map[string]any{}, timeout: engine.DefaultCheckTimeout}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// Params overrides parameters of the check with the id, as a baseline's
// params block would; the others keep their defaults. Naming a check the
// plugin does not provide, or a parameter it does not declare, fails the
// test.
func Params(id string, values map[string]any) Option {
	return func(c *config) {
		if c.params[id] == nil {
			c.params[id] = map[string]any{}
		}
		maps.Copy(c.params[id], values)
	}
}

// CheckTimeout bounds each check, as the agent's per-check deadline does
// (default engine.DefaultCheckTimeout, the agent's default).
func CheckTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// Validate fails the test with every problem in p's declaration: the ones
// for which sdk.Serve would refuse to start.
func Validate(t testing.TB, p sdk.Plugin) {
	t.Helper()
	if err := p.Validate(); err != nil {
		t.Fatalf("plugin %s: invalid declaration:\n%v", p.Name, err)
	}
}

// Run runs every check of p in process on the fixture tree at root, as the
// agent's engine runs built-in checks: default parameters (with Params
// overrides), a deadline per check, platform filtering against the tree's
// os-release, panics turned into ERROR. It fails the test if p's
// declaration is invalid.
func Run(t testing.TB, p sdk.Plugin, root string, opts ...Option) Results {
	t.Helper()
	Validate(t, p)
	cfg := newConfig(opts)
	h := checktest.Host(t, prepare(t, root))
	entries := entries(t, p.Checks, cfg)
	return keyed(engine.Run(t.Context(), h, entries, engine.Options{CheckTimeout: cfg.timeout}))
}

// prepare returns the tree to read for root: a copy with the modes its
// MODES file gives, or root itself when it has none.
func prepare(t testing.TB, root string) string {
	t.Helper()
	_, err := os.Stat(filepath.Join(root, "MODES"))
	switch {
	case err == nil:
		return checktest.Materialize(t, root)
	case errors.Is(err, fs.ErrNotExist):
		return root
	default:
		t.Fatalf("fixture root %s: %v", root, err)
		return ""
	}
}

// entries builds the baseline entries that run every check of cs with its
// parameters resolved.
func entries(t testing.TB, cs []checks.Check, cfg config) []baseline.Entry {
	t.Helper()
	ids := make([]string, 0, len(cs))
	out := make([]baseline.Entry, 0, len(cs))
	for _, c := range cs {
		m := c.Meta()
		ids = append(ids, m.ID)
		p, err := checks.Resolve(m.Params, cfg.params[m.ID])
		if err != nil {
			t.Fatalf("%s parameters: %v", m.ID, err)
		}
		out = append(out, baseline.Entry{Check: c, Params: p, Severity: m.Severity})
	}
	for _, id := range slices.Sorted(maps.Keys(cfg.params)) {
		if !slices.Contains(ids, id) {
			t.Fatalf("Params(%q): the plugin provides no such check (it provides %s)", id, strings.Join(ids, ", "))
		}
	}
	return out
}

func keyed(rs []checks.Result) Results {
	out := make(Results, len(rs))
	for _, r := range rs {
		out[r.ID] = r
	}
	return out
}
