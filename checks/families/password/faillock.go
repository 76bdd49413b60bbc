package password

import (
	"context"
	"fmt"
	"strconv"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/faillock"
	"github.com/plumbline/plumbline/checks/parse/pam"
)

func init() {
	checks.Register(check{meta: faillockMeta(), run: runFaillock})
}

func faillockMeta() checks.Meta {
	denyLo, denyHi := checks.IntRange(1, 100)
	unlockLo, unlockHi := checks.IntRange(0, 604800)
	return checks.Meta{
		ID:       "password.faillock",
		Title:    "Accounts are locked after repeated failed logins (pam_faillock)",
		Family:   "password",
		Severity: checks.SeverityMedium,
		Rationale: "Locking an account after a few failed attempts stops online password guessing. pam_faillock counts " +
			"failures only when it is in the auth stack twice: with preauth before pam_unix (refuse a locked account) and " +
			"authfail after it (record the failure).",
		Remediation: "In /etc/security/faillock.conf set\n  deny = 5\n  unlock_time = 900\n" +
			"(unlock_time = 0 keeps the account locked until an administrator runs faillock --reset), and remove deny= or " +
			"unlock_time= arguments from the pam_faillock lines, which override the file.\n" +
			"On Debian and Ubuntu create pam-auth-update profiles for pam_faillock (see the CIS benchmark) so that " +
			"/etc/pam.d/common-auth has\n" +
			"  auth requisite pam_faillock.so preauth\n" +
			"  auth [success=1 default=ignore] pam_unix.so\n" +
			"  auth [default=die] pam_faillock.so authfail\n" +
			"and common-account has `account required pam_faillock.so`. On RHEL run `authselect enable-feature with-faillock`.",
		References: append(checks.CIS(
			"debian:12", "5.3.3.1.1", "debian:12", "5.3.3.1.2", "debian:12", "5.3.2.2",
			"ubuntu:22.04", "5.3.3.1.1", "ubuntu:22.04", "5.3.3.1.2", "ubuntu:22.04", "5.3.2.2",
			"ubuntu:24.04", "5.3.3.1.1", "ubuntu:24.04", "5.3.3.1.2", "ubuntu:24.04", "5.3.2.2",
			"rhel:9", "5.3.3.1.1", "rhel:9", "5.3.3.1.2", "rhel:9", "5.3.2.2",
			"alinux:3", "5.5.2",
		), measure),
		Params: []checks.ParamSpec{
			{
				Name: "max_deny", Kind: checks.KindInt, Default: 5, Min: denyLo, Max: denyHi,
				Doc: "Largest acceptable number of failures before the account is locked (deny must be 1..max_deny; 0 disables locking).",
			},
			{
				Name: "min_unlock_time", Kind: checks.KindInt, Default: 900, Min: unlockLo, Max: unlockHi,
				Doc: "Shortest acceptable lock in seconds; unlock_time 0 (locked until an administrator unlocks) is always accepted.",
			},
		},
	}
}

// faillockEvidence judges the options of one pam_faillock line (or of the
// configuration file alone, when the stack has no line).
func faillockEvidence(o faillock.Options, maxDeny, minUnlock int) []checks.Evidence {
	src := func(e checks.Evidence, v faillock.Int) checks.Evidence {
		e.Actual = strconv.Itoa(v.Value)
		if v.Raw != "" && v.Raw != e.Actual {
			e.Actual = fmt.Sprintf("%s (= %d)", v.Raw, v.Value)
		}
		if v.Path == "" {
			e.Path = o.ConfPath
			if o.ConfMissing {
				e.Actual += " (built-in default; " + o.ConfPath + " does not exist)"
			} else {
				e.Actual += " (built-in default; not set)"
			}
		} else {
			e.Path, e.Line = v.Path, v.Line
		}
		return e
	}
	deny := src(checks.Evidence{Key: "deny", Expected: fmt.Sprintf("1..%d", maxDeny),
		OK: o.Deny.Value >= 1 && o.Deny.Value <= maxDeny}, o.Deny)
	unlock := src(checks.Evidence{Key: "unlock_time", Expected: fmt.Sprintf("0 (never) or >= %d", minUnlock),
		OK: o.UnlockTime.Value == 0 || o.UnlockTime.Value >= minUnlock}, o.UnlockTime)
	return []checks.Evidence{deny, unlock}
}

func runFaillock(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	maxDeny, minUnlock := p.Int("max_deny"), p.Int("min_unlock_time")
	fileOnly := func() ([]checks.Evidence, error) {
		o, err := faillock.ForRule(ctx, h, pam.Rule{})
		if err != nil {
			return nil, err
		}
		return faillockEvidence(o, maxDeny, minUnlock), nil
	}
	stacks, err := loadStacks(ctx, h, pam.TypeAuth)
	if err != nil {
		conf, cerr := fileOnly()
		if cerr != nil {
			return checks.Errorf("%v", cerr)
		}
		return stackError(pam.TypeAuth, err, conf...)
	}
	var ev evidenceList
	for _, st := range stacks {
		byAction := map[string]*pam.Rule{}
		var settings []checks.Evidence
		rules := st.module("pam_faillock")
		for i, r := range rules {
			o, err := faillock.ForRule(ctx, h, r)
			if err != nil {
				return checks.Errorf("%v", err)
			}
			if o.Action != faillock.ActionPreauth && o.Action != faillock.ActionAuthfail {
				continue
			}
			if byAction[o.Action] == nil {
				byAction[o.Action] = &rules[i]
			}
			settings = append(settings, faillockEvidence(o, maxDeny, minUnlock)...)
		}
		for _, action := range []string{faillock.ActionPreauth, faillock.ActionAuthfail} {
			ev.add(ruleEvidence(st, "pam_faillock "+action, byAction[action]))
		}
		if len(settings) == 0 {
			// Show what the configuration file says, so that a reader
			// sees both halves of what is missing.
			conf, err := fileOnly()
			if err != nil {
				return checks.Errorf("%v", err)
			}
			settings = conf
		}
		ev.add(settings...)
	}
	return checks.Judge(
		fmt.Sprintf("pam_faillock locks accounts after at most %d failures", maxDeny),
		"repeated failed logins do not lock the account as required (pam_faillock missing from an auth stack, or deny/unlock_time out of range)",
		ev...)
}
