package password

import (
	"context"
	"fmt"
	"strconv"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/pam"
	"github.com/plumbline/plumbline/checks/parse/pwquality"
)

func init() {
	checks.Register(check{meta: minlenMeta(), run: runMinlen})
	checks.Register(check{meta: complexityMeta(), run: runComplexity})
	checks.Register(check{meta: enforceForRootMeta(), run: runEnforceForRoot})
}

const pwqualityRemediation = "Settings may go in /etc/security/pwquality.conf or a file in /etc/security/pwquality.conf.d/ " +
	"(libpwquality reads the .d files first and the main file last, so a value in the main file wins), and arguments on the " +
	"pam_pwquality line override both; remove conflicting values there.\n" +
	"pam_pwquality must be in the password stack: on Debian and Ubuntu run `pam-auth-update --enable pwquality` (package " +
	"libpam-pwquality), which writes to /etc/pam.d/common-password\n" +
	"  password requisite pam_pwquality.so retry=3\n" +
	"on RHEL and derivatives the authselect profile's system-auth and password-auth carry\n" +
	"  password requisite pam_pwquality.so local_users_only\n" +
	"(`authselect current` shows the profile; pam_cracklib is not accepted)."

func minlenMeta() checks.Meta {
	return checks.Meta{
		ID:       "password.pwquality_minlen",
		Title:    "Passwords must be at least the minimum length (pam_pwquality minlen)",
		Family:   "password",
		Severity: checks.SeverityMedium,
		Rationale: "Length is what most raises the cost of guessing and cracking a password. pam_pwquality enforces the " +
			"minimum when a password is changed, but only if it is in the PAM password stack: a minlen in pwquality.conf " +
			"that no stack uses protects nothing.",
		Remediation: "Set the minimum length, for example in /etc/security/pwquality.conf.d/50-pwlength.conf:\n" +
			"  minlen = 14\n" + pwqualityRemediation,
		References: append(checks.CIS(
			"debian:12", "5.3.3.2.2", "debian:12", "5.3.2.3",
			"ubuntu:22.04", "5.3.3.2.2", "ubuntu:22.04", "5.3.2.3",
			"ubuntu:24.04", "5.3.3.2.2", "ubuntu:24.04", "5.3.2.3",
			"rhel:9", "5.3.2.3",
			"rhel:9", "5.3.3.2.2", "alinux:3", "5.5.1",
		), measure),
		Params: []checks.ParamSpec{minLengthParam()},
	}
}

func minLengthParam() checks.ParamSpec {
	lo, hi := checks.IntRange(6, 256)
	return checks.ParamSpec{
		Name: "min_length", Kind: checks.KindInt, Default: 14, Min: lo, Max: hi,
		Doc: "Smallest acceptable pam_pwquality minlen.",
	}
}

func complexityMeta() checks.Meta {
	lo, hi := checks.IntRange(1, 4)
	return checks.Meta{
		ID:       "password.pwquality_complexity",
		Title:    "Passwords must mix character classes (pam_pwquality minclass or credits)",
		Family:   "password",
		Severity: checks.SeverityMedium,
		Rationale: "Requiring digits, upper and lower case letters and other characters widens the space an attacker must " +
			"search. CIS accepts either minclass (how many of the four classes) or negative credits (a minimum count of " +
			"each class).",
		Remediation: "Require all four classes, for example in /etc/security/pwquality.conf.d/50-pwcomplexity.conf:\n" +
			"  minclass = 4\n" +
			"or, equivalently for CIS, at least one of each:\n" +
			"  dcredit = -1\n  ucredit = -1\n  lcredit = -1\n  ocredit = -1\n" + pwqualityRemediation,
		References: append(checks.CIS(
			"debian:12", "5.3.3.2.3",
			"ubuntu:22.04", "5.3.3.2.3",
			"ubuntu:24.04", "5.3.3.2.3",
			"rhel:9", "5.3.3.2.3",
			"alinux:3", "5.5.1",
		), measure),
		Params: []checks.ParamSpec{{
			Name: "min_classes", Kind: checks.KindInt, Default: 4, Min: lo, Max: hi,
			Doc: "Smallest acceptable minclass; the check also passes when dcredit, ucredit, lcredit and ocredit are all -1 or less.",
		}},
	}
}

