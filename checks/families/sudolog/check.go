package sudolog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/sudoers"
	"github.com/plumbline/plumbline/checks/pkgdb"
)

const (
	family  = "sudolog"
	measure = "privileged sudo activity is logged and monitored centrally"
)

// check is a check built from its metadata and a run function.
type check struct {
	meta     checks.Meta
	run      func(ctx context.Context, h checks.Host, p checks.Params) checks.Result
	validate func(p checks.Params) error
}

func (c check) Meta() checks.Meta { return c.meta }

func (c check) Run(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	return c.run(ctx, h, p)
}

// validatedCheck adds parameter validation at baseline load time.
type validatedCheck struct{ check }

func (c validatedCheck) ValidateParams(p checks.Params) error { return c.validate(p) }

func register(c check) {
	c.meta.Family = family
	c.meta.References = append(c.meta.References, checks.Measure(measure))
	if c.validate != nil {
		checks.Register(validatedCheck{c})
		return
	}
	checks.Register(c)
}

// readSudoers returns the parsed sudoers policy; missing reports that
// /etc/sudoers does not exist, which checks judge as a finding. Any other
// problem is an error the check reports as ERROR.
func readSudoers(ctx context.Context, h checks.Host) (cfg *sudoers.Config, missing bool, err error) {
	cfg, err = sudoers.Read(ctx, h)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, true, nil
	}
	return cfg, false, err
}

// sudoLogfile is the configured sudo log file, or why there is none.
type sudoLogfile struct {
	path    string
	setting sudoers.Setting
	// why explains a missing or unusable setting; empty when path is set.
	why string
}

func logfileOf(cfg *sudoers.Config) sudoLogfile {
	s, ok := cfg.Effective("logfile")
	switch {
	case !ok:
		return sudoLogfile{why: "Defaults logfile is not set"}
	case !s.On:
		return sudoLogfile{setting: s, why: "logging to a file is disabled by " + s.Last.String() + " at " + s.Last.Source()}
	case !s.HasValue || s.Value == "":
		return sudoLogfile{setting: s, why: "Defaults logfile has no value at " + s.Last.Source()}
	case !path.IsAbs(s.Value):
		return sudoLogfile{setting: s, why: fmt.Sprintf("Defaults logfile=%q at %s is not an absolute path", s.Value, s.Last.Source())}
	}
	return sudoLogfile{path: path.Clean(s.Value), setting: s}
}

// installedCheck passes when one of the packages named by the "packages"
// parameter is installed.
func installedCheck(what string) func(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	return func(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
		names := p.StringList("packages")
		db, err := pkgdb.Read(ctx, h)
		if err != nil {
			return checks.Errorf("cannot tell whether %s is installed: %v", what, err)
		}
		ev := checks.Evidence{Key: "package", Expected: "one of " + strings.Join(names, ", ") + " installed", Path: db.Source}
		for _, n := range names {
			if pkg, ok := db.Lookup(n); ok {
				ev.Actual, ev.OK = pkg.Name+" "+pkg.Version+" installed", true
				return checks.Pass(fmt.Sprintf("%s is installed (%s %s)", what, pkg.Name, pkg.Version), ev)
			}
		}
		ev.Actual = "none installed"
		return checks.Fail(fmt.Sprintf("%s is not installed (no package %s)", what, strings.Join(names, " or ")), ev)
	}
}
