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

// Unit returns the state of unit ("auditd.service"; a name without a
// suffix is taken as a service).
func Unit(ctx context.Context, h checks.Host, unit string) (State, error) {
	if !strings.Contains(unit, ".") {
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
			if target == "/dev/null" {
				st.Masked = true
				return st, nil
			}
		} else if fi.Mode.IsRegular() && fi.Size == 0 && strings.HasPrefix(dir, "/etc") {
			// An empty unit file in /etc also masks.
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
	for _, dir := range UnitDirs {
		for _, kind := range []string{"wants", "requires"} {
			links, err := h.Glob(ctx, path.Join(dir, "*."+kind, unit))
			if err != nil {
				return "", fmt.Errorf("unit %s: %w", unit, err)
			}
			if len(links) > 0 {
				return links[0], nil
			}
		}
	}
	if name, ok := strings.CutSuffix(unit, ".service"); ok {
		links, err := h.Glob(ctx, "/etc/rc[2345].d/S[0-9][0-9]"+name)
		if err != nil {
			return "", fmt.Errorf("unit %s: %w", unit, err)
		}
		if len(links) > 0 {
			return links[0], nil
		}
	}
	return "", nil
}
