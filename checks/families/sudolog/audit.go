package sudolog

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/auditrules"
	"github.com/plumbline/plumbline/checks/parse/sudoers"
	"github.com/plumbline/plumbline/checks/procfs"
	"github.com/plumbline/plumbline/checks/systemd"
)

func init() {
	register(check{
		meta: checks.Meta{
			ID:       "sudo.auditd_installed",
			Title:    "The audit daemon is installed",
			Severity: checks.SeverityMedium,
			Rationale: "auditd records security-relevant kernel events, among them changes to the sudo policy " +
				"and programs run as another user, in a log that sudo users cannot silence.",
			Remediation: "Install the audit daemon: apt install auditd audispd-plugins (Debian, Ubuntu) or dnf install audit (RHEL).",
			References: checks.CIS(
				"debian:12", "6.2.1.1",
				"ubuntu:22.04", "6.3.1.1",
				"ubuntu:24.04", "6.2.1.1",
				"rhel:9", "6.3.1.1",
				"alinux:3", "4.1.1.1",
			),
			Params: []checks.ParamSpec{{
				Name: "packages", Kind: checks.KindStringList, Default: []string{"auditd", "audit"},
				Doc: "Package names any one of which provides auditd (Debian: auditd, RHEL: audit).",
			}},
		},
		run: installedCheck("the audit daemon"),
	})
	register(check{
		meta: checks.Meta{
			ID:       "sudo.auditd_enabled",
			Title:    "The audit daemon is enabled and running",
			Severity: checks.SeverityHigh,
			Rationale: "Audit rules only record events while auditd runs; a disabled or masked auditd.service " +
				"means privileged activity leaves no audit trail after the next boot.",
			Remediation: "systemctl unmask auditd && systemctl --now enable auditd",
			References: checks.CIS(
				"debian:12", "6.2.1.2",
				"ubuntu:22.04", "6.3.1.2",
				"ubuntu:24.04", "6.2.1.2",
				"rhel:9", "6.3.1.4",
				"alinux:3", "4.1.1.2",
			),
		},
		run: runAuditdEnabled,
	})
	register(check{
		meta: checks.Meta{
			ID:       "sudo.audit_sudoers_watched",
			Title:    "Changes to the sudo policy are audited",
			Severity: checks.SeverityMedium,
			Rationale: "Changes to /etc/sudoers and /etc/sudoers.d widen who may act as root; auditing writes and " +
				"attribute changes to them records who changed the scope of administration and when.",
			Remediation: "printf -- '-w /etc/sudoers -p wa -k scope\\n-w /etc/sudoers.d -p wa -k scope\\n' >> /etc/audit/rules.d/50-scope.rules " +
				"&& augenrules --load (reboot if the rules are immutable, -e 2).",
			References: checks.CIS(
				"debian:12", "6.2.3.1",
				"ubuntu:22.04", "6.3.3.1",
				"ubuntu:24.04", "6.2.3.1",
				"rhel:9", "6.3.3.1",
				"alinux:3", "4.1.3.1",
			),
			Params: []checks.ParamSpec{
				{Name: "paths", Kind: checks.KindStringList, Default: []string{"/etc/sudoers", "/etc/sudoers.d"},
					Doc: "Paths that must be watched."},
				{Name: "perms", Kind: checks.KindString, Default: "wa",
					Doc: "Permissions (letters of rwxa) the watch must cover: w = writes, a = attribute changes."},
			},
		},
		run:      runSudoersWatched,
		validate: validatePerms,
	})
	register(check{
		meta: checks.Meta{
			ID:       "sudo.audit_sudolog_watched",
			Title:    "Changes to the sudo log file are audited",
			Severity: checks.SeverityMedium,
			Rationale: "Someone who gained root through sudo can edit the sudo log to hide what they did; an " +
				"audit watch on the log file records every modification in the separate audit trail.",
			Remediation: "printf -- '-w <logfile> -p wa -k sudo_log_file\\n' >> /etc/audit/rules.d/50-sudo.rules && augenrules --load, " +
				"where <logfile> is the path of \"Defaults logfile=\" (see sudo.logfile).",
			References: checks.CIS(
				"debian:12", "6.2.3.3",
				"ubuntu:22.04", "6.3.3.3",
				"ubuntu:24.04", "6.2.3.3",
				"rhel:9", "6.3.3.3",
				"alinux:3", "4.1.3.3",
			),
			Params: []checks.ParamSpec{{
				Name: "perms", Kind: checks.KindString, Default: "wa",
				Doc: "Permissions (letters of rwxa) the watch must cover.",
			}},
		},
		run:      runSudologWatched,
		validate: validatePerms,
	})
	register(check{
		meta: checks.Meta{
			ID:       "sudo.audit_privileged_commands",
			Title:    "Programs run as another user are audited",
			Severity: checks.SeverityMedium,
			Rationale: "sudo's own log can be disabled or edited by the people it records; an execve audit rule " +
				"for processes whose effective uid differs from the real uid records every command run through " +
				"sudo (or any other setuid path) with the login uid of the person behind it.",
			Remediation: "printf -- '-a always,exit -F arch=b64 -C euid!=uid -F auid!=unset -S execve -k user_emulation\\n" +
				"-a always,exit -F arch=b32 -C euid!=uid -F auid!=unset -S execve -k user_emulation\\n' " +
				">> /etc/audit/rules.d/50-user_emulation.rules && augenrules --load",
			References: checks.CIS(
				"debian:12", "6.2.3.2",
				"ubuntu:22.04", "6.3.3.2",
				"ubuntu:24.04", "6.2.3.2",
				"rhel:9", "6.3.3.2",
				"alinux:3", "4.1.3.2",
			),
			Params: []checks.ParamSpec{{
				Name: "arches", Kind: checks.KindStringList, Default: []string{"b64", "b32"},
				Doc: "Syscall ABIs that need a rule: b64 and b32 on 64-bit hosts that can run 32-bit programs, b64 alone otherwise.",
			}},
		},
		run: runPrivilegedCommands,
		validate: func(p checks.Params) error {
			for _, a := range p.StringList("arches") {
				if a != "b64" && a != "b32" {
					return fmt.Errorf("arches: %q is not b64 or b32", a)
				}
			}
			return nil
		},
	})
}

