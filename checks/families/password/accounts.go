package password

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/logindefs"
	"github.com/plumbline/plumbline/checks/parse/pam"
	"github.com/plumbline/plumbline/checks/parse/shadow"
)

func init() {
	checks.Register(check{meta: userAgesMeta(), run: runUserAges})
	checks.Register(check{meta: inactiveMeta(), run: runInactive})
	checks.Register(check{meta: noEmptyMeta(), run: runNoEmpty})
	checks.Register(check{meta: rootRotationMeta(), run: runRootRotation, validate: validateNow})
}

func userAgesMeta() checks.Meta {
	return checks.Meta{
		ID:       "password.user_ages",
		Title:    "Every account with a password has the required password ages (/etc/shadow)",
		Family:   "password",
		Severity: checks.SeverityMedium,
		Rationale: "login.defs only sets the ages of accounts created after it was changed; the ages that apply are the ones " +
			"recorded per account in /etc/shadow. An account that can log in by password and whose password never expires " +
			"keeps a possibly compromised password for ever.",
		Remediation: "For each account listed, set the ages, for example:\n" +
			"  chage --maxdays 365 --mindays 1 --warndays 7 <user>\n" +
			"and set PASS_MAX_DAYS, PASS_MIN_DAYS and PASS_WARN_AGE in /etc/login.defs so that new accounts get them.",
		References: append(checks.CIS(
			"debian:12", "5.4.1.1", "debian:12", "5.4.1.2", "debian:12", "5.4.1.3",
			"ubuntu:22.04", "5.4.1.1", "ubuntu:22.04", "5.4.1.3",
			"ubuntu:24.04", "5.4.1.1", "ubuntu:24.04", "5.4.1.2", "ubuntu:24.04", "5.4.1.3",
			"rhel:9", "5.4.1.1", "rhel:9", "5.4.1.2", "rhel:9", "5.4.1.3",
		), measure),
		Params: []checks.ParamSpec{maxDaysParam(), minDaysParam(), warnAgeParam()},
	}
}

func inactiveMeta() checks.Meta {
	lo, hi := checks.IntRange(0, 99999)
	return checks.Meta{
		ID:       "password.inactive",
		Title:    "Accounts are locked after their password has been expired for a while (INACTIVE)",
		Family:   "password",
		Severity: checks.SeverityLow,
		Rationale: "An account whose password expired long ago is usually abandoned; disabling it after an inactivity " +
			"period removes a target that nobody would notice being used.",
		Remediation: "Set the default for new accounts:\n  useradd -D -f 45\n" +
			"(which writes INACTIVE=45 to /etc/default/useradd), and for each existing account with a password:\n" +
			"  chage --inactive 45 <user>",
		References: append(checks.CIS(
			"debian:12", "5.4.1.5",
			"ubuntu:22.04", "5.4.1.5",
			"ubuntu:24.04", "5.4.1.5",
			"rhel:9", "5.4.1.5",
		), measure),
		Params: []checks.ParamSpec{{
			Name: "inactive_days", Kind: checks.KindInt, Default: 45, Min: lo, Max: hi,
			Doc: "Longest acceptable number of days between password expiry and the account being disabled.",
		}},
	}
}

func noEmptyMeta() checks.Meta {
	return checks.Meta{
		ID:       "password.no_empty",
		Title:    "No account has an empty password, and PAM does not accept one (nullok)",
		Family:   "password",
		Severity: checks.SeverityHigh,
		Rationale: "An account with an empty password field can be logged into without a password wherever pam_unix is " +
			"given nullok, which the Debian and Ubuntu default common-auth does.",
		Remediation: "Lock or set a password for each account listed: passwd -l <user> (or passwd <user>).\n" +
			"Remove nullok from pam_unix in the auth stack: on Debian and Ubuntu edit the Password: and Auth sections of " +
			"/usr/share/pam-configs/unix (or a copy of it) and run pam-auth-update; on RHEL run " +
			"`authselect enable-feature without-nullok`.",
		References: append(checks.CIS(
			"debian:12", "7.2.2", "debian:12", "5.3.3.4.1",
			"ubuntu:22.04", "7.2.2", "ubuntu:22.04", "5.3.3.4.1",
			"ubuntu:24.04", "7.2.2", "ubuntu:24.04", "5.3.3.4.1",
			"rhel:9", "7.2.2", "rhel:9", "5.3.3.4.1",
			"alinux:3", "6.2.1",
		), measure),
	}
}

