package cis

import (
	"embed"
	"errors"
	"io/fs"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/declarative"
)

// rulesFS holds the declarative CIS checks, one file per benchmark area.
//
//go:embed rules/*.yaml
var rulesFS embed.FS

var rules = sync.OnceValues(func() ([]*declarative.Check, error) {
	return parseRules(rulesFS, "rules")
})

// parseRules reads every check file in dir, files in parallel, and
// reports every problem of every file, duplicates across files included.
func parseRules(fsys fs.FS, dir string) ([]*declarative.Check, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	type parsed struct {
		cs  []*declarative.Check
		err error
	}
	results := make([]parsed, len(entries))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, e := range entries {
		if !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			name := path.Join(dir, e.Name())
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				results[i].err = err
				return
			}
			results[i].cs, results[i].err = declarative.ParseBuiltin("checks/cis/"+name, data)
		}()
	}
	wg.Wait()
	var all []*declarative.Check
	var errs declarative.Errors
	for _, r := range results {
		var es declarative.Errors
		if errors.As(r.err, &es) {
			errs = append(errs, es...)
		} else if r.err != nil {
			return nil, r.err
		}
		all = append(all, r.cs...)
	}
	errs = append(errs, declarative.Duplicates(all)...)
	if len(errs) > 0 {
		return nil, errs
	}
	slices.SortFunc(all, func(a, b *declarative.Check) int { return strings.Compare(a.Meta().ID, b.Meta().ID) })
	return all, nil
}

// Checks returns the built-in declarative CIS checks, sorted by id.
func Checks() []*declarative.Check {
	cs, err := rules()
	if err != nil {
		panic("checks/cis: built-in rules: " + err.Error())
	}
	return cs
}

func init() {
	// Parsing the content takes a few tens of milliseconds: start it now,
	// in the background, and register the checks when the registry is
	// first read. The embedded files are validated by this package's
	// tests; a broken one is a build defect, so failing loudly is right.
	go rules() //nolint:errcheck // the result is kept by the OnceValues
	checks.RegisterLazy(func() []checks.Check {
		cs := Checks()
		out := make([]checks.Check, len(cs))
		for i, c := range cs {
			out[i] = c
		}
		return out
	})
}
