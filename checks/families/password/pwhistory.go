package password

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/pam"
)

func init() {
	checks.Register(check{meta: pwhistoryMeta(), run: runPwhistory})
}

// pwhistoryConfPath is pam_pwhistory's configuration file (Linux-PAM 1.5.3
// and later; older versions take arguments only).
const pwhistoryConfPath = "/etc/security/pwhistory.conf"

// pwhistoryDefaultRemember is pam_pwhistory's built-in remember.
const pwhistoryDefaultRemember = 10

func pwhistoryMeta() checks.Meta {
	lo, hi := checks.IntRange(1, 400)
	return checks.Meta{
		ID:       "password.pwhistory",
		Title:    "Recent passwords cannot be reused (pam_pwhistory remember)",
		Family:   "password",
		Severity: checks.SeverityMedium,
		Rationale: "Expiry only helps if the new password differs from the old ones; pam_pwhistory remembers the last " +
			"passwords of each user in /etc/security/opasswd and refuses them.",
		Remediation: "Put pam_pwhistory in the password stack before pam_unix, with remember on its line:\n" +
			"  password requisite pam_pwhistory.so remember=24 enforce_for_root try_first_pass use_authtok\n" +
			"On Debian and Ubuntu add a pam-auth-update profile for it (see the CIS benchmark) and run pam-auth-update; on " +
			"RHEL run `authselect enable-feature with-pwhistory` and set `remember = 24` in /etc/security/pwhistory.conf " +
			"(read by Linux-PAM 1.5.3 and later; an argument on the line overrides it).",
		References: append(checks.CIS(
			"debian:12", "5.3.3.3.1", "debian:12", "5.3.2.4",
			"ubuntu:22.04", "5.3.3.3.1", "ubuntu:22.04", "5.3.2.4",
			"ubuntu:24.04", "5.3.3.3.1", "ubuntu:24.04", "5.3.2.4",
			"rhel:9", "5.3.3.3.1", "rhel:9", "5.3.2.4",
			"alinux:3", "5.5.3",
		), measure),
		Params: []checks.ParamSpec{{
			Name: "remember", Kind: checks.KindInt, Default: 24, Min: lo, Max: hi,
			Doc: "Smallest acceptable number of previous passwords remembered.",
		}},
	}
}

// remembered is pam_pwhistory's effective remember for one line.
type remembered struct {
	n    int
	path string
	line int
	// dflt is set when nothing configures remember.
	dflt bool
	// conf is the configuration file the line reads.
	conf string
}

// pwhistoryRemember computes remember for a pam_pwhistory line as the module
// does: default 10, then the configuration file (conf= or pwhistory.conf,
// where the first matching line wins, as pam_modutil_search_key reads it),
// then a remember= argument.
func pwhistoryRemember(ctx context.Context, h checks.Host, r pam.Rule) (remembered, error) {
	conf := pwhistoryConfPath
	for _, a := range r.Args {
		if a.Name == "conf" && a.HasValue {
			conf = a.Value
		}
	}
	out := remembered{n: pwhistoryDefaultRemember, dflt: true, conf: conf, path: conf}
	settings, err := checks.Memoized(h, "families/password.pwhistory:"+conf, func() ([]pam.ModuleSetting, error) {
		data, err := h.ReadFile(ctx, conf)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", conf, err)
		}
		return pam.ParseModuleConfig(conf, data)
	})
	switch {
	case err == nil:
		for _, s := range settings {
			if !strings.EqualFold(s.Name, "remember") {
				continue
			}
			v := strings.TrimLeft(s.Value, "= \t")
			n, err := strconv.ParseUint(strings.TrimRight(v, " \t"), 10, 31)
			if err != nil {
				return remembered{}, fmt.Errorf("%s: remember %q is not a number pam_pwhistory accepts", s.Pos, s.Value)
			}
			out = remembered{n: int(n), path: s.Pos.File, line: s.Pos.Line, conf: conf}
			break
		}
	case errors.Is(err, fs.ErrNotExist):
		// pam_pwhistory reads nothing from a missing file, default or
		// not, and keeps its defaults.
	default:
		return remembered{}, err
	}
	for _, a := range r.Args {
		if a.Name != "remember" {
			continue
		}
		n, err := strconv.ParseUint(a.Value, 10, 31)
		if !a.HasValue || err != nil {
			return remembered{}, fmt.Errorf("%s: pam_pwhistory argument %q is not a number", r.Pos, a.String())
		}
		out = remembered{n: int(n), path: r.Pos.File, line: r.Pos.Line, conf: conf}
	}
	return out, nil
}

func runPwhistory(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	want := p.Int("remember")
	stacks, err := loadStacks(ctx, h, pam.TypePassword)
	if err != nil {
		return stackError(pam.TypePassword, err)
	}
	var ev evidenceList
	for _, st := range stacks {
		rules := st.module("pam_pwhistory")
		if len(rules) == 0 {
			ev.add(ruleEvidence(st, "pam_pwhistory", nil))
			continue
		}
		for i, r := range rules {
			ev.add(ruleEvidence(st, "pam_pwhistory", &rules[i]))
			rem, err := pwhistoryRemember(ctx, h, r)
			if err != nil {
				return checks.Errorf("%v", err)
			}
			e := checks.Evidence{Key: "remember", Expected: ">= " + strconv.Itoa(want), OK: rem.n >= want,
				Actual: strconv.Itoa(rem.n), Path: rem.path, Line: rem.line}
			if rem.dflt {
				e.Actual += " (built-in default; not set in " + rem.conf + " or on the pam_pwhistory line)"
			}
			ev.add(e)
		}
	}
	return checks.Judge(
		fmt.Sprintf("pam_pwhistory refuses the last %d passwords", want),
		fmt.Sprintf("passwords among the last %d can be reused (pam_pwhistory missing from a password stack, or remember too low)", want),
		ev...)
}