func enforceForRootMeta() checks.Meta {
	return checks.Meta{
		ID:       "password.pwquality_enforce_for_root",
		Title:    "Password quality rules apply to root too (pam_pwquality enforce_for_root)",
		Family:   "password",
		Severity: checks.SeverityMedium,
		Rationale: "Without enforce_for_root, pam_pwquality only warns when root sets a weak password (for itself or for " +
			"another user) and accepts it anyway, so the length and complexity rules do not hold for the most powerful account.",
		Remediation: "Add the flag, for example in /etc/security/pwquality.conf.d/50-pwroot.conf:\n" +
			"  enforce_for_root\n" +
			"and make sure enforcing is not set to 0.\n" + pwqualityRemediation,
		References: append(checks.CIS(
			"debian:12", "5.3.3.2.8",
			"ubuntu:22.04", "5.3.3.2.8",
			"ubuntu:24.04", "5.3.3.2.8",
			"rhel:9", "5.3.3.2.7",
		), measure),
	}
}

// pwqUse is one stack's use of pam_pwquality: the line and the
// configuration it runs with, or no line.
type pwqUse struct {
	st   stack
	rule *pam.Rule
	cfg  *pwquality.Config
}

// pwqualityUses loads libpwquality's configuration and the password stacks.
// For each stack it returns every pam_pwquality line with its effective
// configuration, or one entry without a rule when the stack has none. On a
// stack error it still returns the configuration, so that a FAIL can show
// it.
func pwqualityUses(ctx context.Context, h checks.Host) ([]pwqUse, *pwquality.Config, error) {
	cfg, err := pwquality.Load(ctx, h)
	if err != nil {
		return nil, nil, err
	}
	stacks, err := loadStacks(ctx, h, pam.TypePassword)
	if err != nil {
		return nil, cfg, err
	}
	var uses []pwqUse
	for _, st := range stacks {
		rules := st.module("pam_pwquality")
		if len(rules) == 0 {
			uses = append(uses, pwqUse{st: st, cfg: cfg})
			continue
		}
		for i := range rules {
			eff, err := cfg.WithArgs(rules[i])
			if err != nil {
				return nil, cfg, err
			}
			uses = append(uses, pwqUse{st: st, rule: &rules[i], cfg: eff})
		}
	}
	return uses, cfg, nil
}

// pwqError reports a failure of pwqualityUses: FAIL when there is no
// password stack, with what show finds in the configuration, so that a
// value configured but unused is visible; ERROR otherwise.
func pwqError(cfg *pwquality.Config, err error, show func(*pwquality.Config) []checks.Evidence) checks.Result {
	if cfg == nil {
		return checks.Errorf("pwquality configuration: %v", err)
	}
	return stackError(pam.TypePassword, err, show(cfg)...)
}

// moduleEvidence says whether the stack uses pam_pwquality; when it does not,
// it says whether pam_cracklib stands in its place, which CIS does not
// accept.
func (u pwqUse) moduleEvidence() checks.Evidence {
	e := ruleEvidence(u.st, "pam_pwquality", u.rule)
	if u.rule == nil {
		if cl := u.st.module("pam_cracklib"); len(cl) > 0 {
			e.Actual = fmt.Sprintf("absent (pam_cracklib is used instead, which is not accepted: %s)", cl[0].String())
			e.Path, e.Line = cl[0].Pos.File, cl[0].Pos.Line
		}
	}
	return e
}

// intEvidence reports an integer pwquality setting.
func intEvidence(cfg *pwquality.Config, name, expected string, ok func(int) bool) checks.Evidence {
	n, s := cfg.Int(name)
	e := checks.Evidence{Key: name, Expected: expected, OK: ok(n), Actual: strconv.Itoa(n)}
	switch {
	case s.IsDefault():
		e.Actual += " (built-in default: not set in pwquality.conf, pwquality.conf.d or on the pam_pwquality line)"
		e.Path = pwquality.ConfPath
	default:
		if s.Value != e.Actual {
			e.Actual = fmt.Sprintf("%s (libpwquality uses %d)", s.Value, n)
		}
		e.Path, e.Line = s.Path, s.Line
	}
	return e
}

