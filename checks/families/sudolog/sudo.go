package sudolog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/sudoers"
	"github.com/plumbline/plumbline/checks/pkgdb"
)

// usePtyDefaultSince is the first sudo release with use_pty on by default.
const usePtyDefaultSince = "1.9.14"

func init() {
	register(check{
		meta: checks.Meta{
			ID:       "sudo.installed",
			Title:    "sudo is installed",
			Severity: checks.SeverityMedium,
			Rationale: "sudo lets administrators run privileged commands under their own identity, " +
				"so that every privileged action is attributable and logged, instead of sharing the root password.",
			Remediation: "Install sudo: apt install sudo (Debian, Ubuntu) or dnf install sudo (RHEL).",
			References: checks.CIS(
				"debian:12", "5.2.1",
				"ubuntu:22.04", "5.2.1",
				"ubuntu:24.04", "5.2.1",
				"rhel:9", "5.2.1",
				"alinux:3", "5.3.1",
			),
			Params: []checks.ParamSpec{{
				Name: "packages", Kind: checks.KindStringList, Default: []string{"sudo", "sudo-ldap"},
				Doc: "Package names any one of which provides sudo.",
			}},
		},
		run: installedCheck("sudo"),
	})
	register(check{
		meta: checks.Meta{
			ID:       "sudo.use_pty",
			Title:    "sudo runs commands in a pseudo-terminal",
			Severity: checks.SeverityMedium,
			Rationale: "Without use_pty a command run through sudo shares the user's terminal and can keep " +
				"running processes in the background after sudo exits, out of sight of sudo's logging.",
			Remediation: "Add \"Defaults use_pty\" with visudo (or visudo -f /etc/sudoers.d/<file>) and remove any " +
				"\"Defaults !use_pty\", including scoped ones such as \"Defaults:user !use_pty\".",
			References: checks.CIS(
				"debian:12", "5.2.2",
				"ubuntu:22.04", "5.2.2",
				"ubuntu:24.04", "5.2.2",
				"rhel:9", "5.2.2",
				"alinux:3", "5.3.2",
			),
			Params: []checks.ParamSpec{{
				Name: "accept_builtin_default", Kind: checks.KindBool, Default: false,
				Doc: "Pass without an explicit \"Defaults use_pty\" when the installed sudo is " + usePtyDefaultSince +
					" or later, where use_pty is on by default. CIS requires the explicit line, hence off by default.",
			}},
		},
		run: runUsePty,
	})
	register(check{
		meta: checks.Meta{
			ID:       "sudo.logfile",
			Title:    "sudo logs to a dedicated log file",
			Severity: checks.SeverityMedium,
			Rationale: "A dedicated sudo log file keeps a record of every sudo command that is easy to review " +
				"and to watch with auditd, independent of the syslog configuration.",
			Remediation: "Add \"Defaults logfile=\\\"/var/log/sudo.log\\\"\" with visudo (or in a file under /etc/sudoers.d).",
			References: checks.CIS(
				"debian:12", "5.2.3",
				"ubuntu:22.04", "5.2.3",
				"ubuntu:24.04", "5.2.3",
				"rhel:9", "5.2.3",
				"alinux:3", "5.3.3",
			),
		},
		run: runLogfile,
	})
	register(check{
		meta: checks.Meta{
			ID:       "sudo.logfile_permissions",
			Title:    "The sudo log file is protected from tampering and casual reading",
			Severity: checks.SeverityMedium,
			Rationale: "A sudo log that others can write can be altered to hide privileged activity; one that " +
				"everybody can read discloses the commands administrators run and their arguments.",
			Remediation: "chown root:root <logfile> && chmod 0640 <logfile> (or stricter, e.g. 0600), where <logfile> " +
				"is the path of \"Defaults logfile=\" (see sudo.logfile). If it does not exist yet, run a sudo command to create it.",
			Params: []checks.ParamSpec{
				{Name: "max_mode", Kind: checks.KindString, Default: "0640",
					Doc: "Most permissive mode allowed, in octal; any permission bit outside it fails."},
				{Name: "owner_uid", Kind: checks.KindInt, Default: 0,
					Doc: "User id that must own the log file."},
			},
		},
		run:      runLogfilePermissions,
		validate: validateMaxMode,
	})
}

// sudoersMissing is the FAIL for a setting that cannot be set because
// /etc/sudoers does not exist.
func sudoersMissing(key, expected string) checks.Result {
	return checks.Fail(sudoers.DefaultPath+" does not exist (is sudo installed?), so "+key+" is not set",
		checks.Evidence{Key: key, Expected: expected, Actual: "no " + sudoers.DefaultPath, Path: sudoers.DefaultPath})
}