func runAuditdEnabled(ctx context.Context, h checks.Host, _ checks.Params) checks.Result {
	st, err := systemd.Unit(ctx, h, "auditd.service")
	if err != nil {
		return checks.Errorf("cannot tell whether auditd is enabled: %v", err)
	}
	enabled := st.Exists() && st.Enabled && !st.Masked
	unitEv := checks.Evidence{Key: "auditd.service", Expected: "enabled", Actual: st.String(), OK: enabled, Path: st.Path}
	if st.Enabled && !st.Masked {
		unitEv.Path = st.EnabledBy
		if !st.Exists() {
			unitEv.Actual = "enabled, but no unit file exists"
		}
	}
	if !h.Live() {
		note := " (not a live host: only enablement was judged, not whether auditd is running)"
		if !enabled {
			return checks.Fail("auditd.service is "+unitEv.Actual+note, unitEv)
		}
		return checks.Pass("auditd.service is enabled"+note, unitEv)
	}
	procs, err := procfs.Find(ctx, h, "auditd")
	if err != nil {
		return checks.Errorf("cannot tell whether auditd is running: %v", err)
	}
	procEv := checks.Evidence{Key: "auditd process", Expected: "running", Actual: "not running", Path: "/proc"}
	if len(procs) > 0 {
		procEv.Actual, procEv.OK = fmt.Sprintf("running (pid %d)", procs[0].PID), true
		procEv.Path = fmt.Sprintf("/proc/%d", procs[0].PID)
	}
	return checks.Judge("auditd.service is enabled and auditd is running",
		fmt.Sprintf("auditd.service is %s and auditd is %s", unitEv.Actual, procEv.Actual), unitEv, procEv)
}

func validatePerms(p checks.Params) error {
	if v := p.String("perms"); v == "" || strings.Trim(v, "rwxa") != "" {
		return fmt.Errorf("perms %q: want letters of rwxa such as \"wa\"", v)
	}
	return nil
}

// readRules loads the audit rules; a nil result means there are none, and
// the returned Result says so.
func readRules(ctx context.Context, h checks.Host, what string, ev checks.Evidence) (*auditrules.Ruleset, *checks.Result) {
	rs, err := auditrules.Read(ctx, h)
	if err != nil {
		r := checks.Errorf("cannot read the audit rules: %v", err)
		return nil, &r
	}
	if len(rs.Files) == 0 {
		ev.Actual, ev.Path = "no audit rules", auditrules.RulesDir
		r := checks.Fail(fmt.Sprintf("no audit rules found (no %s/*.rules and no %s), so %s is not audited",
			auditrules.RulesDir, auditrules.RulesFile, what), ev)
		return nil, &r
	}
	return rs, nil
}

// rulesLocation names where rules are read from, for evidence about a rule
// that is missing.
func rulesLocation(rs *auditrules.Ruleset) string {
	if len(rs.Files) > 0 && rs.Files[0] == auditrules.RulesFile {
		return auditrules.RulesFile
	}
	return auditrules.RulesDir
}