// enforcingEvidence reports pwquality's enforcing setting: with 0 the module
// only warns about a weak password and accepts it.
func enforcingEvidence(cfg *pwquality.Config) checks.Evidence {
	return intEvidence(cfg, "enforcing", "not 0 (0 only warns)", func(n int) bool { return n != 0 })
}

func runMinlen(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	want := p.Int("min_length")
	okLen := func(n int) bool { return n >= want }
	expected := ">= " + strconv.Itoa(want)
	uses, cfg, err := pwqualityUses(ctx, h)
	if err != nil {
		return pwqError(cfg, err, func(c *pwquality.Config) []checks.Evidence {
			return []checks.Evidence{intEvidence(c, "minlen", expected, okLen)}
		})
	}
	var ev evidenceList
	for _, u := range uses {
		ev.add(u.moduleEvidence(), intEvidence(u.cfg, "minlen", expected, okLen))
		if u.rule != nil {
			ev.add(enforcingEvidence(u.cfg))
		}
	}
	return checks.Judge(
		fmt.Sprintf("pam_pwquality requires passwords of at least %d characters", want),
		fmt.Sprintf("passwords of fewer than %d characters can be set (pam_pwquality missing from a password stack, minlen too low, or not enforcing)", want),
		ev...)
}

func runComplexity(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	want := p.Int("min_classes")
	credits := []string{"dcredit", "ucredit", "lcredit", "ocredit"}
	judge := func(cfg *pwquality.Config) []checks.Evidence {
		classes, _ := cfg.Int("minclass")
		classOK := classes >= want
		creditsOK := true
		for _, c := range credits {
			if n, _ := cfg.Int(c); n > -1 {
				creditsOK = false
			}
		}
		either := classOK || creditsOK
		ev := []checks.Evidence{intEvidence(cfg, "minclass", fmt.Sprintf(">= %d (or every credit <= -1)", want), func(int) bool { return either })}
		for _, c := range credits {
			ev = append(ev, intEvidence(cfg, c, fmt.Sprintf("<= -1 (or minclass >= %d)", want), func(n int) bool { return n <= -1 || classOK }))
		}
		return ev
	}
	uses, cfg, err := pwqualityUses(ctx, h)
	if err != nil {
		return pwqError(cfg, err, judge)
	}
	var ev evidenceList
	for _, u := range uses {
		ev.add(u.moduleEvidence())
		ev.add(judge(u.cfg)...)
		if u.rule != nil {
			ev.add(enforcingEvidence(u.cfg))
		}
	}
	return checks.Judge(
		fmt.Sprintf("pam_pwquality requires at least %d character classes (or one of each class)", want),
		"passwords without the required mix of character classes can be set",
		ev...)
}

func runEnforceForRoot(ctx context.Context, h checks.Host, _ checks.Params) checks.Result {
	flag := func(cfg *pwquality.Config) checks.Evidence {
		on, s := cfg.Flag("enforce_for_root")
		e := checks.Evidence{Key: "enforce_for_root", Expected: "set", OK: on, Actual: "set"}
		if on {
			e.Path, e.Line = s.Path, s.Line
		} else {
			e.Actual = "not set (pam_pwquality only warns root)"
			e.Path = pwquality.ConfPath
		}
		return e
	}
	uses, cfg, err := pwqualityUses(ctx, h)
	if err != nil {
		return pwqError(cfg, err, func(c *pwquality.Config) []checks.Evidence { return []checks.Evidence{flag(c)} })
	}
	var ev evidenceList
	for _, u := range uses {
		ev.add(u.moduleEvidence(), flag(u.cfg))
		if u.rule != nil {
			ev.add(enforcingEvidence(u.cfg))
		}
	}
	return checks.Judge(
		"password quality rules are enforced for root",
		"root can set passwords that break the quality rules",
		ev...)
}
