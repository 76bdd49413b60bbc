// Package hostname holds the example plugin's checks, in a package of their
// own so that sdktest's tests can run them in process too.
package hostname

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/plugins/sdk"
)

// Plugin is the example plugin as its main serves it.
var Plugin = sdk.Plugin{Name: "example", Version: "1.0.0", Checks: []sdk.Check{Set{}, Mode{}}}

const path = "/etc/hostname"

// Set checks that /etc/hostname names the host.
type Set struct{}

// Meta implements checks.Check.
func (Set) Meta() checks.Meta {
	return checks.Meta{
		ID:          "example.hostname_set",
		Title:       "The host has a name of its own",
		Family:      "example",
		Severity:    checks.SeverityLow,
		Rationale:   "Logs and reports from hosts all called localhost cannot be told apart.",
		Remediation: "Set a name: hostnamectl set-hostname <name>.",
		Params: []checks.ParamSpec{{
			Name: "forbidden", Kind: checks.KindStringList, Default: []string{"localhost", "localhost.localdomain"},
			Doc: "Names that do not count as a name of the host's own.",
		}},
	}
}

// Run implements checks.Check.
func (Set) Run(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	forbidden := p.StringList("forbidden")
	expected := "a name, not " + strings.Join(forbidden, " or ")
	data, err := h.ReadFile(ctx, path)
	if errors.Is(err, fs.ErrNotExist) {
		return checks.Fail(path+" does not exist",
			checks.Evidence{Key: "hostname", Expected: expected, Actual: "missing", Path: path})
	}
	if err != nil {
		return checks.Errorf("read %s: %v", path, err)
	}
	name := strings.TrimSpace(string(data))
	ev := checks.Evidence{Key: "hostname", Expected: expected, Actual: name, Path: path, Line: 1,
		OK: name != "" && !slices.Contains(forbidden, name)}
	return checks.Judge("the host is called "+name, fmt.Sprintf("the host has no name of its own (%q)", name), ev)
}

// Mode checks that only root can change /etc/hostname.
type Mode struct{}

// Meta implements checks.Check.
func (Mode) Meta() checks.Meta {
	return checks.Meta{
		ID:          "example.hostname_mode",
		Title:       "/etc/hostname is not writable by group or others",
		Family:      "example",
		Severity:    checks.SeverityMedium,
		Rationale:   "Whoever can write /etc/hostname can make the host impersonate another.",
		Remediation: "chmod 0644 /etc/hostname",
	}
}

// Run implements checks.Check.
func (Mode) Run(ctx context.Context, h checks.Host, _ checks.Params) checks.Result {
	fi, err := h.Stat(ctx, path)
	if errors.Is(err, fs.ErrNotExist) {
		return checks.NotApplicable(path + " does not exist")
	}
	if err != nil {
		return checks.Errorf("stat %s: %v", path, err)
	}
	ev := checks.Evidence{Key: "mode", Expected: "0644 or stricter", Actual: fmt.Sprintf("%04o", fi.Perm()), Path: path,
		OK: fi.Perm()&^0o644 == 0}
	return checks.Judge(path+" is writable by root only", path+" is writable by more than root", ev)
}
