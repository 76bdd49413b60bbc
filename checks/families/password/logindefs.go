package password

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/logindefs"
)

func init() {
	checks.Register(check{meta: passMaxDaysMeta(), run: runPassMaxDays})
	checks.Register(check{meta: passMinDaysMeta(), run: runPassMinDays})
	checks.Register(check{meta: passWarnAgeMeta(), run: runPassWarnAge})
}

func maxDaysParam() checks.ParamSpec {
	lo, hi := checks.IntRange(1, 99999)
	return checks.ParamSpec{
		Name: "max_days", Kind: checks.KindInt, Default: 365, Min: lo, Max: hi,
		Doc: "Longest acceptable password lifetime in days.",
	}
}

func minDaysParam() checks.ParamSpec {
	lo, hi := checks.IntRange(0, 99999)
	return checks.ParamSpec{
		Name: "min_days", Kind: checks.KindInt, Default: 1, Min: lo, Max: hi,
		Doc: "Smallest acceptable number of days between password changes.",
	}
}

func warnAgeParam() checks.ParamSpec {
	lo, hi := checks.IntRange(0, 99999)
	return checks.ParamSpec{
		Name: "warn_age", Kind: checks.KindInt, Default: 7, Min: lo, Max: hi,
		Doc: "Smallest acceptable number of days of warning before a password expires.",
	}
}

func passMaxDaysMeta() checks.Meta {
	return checks.Meta{
		ID:       "password.pass_max_days",
		Title:    "New accounts' passwords expire (login.defs PASS_MAX_DAYS)",
		Family:   "password",
		Severity: checks.SeverityMedium,
		Rationale: "A password that never expires stays useful to whoever has obtained it. PASS_MAX_DAYS is the maximum age " +
			"useradd gives new accounts; existing accounts keep theirs (see password.user_ages).",
		Remediation: "In /etc/login.defs set\n  PASS_MAX_DAYS 365\n" +
			"(a value no larger than the max_days parameter, without a trailing comment), then apply it to existing accounts " +
			"with a password: chage --maxdays 365 <user>.",
		References: append(checks.CIS(
			"debian:12", "5.4.1.1",
			"ubuntu:22.04", "5.4.1.1",
			"ubuntu:24.04", "5.4.1.1",
			"rhel:9", "5.4.1.1",
			"alinux:3", "5.6.1.1",
		), measure),
		Params: []checks.ParamSpec{maxDaysParam()},
	}
}

func passMinDaysMeta() checks.Meta {
	return checks.Meta{
		ID:       "password.pass_min_days",
		Title:    "Passwords cannot be changed again at once (login.defs PASS_MIN_DAYS)",
		Family:   "password",
		Severity: checks.SeverityLow,
		Rationale: "Without a minimum age a user can cycle through passwords in minutes to get back to an old one, " +
			"defeating the password history.",
		Remediation: "In /etc/login.defs set\n  PASS_MIN_DAYS 1\n" +
			"then apply it to existing accounts with a password: chage --mindays 1 <user>.",
		References: append(checks.CIS(
			"debian:12", "5.4.1.2",
			"ubuntu:24.04", "5.4.1.2",
			"rhel:9", "5.4.1.2",
			"ubuntu:22.04", "5.4.1.2",
		), measure),
		Params: []checks.ParamSpec{minDaysParam()},
	}
}

func passWarnAgeMeta() checks.Meta {
	return checks.Meta{
		ID:       "password.pass_warn_age",
		Title:    "Users are warned before their password expires (login.defs PASS_WARN_AGE)",
		Family:   "password",
		Severity: checks.SeverityLow,
		Rationale: "A warning period lets users choose a good new password in time instead of being locked out or " +
			"picking one in a hurry.",
		Remediation: "In /etc/login.defs set\n  PASS_WARN_AGE 7\n" +
			"then apply it to existing accounts with a password: chage --warndays 7 <user>.",
		References: append(checks.CIS(
			"debian:12", "5.4.1.3",
			"ubuntu:22.04", "5.4.1.3",
			"ubuntu:24.04", "5.4.1.3",
			"rhel:9", "5.4.1.3",
			"alinux:3", "5.6.1.3",
		), measure),
		Params: []checks.ParamSpec{warnAgeParam()},
	}
}

// plural renders "1 day", "2 days".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// defsInt reads an integer setting as shadow-utils does and describes it:
// an unset or unreadable value means shadow-utils' built-in default, dflt,
// whose meaning is given for the evidence.
func defsInt(f *logindefs.File, path, name string, dflt int, meaning string) (int, checks.Evidence) {
	e := checks.Evidence{Key: name, Path: path}
	s, ok := f.Get(name)
	if !ok {
		e.Actual = fmt.Sprintf("not set (shadow-utils default %d: %s)", dflt, meaning)
		return dflt, e
	}
	e.Line = s.Line
	n, err := s.Int()
	if err != nil {
		e.Actual = fmt.Sprintf("%q is unreadable (%v), so shadow-utils ignores it and uses %d: %s", s.Value, errors.Unwrap(err), dflt, meaning)
		return dflt, e
	}
	e.Actual = strconv.Itoa(n)
	if s.Value != e.Actual {
		e.Actual = fmt.Sprintf("%s (= %d)", s.Value, n)
	}
	return n, e
}

// loginDefsRun reads login.defs and judges one integer setting with ok.
// A missing login.defs is a FAIL: every setting is then shadow-utils'
// built-in default, which no CIS profile accepts.
func loginDefsRun(ctx context.Context, h checks.Host, name, expected string, dflt int, meaning string, ok func(int) bool, passMsg, failMsg string) checks.Result {
	f, err := logindefs.LoadLoginDefs(ctx, h)
	if errors.Is(err, fs.ErrNotExist) {
		return checks.Fail(fmt.Sprintf("%s does not exist, so shadow-utils uses its default %s %d (%s)", logindefs.LoginDefsPath, name, dflt, meaning),
			checks.Evidence{Key: name, Expected: expected, Actual: fmt.Sprintf("%s missing (default %d)", logindefs.LoginDefsPath, dflt), Path: logindefs.LoginDefsPath})
	}
	if err != nil {
		return checks.Errorf("%v", err)
	}
	n, e := defsInt(f, logindefs.LoginDefsPath, name, dflt, meaning)
	e.Expected, e.OK = expected, ok(n)
	return checks.Judge(passMsg, failMsg, e)
}

func runPassMaxDays(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	limit := p.Int("max_days")
	return loginDefsRun(ctx, h, "PASS_MAX_DAYS", fmt.Sprintf("1..%d", limit), -1, "passwords never expire",
		func(n int) bool { return n > 0 && n <= limit },
		"new accounts' passwords expire within "+plural(limit, "day"),
		"new accounts' passwords do not expire within "+plural(limit, "day"))
}

func runPassMinDays(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	limit := p.Int("min_days")
	return loginDefsRun(ctx, h, "PASS_MIN_DAYS", ">= "+strconv.Itoa(limit), -1, "no minimum age",
		func(n int) bool { return n >= limit },
		"new accounts must wait at least "+plural(limit, "day")+" between password changes",
		"new accounts can change their password again in less than "+plural(limit, "day"))
}

func runPassWarnAge(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	limit := p.Int("warn_age")
	return loginDefsRun(ctx, h, "PASS_WARN_AGE", ">= "+strconv.Itoa(limit), -1, "no warning",
		func(n int) bool { return n >= limit },
		"new accounts are warned at least "+plural(limit, "day")+" before their password expires",
		"new accounts are warned less than "+plural(limit, "day")+" before their password expires")
}
