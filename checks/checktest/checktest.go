// Package checktest runs checks against fixture root trees in tests.
package checktest

import (
	"context"
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