func rootRotationMeta() checks.Meta {
	lo, hi := checks.IntRange(1, 99999)
	return checks.Meta{
		ID:       "password.root_rotation",
		Title:    "The root password has been changed recently",
		Family:   "password",
		Severity: checks.SeverityMedium,
		Rationale: "A shared root password known to former staff or left at its installation value is an open door. " +
			"The date of root's last password change in /etc/shadow shows whether it is rotated as promised, and a last " +
			"change of 0 means the initial password has not been changed yet.",
		Remediation: "Change the root password (passwd root) and keep rotating it within max_age_days, or lock password " +
			"login for root (passwd -l root) if administrators use sudo.",
		References: []checks.Reference{measure},
		Params: []checks.ParamSpec{
			{
				Name: "max_age_days", Kind: checks.KindInt, Default: 31, Min: lo, Max: hi,
				Doc: "Largest acceptable age of root's password in days.",
			},
			{
				Name: "now", Kind: checks.KindString, Default: "",
				Doc: "The time to measure the age against, RFC 3339 (\"2025-01-31T00:00:00Z\"); empty means the scan's own " +
					"clock. Set it to scan an image as of a given date reproducibly.",
			},
		},
	}
}

// validateNow rejects a "now" parameter that is not RFC 3339 when the
// baseline is loaded.
func validateNow(p checks.Params) error {
	_, err := nowParam(p)
	return err
}

func nowParam(p checks.Params) (time.Time, error) {
	s := p.String("now")
	if s == "" {
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("now: want RFC 3339 such as \"2025-01-31T00:00:00Z\", got %q", s)
	}
	return t, nil
}

// passwordUsers returns the accounts that can log in by password.
func passwordUsers(f *shadow.File) []shadow.Entry {
	var out []shadow.Entry
	for _, e := range f.Entries {
		if e.State() == shadow.StateHash {
			out = append(out, e)
		}
	}
	return out
}

func days(n int) string {
	if n == shadow.Unset {
		return "not set"
	}
	return strconv.Itoa(n)
}

func runUserAges(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	maxDays, minDays, warnAge := p.Int("max_days"), p.Int("min_days"), p.Int("warn_age")
	// Without /etc/shadow no account can be judged: ERROR, not FAIL.
	f, err := shadow.Load(ctx, h)
	if err != nil {
		return checks.Errorf("%v", err)
	}
	users := passwordUsers(f)
	if len(users) == 0 {
		return checks.Pass("no account in /etc/shadow has a usable password, so no password ages apply",
			checks.Evidence{Key: "accounts with a password", Expected: "aged", Actual: "none", OK: true, Path: f.Path})
	}
	expected := fmt.Sprintf("max 1..%d, min >= %d, warn >= %d", maxDays, minDays, warnAge)
	var ev []checks.Evidence
	var bad []string
	for _, u := range users {
		var problems []string
		if u.Max < 1 || u.Max > maxDays {
			problems = append(problems, "max "+days(u.Max))
		}
		if u.Min < minDays {
			problems = append(problems, "min "+days(u.Min))
		}
		if u.Warn < warnAge {
			problems = append(problems, "warn "+days(u.Warn))
		}
		if len(problems) > 0 {
			bad = append(bad, u.Name)
		}
		ev = append(ev, checks.Evidence{
			Key:      "user " + u.Name,
			Expected: expected,
			Actual:   fmt.Sprintf("max %s, min %s, warn %s", days(u.Max), days(u.Min), days(u.Warn)),
			OK:       len(problems) == 0,
			Path:     f.Path,
			Line:     u.Line,
		})
	}
	return checks.Judge(
		fmt.Sprintf("every account with a password (%d) has the required ages", len(users)),
		fmt.Sprintf("%d of %d accounts with a password lack the required ages: %s", len(bad), len(users), strings.Join(bad, ", ")),
		ev...)
}

func runInactive(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	limit := p.Int("inactive_days")
	expected := fmt.Sprintf("0..%d", limit)
	// Without /etc/shadow no account can be judged: ERROR, not FAIL.
	f, err := shadow.Load(ctx, h)
	if err != nil {
		return checks.Errorf("%v", err)
	}
	var ev []checks.Evidence
	u, err := logindefs.LoadUseradd(ctx, h)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ev = append(ev, checks.Evidence{Key: "INACTIVE", Expected: expected,
			Actual: logindefs.UseraddPath + " missing (useradd default -1: never disabled)", Path: logindefs.UseraddPath})
	case err != nil:
		return checks.Errorf("%v", err)
	default:
		n, e := defsInt(u, logindefs.UseraddPath, "INACTIVE", -1, "never disabled")
		e.Expected, e.OK = expected, n >= 0 && n <= limit
		ev = append(ev, e)
	}
	var bad []string
	for _, user := range passwordUsers(f) {
		ok := user.Inactive >= 0 && user.Inactive <= limit
		if !ok {
			bad = append(bad, user.Name)
		}
		ev = append(ev, checks.Evidence{Key: "user " + user.Name + " inactive", Expected: expected,
			Actual: days(user.Inactive), OK: ok, Path: f.Path, Line: user.Line})
	}
	failMsg := "accounts are not disabled within " + plural(limit, "day") + " of password expiry"
	if len(bad) > 0 {
		failMsg += " (accounts: " + strings.Join(bad, ", ") + ")"
	}
	return checks.Judge("accounts are disabled within "+plural(limit, "day")+" of password expiry", failMsg, ev...)
}

