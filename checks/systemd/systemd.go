// Package systemd tells from files alone whether a systemd unit exists, is
// enabled or is masked, so that the answer is the same for the live host and
// for a mounted image.
package systemd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/plumbline/plumbline/checks"
)

// UnitDirs are systemd's unit search path, highest precedence first.
var UnitDirs = []string{
	"/etc/systemd/system",
	"/run/systemd/system",
	"/usr/local/lib/systemd/system",
	"/usr/lib/systemd/system",
	"/lib/systemd/system",
}

// State is what the files say about a unit.
type State struct {
	Unit string `json:"unit"`
	// Path is the unit file that wins precedence, empty if none exists.
	Path    string `json:"path,omitempty"`
	Masked  bool   `json:"masked"`
	Enabled bool   `json:"enabled"`
	// EnabledBy is the first *.wants/*.requires link found (or SysV rc link).
	EnabledBy string `json:"enabled_by,omitempty"`
}

// Exists reports whether a unit file (or masking link) was found.
func (s State) Exists() bool { return s.Path != "" }

// String is a short human summary: "enabled", "disabled", "masked", "not installed".
func (s State) String() string {
	switch {
	case s.Masked:
		return "masked"
	case s.Enabled:
		return "enabled"
	case s.Exists():
		return "disabled"
	default:
		return "not installed"
	}
}

// unitTypes are the suffixes systemd gives unit names.
var unitTypes = []string{".service", ".socket", ".target", ".timer", ".path", ".mount", ".automount", ".swap", ".device", ".slice", ".scope"}

// Unit returns the state of unit ("auditd.service"; a name without a unit
// type suffix, such as "aegis" or "dbus-org.example.agent", is taken as a
// service).
func Unit(ctx context.Context, h checks.Host, unit string) (State, error) {
	if !slices.ContainsFunc(unitTypes, func(t string) bool { return strings.HasSuffix(unit, t) }) {
		unit += ".service"
	}
	st := State{Unit: unit}
	for _, dir := range UnitDirs {
		p := path.Join(dir, unit)
		fi, err := h.Lstat(ctx, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return st, fmt.Errorf("unit %s: %w", unit, err)
		}
		st.Path = p
		if fi.IsSymlink() {
			target, err := h.Readlink(ctx, p)
			if err != nil {
				return st, fmt.Errorf("unit %s: %w", unit, err)
			}
			if target == "/dev/null" || path.Clean(path.Join(dir, target)) == "/dev/null" {
				st.Masked = true
				return st, nil
			}
		} else if fi.Mode.IsRegular() && fi.Size == 0 {
			// An empty unit file masks too, in any unit directory
			// (systemd.unit(5)).
			st.Masked = true
			return st, nil
		}
		break
	}
	by, err := enabledBy(ctx, h, unit)
	if err != nil {
		return st, err
	}
	st.EnabledBy, st.Enabled = by, by != ""
	return st, nil
}

// enabledBy finds a wants/requires link for the unit in any unit directory,
// or a SysV start link for hosts not booted with systemd.
func enabledBy(ctx context.Context, h checks.Host, unit string) (string, error) {
	l, err := readLinks(ctx, h)
	if err != nil {
		return "", fmt.Errorf("unit %s: %w", unit, err)
	}
	if p, ok := l.wants[unit]; ok {
		return p, nil
	}
	if name, ok := strings.CutSuffix(unit, ".service"); ok {
		if p, ok := l.sysv[name]; ok {
			return p, nil
		}
	}
	return "", nil
}

// links indexes the links that enable units. Globbing "*.wants/<unit>" per
// unit lists every unit directory each time (hundreds of entries), so the
// links are read once per scan instead.
type links struct {
	// wants maps a unit name to its first *.wants or *.requires link, in
	// UnitDirs order, then by path.
	wants map[string]string
	// sysv maps a SysV service name to its first /etc/rc[2345].d/S??name link.
	sysv map[string]string
}

func readLinks(ctx context.Context, h checks.Host) (*links, error) {
	return checks.Memoized(h, "systemd.links", func() (*links, error) {
		l := &links{wants: map[string]string{}, sysv: map[string]string{}}
		// index records the entries of dirs under the names key gives them,
		// keeping the first link seen for each name.
		index := func(dirs []string, key func(name string) (string, bool), into map[string]string) error {
			for _, dir := range dirs {
				entries, err := h.ReadDir(ctx, dir)
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					continue // absent, not a directory, or unreadable: no links here
				}
				for _, e := range entries {
					if k, ok := key(e.Name); ok {
						if _, seen := into[k]; !seen {
							into[k] = e.Path
						}
					}
				}
			}
			return nil
		}
		every := func(name string) (string, bool) { return name, true }
		for _, dir := range UnitDirs {
			// One listing per unit directory, which holds hundreds of units.
			entries, err := h.ReadDir(ctx, dir)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				continue
			}
			var wants, requires []string
			for _, e := range entries {
				switch {
				case strings.HasPrefix(e.Name, "."):
				case strings.HasSuffix(e.Name, ".wants"):
					wants = append(wants, e.Path)
				case strings.HasSuffix(e.Name, ".requires"):
					requires = append(requires, e.Path)
				}
			}
			if err := index(append(wants, requires...), every, l.wants); err != nil {
				return nil, err
			}
		}
		rcs := []string{"/etc/rc2.d", "/etc/rc3.d", "/etc/rc4.d", "/etc/rc5.d"}
		if err := index(rcs, sysvStart, l.sysv); err != nil {
			return nil, err
		}
		return l, nil
	})
}

// sysvStart returns the service a SysV start link ("S01aegis") starts.
func sysvStart(link string) (string, bool) {
	if len(link) < 4 || link[0] != 'S' || !isDigit(link[1]) || !isDigit(link[2]) {
		return "", false
	}
	return link[3:], true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
