package scan

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/baseline"
	"github.com/plumbline/plumbline/checks/declarative"
)

// LoadLocalChecks reads the operator's declarative check files in dir
// (*.yaml, *.yml). A directory that does not exist holds none. Every
// problem of every file is reported at once, with file and line; a check
// whose id a built-in check already has is one of them.
func LoadLocalChecks(dir string) ([]*declarative.Check, error) {
	if dir == "" {
		return nil, nil
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	cs, err := declarative.LoadDir(dir)
	var errs declarative.Errors
	if err != nil && !errors.As(err, &errs) {
		return nil, fmt.Errorf("check files in %s: %w", dir, err)
	}
	for _, c := range cs {
		if _, builtin := checks.Lookup(c.Meta().ID); builtin {
			file, line := c.Position()
			errs = append(errs, declarative.Error{File: file, Line: line, Msg: fmt.Sprintf("check %s is a built-in check; give yours another id", c.Meta().ID)})
		}
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b declarative.Error) int {
			return cmp.Or(strings.Compare(a.File, b.File), a.Line-b.Line)
		})
		return nil, fmt.Errorf("check files in %s:\n%w", dir, errs)
	}
	return cs, nil
}

// LocalLookup resolves ids to the local checks, then to next.
func LocalLookup(local []*declarative.Check, next baseline.Lookup) baseline.Lookup {
	if next == nil {
		next = checks.Lookup
	}
	if len(local) == 0 {
		return next
	}
	byID := make(map[string]checks.Check, len(local))
	for _, c := range local {
		byID[c.Meta().ID] = c
	}
	return func(id string) (checks.Check, bool) {
		if c, ok := byID[id]; ok {
			return c, true
		}
		return next(id)
	}
}

// withChecks adds every check the baseline does not name, with default
// parameters: putting a check file in place (or pinning a plugin) is
// enough to run its checks; a baseline entry refines them.
func withChecks[C checks.Check](b *baseline.Baseline, cs []C) *baseline.Baseline {
	named := map[string]bool{}
	for _, e := range b.Entries {
		named[e.Check.Meta().ID] = true
	}
	out := *b
	out.Entries = slices.Clone(b.Entries)
	for _, c := range cs {
		m := c.Meta()
		if named[m.ID] {
			continue
		}
		p, err := checks.Resolve(m.Params, nil)
		if err != nil {
			// Validated defaults; a stand-in for a failed plugin has none.
			p = checks.Params{}
		}
		out.Entries = append(out.Entries, baseline.Entry{Check: c, Params: p, Severity: m.Severity})
		named[m.ID] = true
	}
	return &out
}

// OwnedByPlugins reports local checks whose id belongs to a running
// plugin's namespace: the plugin owns its name's ids, so such a check could
// never run as written.
func OwnedByPlugins(local []*declarative.Check, owns func(id string) bool) error {
	var errs declarative.Errors
	for _, c := range local {
		if owns(c.Meta().ID) {
			file, line := c.Position()
			errs = append(errs, declarative.Error{File: file, Line: line, Msg: fmt.Sprintf("check %s is in the namespace of a plugin; give yours another id", c.Meta().ID)})
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("check files:\n%w", errs)
	}
	return nil
}