// nullokArgs are the pam_unix arguments that accept an empty password.
var nullokArgs = []string{"nullok", "nullok_secure"}

func runNoEmpty(ctx context.Context, h checks.Host, _ checks.Params) checks.Result {
	// Without /etc/shadow no account can be judged: ERROR, not FAIL.
	f, err := shadow.Load(ctx, h)
	if err != nil {
		return checks.Errorf("%v", err)
	}
	var ev evidenceList
	var empty []string
	for _, e := range f.Entries {
		if e.State() == shadow.StateEmpty {
			empty = append(empty, e.Name)
			ev.add(checks.Evidence{Key: "user " + e.Name, Expected: "password set or locked", Actual: "empty password field", Path: f.Path, Line: e.Line})
		}
	}
	if len(empty) == 0 {
		ev.add(checks.Evidence{Key: "accounts with an empty password", Expected: "none", Actual: "none", OK: true, Path: f.Path})
	}
	// nullok is something the stack must not have, so a host without an
	// auth stack has nothing to fix here.
	stacks, err := loadStacks(ctx, h, pam.TypeAuth)
	switch {
	case errors.Is(err, errNoStack):
		e := noStackEvidence(pam.TypeAuth)
		e.Expected, e.OK = "no pam_unix nullok", true
		ev.add(e)
	case err != nil:
		return stackError(pam.TypeAuth, err)
	}
	var nullok []string
	for _, st := range stacks {
		found := false
		for _, r := range st.module("pam_unix") {
			for _, a := range nullokArgs {
				if r.HasArg(a) {
					found = true
					nullok = append(nullok, r.Pos.String())
					ev.add(checks.Evidence{Key: "pam_unix " + a + " in " + st.name(), Expected: "absent", Actual: r.String(), Path: r.Pos.File, Line: r.Pos.Line})
				}
			}
		}
		if !found {
			ev.add(checks.Evidence{Key: "pam_unix nullok in " + st.name(), Expected: "absent", Actual: "absent", OK: true, Path: st.name()})
		}
	}
	var why []string
	if len(empty) > 0 {
		why = append(why, "accounts with an empty password: "+strings.Join(empty, ", "))
	}
	if len(nullok) > 0 {
		why = append(why, "pam_unix accepts empty passwords (nullok) at "+strings.Join(nullok, ", "))
	}
	return checks.Judge("no account has an empty password and pam_unix does not accept one", strings.Join(why, "; "), ev...)
}

func runRootRotation(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	now, err := nowParam(p)
	if err != nil {
		return checks.Errorf("invalid parameter: %v", err)
	}
	limit := p.Int("max_age_days")
	// Without /etc/shadow no account can be judged: ERROR, not FAIL.
	f, err := shadow.Load(ctx, h)
	if err != nil {
		return checks.Errorf("%v", err)
	}
	root, ok := f.Lookup("root")
	if !ok {
		return checks.Errorf("%s has no entry for root, so the age of root's password cannot be read", f.Path)
	}
	e := checks.Evidence{Key: "root lastchg", Path: f.Path, Line: root.Line,
		Expected: fmt.Sprintf("within %d days before %s", limit, now.UTC().Format(time.DateOnly))}
	switch root.State() {
	case shadow.StateLocked, shadow.StateNoLogin:
		e.Key, e.Expected, e.Actual, e.OK = "root password", "a password to rotate", root.State().String(), true
		return checks.NotApplicable("root has no usable password ("+root.State().String()+"), so nobody can log in as root by password and there is nothing to rotate", e)
	case shadow.StateEmpty:
		e.Key, e.Expected, e.Actual = "root password", "set", "empty"
		return checks.Fail("root's password is empty", e)
	}
	switch {
	case root.LastChange == shadow.Unset:
		e.Actual = "not set (password ageing disabled)"
		return checks.Fail("the date of root's last password change is not recorded, so rotation cannot be shown", e)
	case root.LastChange == 0:
		e.Actual = "0 (must change at next login)"
		return checks.Fail("root's password is marked to be changed at next login: the initial password has not been changed", e)
	}
	changed := shadow.Date(root.LastChange)
	age := int(now.Sub(changed).Hours() / 24)
	e.Actual = fmt.Sprintf("%s (day %d), %s ago", changed.Format(time.DateOnly), root.LastChange, plural(age, "day"))
	if now.Before(changed) {
		e.Actual = fmt.Sprintf("%s (day %d), in the future", changed.Format(time.DateOnly), root.LastChange)
		return checks.Fail("root's last password change is dated in the future, so its age cannot be trusted", e)
	}
	e.OK = age <= limit
	return checks.Judge(
		"root's password was changed "+plural(age, "day")+" ago",
		fmt.Sprintf("root's password was last changed %s ago, more than %d", plural(age, "day"), limit),
		e)
}
