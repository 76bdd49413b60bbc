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
}{byID: map[string]Check{}}

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
	registry.RLock()
	defer registry.RUnlock()
	c, ok := registry.byID[id]
	return c, ok
}

// All returns every registered check, sorted by id.
func All() []Check {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]Check, 0, len(registry.byID))
	for _, c := range registry.byID {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Check) int { return strings.Compare(a.Meta().ID, b.Meta().ID) })
	return out
}
