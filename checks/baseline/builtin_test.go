package baseline_test

import (
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/baseline"
	"github.com/plumbline/plumbline/checks/declarative"
	_ "github.com/plumbline/plumbline/checks/families"
)

// Every built-in baseline must load against the real registry and select
// every check of the Go families (the security measures): a check nobody
// runs is a control nobody verifies. Which declarative CIS checks each
// distribution's baseline selects is generated from their references and
// checked by checks/cis (TestCoverageCurrent).
func TestBuiltinBaselinesLoad(t *testing.T) {
	t.Parallel()
	names := baseline.BuiltinNames()
	for _, want := range []string{"debian-12", "ubuntu-22.04", "ubuntu-24.04", "rhel-9", "alinux-3", "linux",
		"debian-12-level2", "ubuntu-22.04-level2", "ubuntu-24.04-level2", "rhel-9-level2", "alinux-3-level2"} {
		b, err := baseline.Builtin(want)
		if err != nil {
			t.Errorf("built-in %s: %v (have %v)", want, err, names)
			continue
		}
		if b.Name != want || b.Source != "builtin:"+want+".yaml" {
			t.Errorf("built-in %s: name %q source %q", want, b.Name, b.Source)
		}
		selected := map[string]bool{}
		for _, e := range b.Entries {
			selected[e.Check.Meta().ID] = true
		}
		for _, c := range checks.All() {
			if _, declarative := c.(*declarative.Check); declarative {
				continue
			}
			if !selected[c.Meta().ID] {
				t.Errorf("built-in %s does not select %s", want, c.Meta().ID)
			}
		}
	}
}