// watchEvidence describes the coverage of one path.
func watchEvidence(rs *auditrules.Ruleset, p, perms string) checks.Evidence {
	cov := rs.WatchesPath(p, perms)
	ev := checks.Evidence{Key: "audit watch " + p, Expected: "-w " + p + " -p " + perms, OK: cov.OK, Path: rulesLocation(rs)}
	keyed := slices.ContainsFunc(cov.Rules, func(r auditrules.Rule) bool { return len(r.Keys) > 0 })
	switch {
	case len(cov.Rules) == 0:
		ev.Actual = "not watched"
	case cov.OK && !keyed:
		// CIS's audit looks for the key too: events without one cannot
		// be searched for (ausearch -k).
		ev.OK = false
		ev.Expected += " -k KEY"
		ev.Actual = "watched for " + cov.Have + " but without a key (-k) by " + cov.Rules[0].Text
	case cov.OK:
		ev.Actual = "watched for " + cov.Have + " by " + cov.Rules[0].Text
	default:
		ev.Actual = fmt.Sprintf("watched for %s only (missing %s) by %s", cov.Have, cov.Missing, cov.Rules[0].Text)
	}
	if len(cov.Rules) > 0 {
		ev.Path, ev.Line = cov.Rules[0].Path, cov.Rules[0].Line
	}
	return ev
}

func runSudoersWatched(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	paths, perms := p.StringList("paths"), p.String("perms")
	rs, res := readRules(ctx, h, "the sudo policy", checks.Evidence{Key: "audit rules", Expected: "-w " + strings.Join(paths, ", -w ") + " -p " + perms})
	if res != nil {
		return *res
	}
	var evs []checks.Evidence
	var missing []string
	for _, path := range paths {
		ev := watchEvidence(rs, path, perms)
		if !ev.OK {
			missing = append(missing, path)
		}
		evs = append(evs, ev)
	}
	return checks.Judge(
		"changes to "+strings.Join(paths, " and ")+" are audited",
		"audit rules do not watch "+strings.Join(missing, " and ")+" for -p "+perms, evs...)
}

func runSudologWatched(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	perms := p.String("perms")
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
	rs, res := readRules(ctx, h, "the sudo log file", checks.Evidence{Key: "audit watch " + lf.path, Expected: "-w " + lf.path + " -p " + perms})
	if res != nil {
		return *res
	}
	ev := watchEvidence(rs, lf.path, perms)
	return checks.Judge("changes to the sudo log file "+lf.path+" are audited",
		"audit rules do not watch the sudo log file "+lf.path+" (set at "+lf.setting.Last.Source()+") for -p "+perms, ev)
}

// archClass maps -F arch= values to the ABI they select.
var archClass = map[string]string{
	"b64": "b64", "x86_64": "b64", "aarch64": "b64", "ppc64": "b64", "ppc64le": "b64", "s390x": "b64", "riscv64": "b64",
	"b32": "b32", "i386": "b32", "i486": "b32", "i586": "b32", "i686": "b32", "arm": "b32", "armeb": "b32", "ppc": "b32", "s390": "b32",
}

// userEmulationRule reports whether r audits execve by processes running as
// another user for the ABI: an always,exit execve rule whose only filters
// are the architecture, the key (required), "-C euid!=uid" and
// "auid!=unset". A rule without -F arch applies to the native ABI, taken as
// b64.
func userEmulationRule(r auditrules.Rule, abi string) bool {
	if !r.HasSyscall("execve") || len(r.Keys) == 0 {
		return false // CIS's audit wants a key, to find the events
	}
	ruleABI := "b64"
	for _, f := range r.Fields {
		switch {
		case f.Name == "arch" && f.Op == "=":
			ruleABI = archClass[f.Value]
		case f.Name == "key":
		case f.Name == "auid" && f.Op == "!=" && slices.Contains([]string{"unset", "-1", "4294967295"}, f.Value):
		default:
			return false
		}
	}
	for _, c := range r.Compares {
		if c.Op != "!=" || !(c.Name == "euid" && c.Value == "uid" || c.Name == "uid" && c.Value == "euid") {
			return false
		}
	}
	return ruleABI == abi
}

func runPrivilegedCommands(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	arches := p.StringList("arches")
	rs, res := readRules(ctx, h, "running programs as another user", checks.Evidence{Key: "audit rules", Expected: "-S execve -C euid!=uid rules for " + strings.Join(arches, ", ")})
	if res != nil {
		return *res
	}
	rules := rs.Syscall()
	var evs []checks.Evidence
	var missing []string
	for _, abi := range arches {
		ev := checks.Evidence{
			Key:      "execve rule arch=" + abi,
			Expected: "-a always,exit -F arch=" + abi + " -C euid!=uid -F auid!=unset -S execve",
			Actual:   "missing", Path: rulesLocation(rs),
		}
		for _, r := range rules {
			if userEmulationRule(r, abi) {
				ev.Actual, ev.OK, ev.Path, ev.Line = r.Text, true, r.Path, r.Line
				break
			}
		}
		if !ev.OK {
			missing = append(missing, abi)
		}
		evs = append(evs, ev)
	}
	return checks.Judge("programs run as another user are audited for "+strings.Join(arches, " and "),
		"no audit rule records programs run as another user for "+strings.Join(missing, " and "), evs...)
}
