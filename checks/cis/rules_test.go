package cis

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/declarative"
)

// TestRulesAgainstCatalogues: every CIS reference names a control of that
// platform's benchmark; a check's level is the lowest level of its
// controls, and it is "manual" exactly when all its controls are Manual.
func TestRulesAgainstCatalogues(t *testing.T) {
	for _, c := range Checks() {
		id := c.Meta().ID
		lowest, allManual, n := 3, true, 0
		for platform, controls := range c.CIS() {
			cat, ok := CatalogFor(platform)
			if !ok {
				t.Errorf("%s (%s): no catalogue for %s", id, c.Source(), platform)
				continue
			}
			if cat.Benchmark != checks.CISBenchmarks[platform] {
				t.Errorf("catalogue %s is %q but references say %q", platform, cat.Benchmark, checks.CISBenchmarks[platform])
			}
			for _, ctlID := range controls {
				ctl, ok := cat.Lookup(ctlID)
				if !ok {
					t.Errorf("%s (%s): %s has no control %s", id, c.Source(), cat.Benchmark, ctlID)
					continue
				}
				n++
				if ctl.Level > 0 {
					lowest = min(lowest, ctl.Level)
				}
				allManual = allManual && !ctl.Automated()
			}
		}
		if n == 0 {
			continue
		}
		if lowest < 3 && c.Level() != lowest {
			t.Errorf("%s (%s): level %d, but the lowest level of its controls is %d", id, c.Source(), c.Level(), lowest)
		}
		if want := map[bool]string{true: "manual", false: "automated"}[allManual]; c.Assessment() != want {
			t.Errorf("%s (%s): assessment %s, want %s (from its controls)", id, c.Source(), c.Assessment(), want)
		}
	}
}

func TestRulesRegistered(t *testing.T) {
	if len(Checks()) == 0 {
		t.Fatal("no declarative checks")
	}
	for _, c := range Checks() {
		got, ok := checks.Lookup(c.Meta().ID)
		if !ok || got != c {
			t.Errorf("%s not registered", c.Meta().ID)
		}
		if strings.Contains(c.Meta().Title, "Ensure ") {
			t.Errorf("%s: title %q: say what holds (\"SSH root login is disabled\"), not CIS's \"Ensure ...\"", c.Meta().ID, c.Meta().Title)
		}
	}
}

// TestRulesCompile: the built-in content is parsed without checking the
// syntax of its regular expressions at every start (ParseBuiltin); here
// each one is compiled, and each file parses under the full checks an
// operator's file gets.
func TestRulesCompile(t *testing.T) {
	if err := declarative.CompileAll(Checks()); err != nil {
		t.Error(err)
	}
	entries, err := fs.ReadDir(rulesFS, "rules")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := fs.ReadFile(rulesFS, "rules/"+e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := declarative.Parse(e.Name(), data); err != nil {
			t.Errorf("%s: %v", e.Name(), err)
		}
	}
}
