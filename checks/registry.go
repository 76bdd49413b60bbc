package checks

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// The registry is the package's only state: built-in check packages register
// themselves in init, as node_exporter's collectors do.
var registry = struct {
	sync.RWMutex
	byID map[string]Check
	// pending are RegisterLazy functions not yet called.
	pending []func() []Check
}{byID: map[string]Check{}}

// RegisterLazy adds the checks fn returns; fn is called once, when the
// registry is first read. A package with many checks to prepare (parsing
// the declarative CIS content) uses it so that commands that never look at
// checks do not wait for them, and so that the work can start in the
// background at init.
func RegisterLazy(fn func() []Check) {
	registry.Lock()
	defer registry.Unlock()
	registry.pending = append(registry.pending, fn)
}

// loadMu serialises loadPending, so that a reader that finds pending
// functions waits until their checks are registered.
var loadMu sync.Mutex

// loadPending registers the lazily provided checks, if any are left. The
// functions stay pending until their checks are in, so a concurrent reader
// never sees a half-loaded registry.
func loadPending() {
	registry.RLock()
	n := len(registry.pending)
	registry.RUnlock()
	if n == 0 {
		return
	}
	loadMu.Lock()
	defer loadMu.Unlock()
	registry.RLock()
	pending := slices.Clone(registry.pending)
	registry.RUnlock()
	for _, fn := range pending {
		for _, c := range fn() {
			Register(c)
		}
	}
	registry.Lock()
	registry.pending = registry.pending[len(pending):]
	registry.Unlock()
}

// Register adds a check to the built-in registry. It panics on an invalid or
// duplicate check: both are programming errors that every test run catches.
func Register(c Check) {
	m := c.Meta()
	if err := m.Validate(); err != nil {
		panic(fmt.Sprintf("checks.Register: %v", err))
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.byID[m.ID]; dup {
		panic(fmt.Sprintf("checks.Register: duplicate check id %s", m.ID))
	}
	registry.byID[m.ID] = c
}

// Lookup returns the registered check with the id.
func Lookup(id string) (Check, bool) {
	loadPending()
	registry.RLock()
	defer registry.RUnlock()
	c, ok := registry.byID[id]
	return c, ok
}

// All returns every registered check, sorted by id.
func All() []Check {
	loadPending()
	registry.RLock()
	defer registry.RUnlock()
	out := make([]Check, 0, len(registry.byID))
	for _, c := range registry.byID {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Check) int { return strings.Compare(a.Meta().ID, b.Meta().ID) })
	return out
}