func runUsePty(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	const key = "Defaults use_pty"
	const expected = "use_pty on globally"
	cfg, missing, err := readSudoers(ctx, h)
	if missing {
		return sudoersMissing(key, expected)
	}
	if err != nil {
		return checks.Errorf("cannot read the sudo policy: %v", err)
	}
	ev := checks.Evidence{Key: key, Expected: expected}
	var failMsg string
	s, set := cfg.Effective("use_pty")
	switch {
	case set && s.On:
		ev.Actual, ev.OK, ev.Path, ev.Line = "on ("+s.Last.String()+")", true, s.Last.Path, s.Last.Line
	case set:
		ev.Actual, ev.Path, ev.Line = "off ("+s.Last.String()+")", s.Last.Path, s.Last.Line
		failMsg = "use_pty is turned off by " + s.Last.String() + " at " + s.Last.Source()
	default:
		ev.Actual, ev.Path = "not set", sudoers.DefaultPath
		failMsg = "Defaults use_pty is not set in " + sudoers.DefaultPath + " or the files it includes"
		if p.Bool("accept_builtin_default") {
			if v, ok, err := sudoVersionAtLeast(ctx, h, usePtyDefaultSince); err != nil {
				return checks.Errorf("use_pty is not set and the sudo version cannot be read: %v", err)
			} else if ok {
				ev.Actual, ev.OK = "not set; on by default in the installed sudo "+v, true
				failMsg = ""
			}
		}
	}
	evs := []checks.Evidence{ev}
	for _, d := range cfg.Scoped("use_pty") {
		if d.Op != sudoers.OpNegate {
			continue
		}
		evs = append(evs, checks.Evidence{
			Key: "Defaults" + d.Scope.String() + d.Binding + " use_pty", Expected: "not negated for any user, host, command or run-as user",
			Actual: d.String(), Path: d.Path, Line: d.Line,
		})
		if failMsg == "" {
			failMsg = "use_pty is turned off for some sudo rules by " + d.String() + " at " + d.Source()
		}
	}
	if failMsg != "" {
		return checks.Fail(failMsg, evs...)
	}
	return checks.Pass("sudo runs every command in a pseudo-terminal: use_pty is "+ev.Actual, evs...)
}

// sudoVersionAtLeast reports whether the installed sudo package is at
// least min, and its version.
func sudoVersionAtLeast(ctx context.Context, h checks.Host, min string) (string, bool, error) {
	db, err := pkgdb.Read(ctx, h)
	if err != nil {
		return "", false, err
	}
	for _, n := range []string{"sudo", "sudo-ldap"} {
		if pkg, ok := db.Lookup(n); ok {
			return pkg.Version, db.Compare(pkg.Version, min) >= 0, nil
		}
	}
	return "", false, nil
}

func runLogfile(ctx context.Context, h checks.Host, _ checks.Params) checks.Result {
	const key = "Defaults logfile"
	const expected = "an absolute path"
	cfg, missing, err := readSudoers(ctx, h)
	if missing {
		return sudoersMissing(key, expected)
	}
	if err != nil {
		return checks.Errorf("cannot read the sudo policy: %v", err)
	}
	lf := logfileOf(cfg)
	ev := checks.Evidence{Key: key, Expected: expected, Path: sudoers.DefaultPath}
	if lf.setting.Last.Path != "" {
		ev.Path, ev.Line = lf.setting.Last.Path, lf.setting.Last.Line
	}
	if lf.path == "" {
		ev.Actual = "not set"
		if lf.setting.Last.Path != "" {
			ev.Actual = lf.setting.Last.String()
		}
		return checks.Fail(lf.why+": sudo logs only through syslog", ev)
	}
	ev.Actual, ev.OK = lf.path, true
	return checks.Pass(fmt.Sprintf("sudo logs to %s (set at %s)", lf.path, lf.setting.Last.Source()), ev)
}

func validateMaxMode(p checks.Params) error {
	_, err := parseMode(p.String("max_mode"))
	return err
}

func parseMode(s string) (uint32, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, fmt.Errorf("max_mode %q: want an octal mode such as 0640", s)
	}
	return uint32(m), nil
}

func runLogfilePermissions(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	maxMode, err := parseMode(p.String("max_mode"))
	if err != nil {
		return checks.Errorf("%v", err)
	}
	owner := p.Int("owner_uid")
	cfg, missing, err := readSudoers(ctx, h)
	if missing {
		return checks.NotApplicable("no sudo logfile configured (see sudo.logfile): " + sudoers.DefaultPath + " does not exist")
	}
	if err != nil {
		return checks.Errorf("cannot read the sudo policy: %v", err)
	}
	lf := logfileOf(cfg)
	if lf.path == "" {
		return checks.NotApplicable("no sudo logfile configured (see sudo.logfile): " + lf.why)
	}
	fi, err := h.Stat(ctx, lf.path)
	if errors.Is(err, fs.ErrNotExist) {
		return checks.Fail(fmt.Sprintf("the sudo log file %s (set at %s) does not exist; sudo creates it on first use, "+
			"so either sudo was never used since it was configured or the file was removed", lf.path, lf.setting.Last.Source()),
			checks.Evidence{Key: "log file", Expected: "exists", Actual: "missing", Path: lf.path})
	}
	if err != nil {
		return checks.Errorf("cannot inspect the sudo log file %s: %v", lf.path, err)
	}
	if !fi.Mode.IsRegular() {
		return checks.Fail(fmt.Sprintf("the sudo log file %s is not a regular file (%s)", lf.path, fi.Mode.Type()),
			checks.Evidence{Key: "log file", Expected: "a regular file", Actual: fi.Mode.Type().String(), Path: lf.path})
	}
	perm := fi.Perm()
	modeEv := checks.Evidence{
		Key: "mode", Expected: fmt.Sprintf("%04o or stricter", maxMode), Actual: fmt.Sprintf("%04o", perm),
		OK: perm&^maxMode == 0, Path: lf.path,
	}
	ownerEv := checks.Evidence{
		Key: "owner", Expected: fmt.Sprintf("uid %d", owner), Actual: fmt.Sprintf("uid %d", fi.UID),
		OK: int64(fi.UID) == int64(owner), Path: lf.path,
	}
	var problems []string
	if !modeEv.OK {
		problems = append(problems, fmt.Sprintf("mode %04o allows more than %04o", perm, maxMode))
	}
	if !ownerEv.OK {
		problems = append(problems, fmt.Sprintf("it is owned by uid %d, not %d", fi.UID, owner))
	}
	return checks.Judge(
		fmt.Sprintf("the sudo log file %s has mode %04o and is owned by uid %d", lf.path, perm, fi.UID),
		fmt.Sprintf("the sudo log file %s is not protected: %s", lf.path, strings.Join(problems, "; ")),
		modeEv, ownerEv)
}
