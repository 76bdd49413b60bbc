package scan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks/baseline"
)

const localCheck = `schema: plumbline.checks/v1
checks:
  - id: %s
    title: A local check
    severity: low
    rationale: Because.
    remediation: Fix it.
    test: {file: /etc/hostname, exists: true}
`

func writeCheck(t *testing.T, dir, name, id string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Replace(localCheck, "%s", id, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadLocalChecks(t *testing.T) {
	t.Parallel()
	if cs, err := LoadLocalChecks(filepath.Join(t.TempDir(), "missing")); err != nil || cs != nil {
		t.Errorf("missing dir: %v %v, want none and no error", cs, err)
	}
	dir := t.TempDir()
	writeCheck(t, dir, "a.yaml", "site.one")
	writeCheck(t, dir, "b.yaml", "sudo.use_pty")
	_, err := LoadLocalChecks(dir)
	if err == nil || !strings.Contains(err.Error(), "b.yaml:3: check sudo.use_pty is a built-in check") {
		t.Errorf("built-in id: %v", err)
	}
	dir = t.TempDir()
	writeCheck(t, dir, "a.yaml", "acme.one")
	writeCheck(t, dir, "b.yaml", "site.two")
	cs, err := LoadLocalChecks(dir)
	if err != nil || len(cs) != 2 {
		t.Fatalf("%v %v", cs, err)
	}
	err = OwnedByPlugins(cs, func(id string) bool { return strings.HasPrefix(id, "acme.") })
	if err == nil || !strings.Contains(err.Error(), "a.yaml:3: check acme.one is in the namespace of a plugin") || strings.Contains(err.Error(), "site.two") {
		t.Errorf("plugin namespace: %v", err)
	}
	// A check the baseline names is not added again.
	b := &baseline.Baseline{Entries: []baseline.Entry{{Check: cs[1]}}}
	out := withChecks(b, append(cs, cs[1]))
	if len(out.Entries) != 2 || out.Entries[1].Check.Meta().ID != "acme.one" {
		t.Errorf("entries %d: %v", len(out.Entries), out.Entries)
	}
}
