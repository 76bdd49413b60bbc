package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
)

// The real-OS test: plumbline-agent scans a root made by debootstrap from
// Debian's own archive (checks/cis/testdata/rootfs/build-debian12.sh), once
// as installed and once after harden-debian12.sh applied CIS hardening to a
// copy. Unlike the fixture trees of TestGolden, every file here is the one
// Debian ships, so the statuses below are claims about stock Debian 12.

const rootfsScripts = "../../../checks/cis/testdata/rootfs"

// debian12HostID is given with --host-id: a minbase root has no systemd and
// so no /etc/machine-id, from which the agent would take the host's id.
const debian12HostID = "debian12-rootfs"

// statusWant is one row of the tables: a check, the status it must have, and
// why that status is right for the tree scanned.
type statusWant struct {
	id   string
	want checks.Status
	why  string
}

// debian12Stock are the statuses of the stock root, each explained by
// Debian 12's own files (as debootstrap --variant=minbase installs them, with
// sudo, openssh-server, auditd, rsyslog and libpam-pwquality).
//
// The declarative CIS checks (ids such as ssh.permit_root_login,
// net.ip_forward, files.passwd_permissions) are being added concurrently; add
// a row here for each one with the stock status and the file that explains it.
var debian12Stock = []statusWant{
	// sudo (sudo 1.9.13, auditd 3.0.9, rsyslog 8.2302)
	{"sudo.installed", checks.StatusPass, "sudo is one of the packages the root is built with"},
	{"sudo.use_pty", checks.StatusPass, "Debian 12's /etc/sudoers ships `Defaults use_pty`"},
	{"sudo.logfile", checks.StatusFail, "the stock /etc/sudoers has no `Defaults logfile` and /etc/sudoers.d holds only README"},
	{"sudo.logfile_permissions", checks.StatusNotApplicable, "no sudo log file is configured, so there is none to protect"},
	{"sudo.audit_sudolog_watched", checks.StatusNotApplicable, "no sudo log file is configured, so there is none to watch"},
	{"sudo.auditd_installed", checks.StatusPass, "auditd is one of the packages the root is built with"},
	{"sudo.auditd_enabled", checks.StatusPass, "auditd's postinst enables auditd.service (multi-user.target.wants symlink); an image scan judges enablement only"},
	{"sudo.audit_sudoers_watched", checks.StatusFail, "auditd's stock /etc/audit/rules.d/audit.rules has only -D, -b 8192, --backlog_wait_time and -f 1: no watches"},
	{"sudo.audit_privileged_commands", checks.StatusFail, "the stock audit rules have no -C euid!=uid execve rules"},
	{"sudo.log_forwarding", checks.StatusFail, "the stock /etc/rsyslog.conf writes local files only, and systemd-journal-remote is not installed"},
	// password (login 4.13, libpam-modules 1.5.2, libpam-pwquality 1.4.5)
	{"password.pass_max_days", checks.StatusFail, "the stock /etc/login.defs has PASS_MAX_DAYS 99999"},
	{"password.pass_min_days", checks.StatusFail, "the stock /etc/login.defs has PASS_MIN_DAYS 0"},
	{"password.pass_warn_age", checks.StatusPass, "the stock /etc/login.defs has PASS_WARN_AGE 7"},
	{"password.inactive", checks.StatusFail, "the stock /etc/default/useradd has INACTIVE only commented out (# INACTIVE=-1: never disabled)"},
	{"password.hashing", checks.StatusPass, "pam_unix in common-password has yescrypt and login.defs ENCRYPT_METHOD SHA512"},
	{"password.no_empty", checks.StatusFail, "pam-auth-update writes `pam_unix.so nullok` into /etc/pam.d/common-auth"},
	{"password.faillock", checks.StatusFail, "pam_faillock ships in libpam-modules but no common-* file uses it"},
	{"password.pwhistory", checks.StatusFail, "pam_pwhistory is not in /etc/pam.d/common-password"},
	{"password.pwquality_minlen", checks.StatusFail, "libpam-pwquality adds `pam_pwquality.so retry=3` and pwquality.conf is all comments: minlen is the built-in 8"},
	{"password.pwquality_complexity", checks.StatusFail, "pwquality.conf is all comments: minclass 0 and no credits"},
	{"password.pwquality_enforce_for_root", checks.StatusFail, "neither pwquality.conf nor the pam_pwquality line sets enforce_for_root"},
	{"password.root_rotation", checks.StatusNotApplicable, "debootstrap leaves root locked (`root:*:` in /etc/shadow): no password to rotate"},
	{"password.user_ages", checks.StatusPass, "no account in /etc/shadow has a usable password (all `*` or `!`), so no ages apply"},
	// DLP and disk encryption: what an image of a fresh install gives
	{"dlp.agent_present", checks.StatusFail, "Debian installs no DLP product"},
	{"diskcrypt.swap_encrypted", checks.StatusPass, "debootstrap's /etc/fstab is `# UNCONFIGURED FSTAB FOR BASE SYSTEM`: no swap"},
	{"diskcrypt.data_filesystems_encrypted", checks.StatusNotApplicable, "the unconfigured /etc/fstab lists no data filesystems"},
	{"diskcrypt.luks_aes256", checks.StatusNotApplicable, "an image scan has no /sys/block (ROOT/sys is an empty directory)"},
	{"diskcrypt.crypttab_consistent", checks.StatusNotApplicable, "an image scan has no /sys/block (ROOT/sys is an empty directory)"},
	// declarative CIS checks
	{"files.passwd_permissions", checks.StatusPass, "base-passwd installs /etc/passwd 0644 root:root"},
	{"files.shadow_permissions_debian", checks.StatusPass, "the passwd package creates /etc/shadow 0640 root:shadow"},
	{"users.unique_uids", checks.StatusPass, "base-passwd's and the packages' system users all have distinct uids"},
	{"fs.cramfs_unavailable", checks.StatusPass, "minbase installs no kernel: /lib/modules is empty, so no cramfs module can be loaded"},
	{"fs.tmp_partition", checks.StatusFail, "debootstrap's /etc/fstab is unconfigured and no tmp.mount is enabled: /tmp is not a separate filesystem"},
	{"fs.home_nodev", checks.StatusNotApplicable, "/home is not a separate mount, and CIS asks for nodev only where it is"},
	{"proc.aslr", checks.StatusFail, "no sysctl file sets kernel.randomize_va_space (the kernel's default 2 is not configured), and an image has no running value"},
	{"net.ip_forward", checks.StatusFail, "no sysctl file sets net.ipv4.ip_forward (procps is not even installed)"},
	{"banner.issue_content", checks.StatusFail, "/etc/issue is \"Debian GNU/Linux 12 \\n \\l\": it names the operating system"},
	{"ssh.permit_root_login", checks.StatusFail, "Debian's sshd_config leaves PermitRootLogin commented out, and OpenSSH's default is prohibit-password"},
	{"ssh.sshd_config_permissions", checks.StatusFail, "openssh-server installs /etc/ssh/sshd_config mode 0644; CIS asks for 0600"},
	{"ssh.max_auth_tries", checks.StatusFail, "MaxAuthTries is not set, and OpenSSH's default is 6 (CIS: at most 4)"},
	{"ssh.use_pam", checks.StatusPass, "Debian's sshd_config sets UsePAM yes"},
	{"ssh.private_host_key_permissions", checks.StatusPass, "openssh-server's postinst generates the host keys 0600 root:root"},
	{"svc.telnet_client_not_installed", checks.StatusPass, "no telnet package is installed"},
	{"log.rsyslog_file_create_mode", checks.StatusPass, "Debian's /etc/rsyslog.conf sets $FileCreateMode 0640"},
	{"acct.default_umask", checks.StatusFail, "/etc/login.defs has UMASK 022 (CIS: 027)"},
	{"acct.root_only_uid0", checks.StatusPass, "only root has uid 0 in base-passwd's /etc/passwd"},
	{"pam.pwquality_installed", checks.StatusPass, "libpam-pwquality is one of the packages the root is built with"},
	{"log.journald_enabled", checks.StatusFail, "minbase installs no systemd, so there is no systemd-journald.service"},
}

// debian12Hardened are the statuses after harden-debian12.sh, each explained
// by what the script wrote (or deliberately left alone).
//
// The declarative CIS checks (ids such as ssh.permit_root_login,
// net.ip_forward, files.passwd_permissions) are being added concurrently; add
// a row here for each one with its hardened status and the script block that
// explains it (extending the script if it does not cover the check yet).
var debian12Hardened = []statusWant{
	// sudo
	{"sudo.use_pty", checks.StatusPass, "unchanged: the stock /etc/sudoers has Defaults use_pty"},
	{"sudo.logfile", checks.StatusPass, "/etc/sudoers.d/60-cis-logfile sets Defaults logfile=\"/var/log/sudo.log\""},
	{"sudo.logfile_permissions", checks.StatusPass, "the script creates /var/log/sudo.log 0600 root, as sudo does on first use"},
	{"sudo.audit_sudolog_watched", checks.StatusPass, "rules.d/50-scope.rules has -w /var/log/sudo.log -p wa"},
	{"sudo.audit_sudoers_watched", checks.StatusPass, "rules.d/50-scope.rules watches /etc/sudoers and /etc/sudoers.d -p wa"},
	{"sudo.audit_privileged_commands", checks.StatusPass, "rules.d/50-user_emulation.rules has the b64 and b32 -C euid!=uid execve rules"},
	{"sudo.auditd_enabled", checks.StatusPass, "unchanged: auditd.service is enabled"},
	{"sudo.log_forwarding", checks.StatusFail, "the script configures no remote log host (there is none to name)"},
	// password
	{"password.pass_max_days", checks.StatusPass, "login.defs PASS_MAX_DAYS 365"},
	{"password.pass_min_days", checks.StatusPass, "login.defs PASS_MIN_DAYS 1"},
	{"password.pass_warn_age", checks.StatusPass, "login.defs PASS_WARN_AGE 7"},
	{"password.inactive", checks.StatusPass, "/etc/default/useradd INACTIVE=45, and no account has a password"},
	{"password.no_empty", checks.StatusPass, "nullok is removed from pam_unix in common-auth"},
	{"password.pwhistory", checks.StatusPass, "pam_pwhistory remember=24 is added before pam_unix in common-password"},
	{"password.pwquality_minlen", checks.StatusPass, "pwquality.conf.d/50-cis.conf minlen = 14"},
	{"password.pwquality_complexity", checks.StatusPass, "pwquality.conf.d/50-cis.conf minclass = 4"},
	{"password.pwquality_enforce_for_root", checks.StatusPass, "pwquality.conf.d/50-cis.conf enforce_for_root"},
	{"password.faillock", checks.StatusFail, "the script leaves pam_faillock out: it needs common-auth's jumps rewritten (pam-auth-update)"},
	{"password.hashing", checks.StatusPass, "unchanged: yescrypt / SHA512"},
	{"password.root_rotation", checks.StatusNotApplicable, "unchanged: root stays locked"},
	{"password.user_ages", checks.StatusPass, "unchanged: no account has a usable password"},
	// packages, DLP and disk encryption: nothing the script changes
	{"sudo.installed", checks.StatusPass, "unchanged"},
	{"sudo.auditd_installed", checks.StatusPass, "unchanged"},
	{"dlp.agent_present", checks.StatusFail, "unchanged: no DLP product"},
	{"diskcrypt.swap_encrypted", checks.StatusPass, "unchanged: no swap in /etc/fstab"},
	{"diskcrypt.data_filesystems_encrypted", checks.StatusNotApplicable, "unchanged: no data filesystems in /etc/fstab"},
	{"diskcrypt.luks_aes256", checks.StatusNotApplicable, "unchanged: image scan, no /sys/block"},
	{"diskcrypt.crypttab_consistent", checks.StatusNotApplicable, "unchanged: image scan, no /sys/block"},
	// declarative CIS checks
	{"files.passwd_permissions", checks.StatusPass, "unchanged: /etc/passwd 0644 root:root"},
	{"fs.cramfs_unavailable", checks.StatusPass, "no module is available, and modprobe.d now also has install cramfs /bin/false and blacklist cramfs"},
	{"fs.tmp_partition", checks.StatusFail, "the script edits files only; it does not give /tmp a filesystem of its own"},
	{"proc.aslr", checks.StatusPass, "/etc/sysctl.d/60-cis.conf sets kernel.randomize_va_space = 2"},
	{"proc.core_dumps_restricted", checks.StatusPass, "limits.d has * hard core 0 and sysctl.d fs.suid_dumpable = 0"},
	{"net.ip_forward", checks.StatusPass, "/etc/sysctl.d/60-cis.conf sets net.ipv4.ip_forward = 0 and net.ipv6.conf.all.forwarding = 0"},
	{"banner.issue_content", checks.StatusPass, "the script replaces /etc/issue with a warning that names no OS and has no escapes"},
	{"banner.motd_content", checks.StatusFail, "the script leaves /etc/motd, which names Debian GNU/Linux"},
	{"ssh.permit_root_login", checks.StatusPass, "sshd_config.d/50-cis.conf (included at the top of sshd_config) sets PermitRootLogin no"},
	{"ssh.sshd_config_permissions", checks.StatusPass, "the script chmods sshd_config and its drop-ins to 0600"},
	{"ssh.max_auth_tries", checks.StatusPass, "sshd_config.d/50-cis.conf sets MaxAuthTries 4"},
	{"ssh.macs", checks.StatusFail, "the script sets no MACs, and OpenSSH 9.2's default list has umac-64 (CIS calls it weak)"},
	{"acct.default_umask", checks.StatusPass, "login.defs UMASK 027 and /etc/profile.d/50-umask.sh umask 027"},
	{"acct.shell_timeout", checks.StatusPass, "/etc/profile.d/50-tmout.sh sets readonly TMOUT=900 and exports it"},
	{"log.journald_enabled", checks.StatusFail, "unchanged: no systemd in a minbase root"},
}

func TestDebian12Rootfs(t *testing.T) {
	root := debian12Root(t)

	t.Run("stock", func(t *testing.T) {
		r, took := scanDebian12(t, root)
		t.Logf("stock scan: %s", took)
		if r.Baseline.Name != "debian-12" {
			t.Errorf("auto-selected baseline %q (from %s), want debian-12", r.Baseline.Name, r.Baseline.Source)
		}
		if r.Facts.Platform != "debian:12" {
			t.Errorf("platform %q, want debian:12 (from the root's /etc/os-release)", r.Facts.Platform)
		}
		checkStatuses(t, r, debian12Stock)
	})

	t.Run("hardened", func(t *testing.T) {
		start := time.Now()
		hardened := filepath.Join(t.TempDir(), "root")
		if out, err := exec.Command("cp", "-a", root, hardened).CombinedOutput(); err != nil {
			t.Fatalf("copy %s: %v\n%s", root, err, out)
		}
		copied := time.Since(start)
		if out, err := exec.Command(filepath.Join(rootfsScripts, "harden-debian12.sh"), hardened).CombinedOutput(); err != nil {
			t.Fatalf("harden-debian12.sh: %v\n%s", err, out)
		}
		t.Logf("copy %s, harden %s", copied.Round(time.Millisecond), (time.Since(start) - copied).Round(time.Millisecond))
		r, took := scanDebian12(t, hardened)
		t.Logf("hardened scan: %s", took)
		checkStatuses(t, r, debian12Hardened)
	})

	// duration records how long a scan of a real root takes; for
	// information only, nothing fails on timing.
	t.Run("duration", func(t *testing.T) {
		const runs = 5
		var took []time.Duration
		for range runs {
			_, d := scanDebian12(t, root)
			took = append(took, d)
		}
		slices.Sort(took)
		t.Logf("scan of the stock root (process start to exit), %d runs: min %s, median %s, max %s",
			runs, took[0], took[runs/2], took[runs-1])
	})
}

// debian12Root returns the Debian 12 root. Under make it is the one the
// rootfs-debian12 target built (PLUMBLINETEST_DEBIAN12_ROOT); under a plain
// go test it runs the build script itself with the same cache directory. It
// skips the test, with the reason, when the root cannot be built here.
//
// The variables are not PLUMBLINE_*: the agent and the server take every
// PLUMBLINE_* variable for a setting and refuse unknown ones, and the
// environment of go test reaches the binaries the tests run.
func debian12Root(t *testing.T) string {
	t.Helper()
	if root := os.Getenv("PLUMBLINETEST_DEBIAN12_ROOT"); root != "" {
		if f := os.Getenv("PLUMBLINETEST_DEBIAN12_UNAVAILABLE"); f != "" {
			if reason, err := os.ReadFile(f); err == nil {
				t.Skipf("Debian 12 root unavailable (%s): %s", f, strings.TrimSpace(string(reason)))
			}
		}
		if _, err := os.Stat(filepath.Join(root, "etc/os-release")); err != nil {
			t.Fatalf("PLUMBLINETEST_DEBIAN12_ROOT=%s is not a built root (%v); run \"make rootfs-debian12\"", root, err)
		}
		return root
	}
	// The Makefile's default PLUMBLINE_CACHE, $HOME/.cache/plumbline (or
	// under $XDG_CACHE_HOME when that is set).
	userCache, err := os.UserCacheDir()
	if err != nil {
		t.Fatalf("no cache dir for the Debian 12 root: %v", err)
	}
	cache := filepath.Join(userCache, "plumbline")
	start := time.Now()
	cmd := exec.Command(filepath.Join(rootfsScripts, "build-debian12.sh"), cache)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		if out := strings.TrimSpace(stderr.String()); out != "" {
			t.Logf("built the Debian 12 root in %s:\n%s", time.Since(start).Round(time.Second), out)
		}
	case errors.As(err, &exitErr) && exitErr.ExitCode() == 75:
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		t.Skipf("Debian 12 root unavailable: %s", lines[len(lines)-1])
	default:
		t.Fatalf("build-debian12.sh %s: %v\n%s", cache, err, stderr.String())
	}
	return filepath.Join(cache, "debian12")
}

// scanDebian12 scans root with the baseline the agent picks for it and
// returns the validated report and how long the agent ran.
func scanDebian12(t *testing.T, root string) (*report.Report, time.Duration) {
	t.Helper()
	start := time.Now()
	stdout, stderr, code := runAgent(t, "scan", "--root", root, "--host-id", debian12HostID, "--format", "json")
	took := time.Since(start).Round(time.Millisecond)
	// 2: some check FAILs (both trees have FAILs); 1 would be an ERROR
	// without FAIL or the agent itself failing.
	if code != 2 && code != 0 {
		t.Fatalf("scan --root %s: exit %d\nstderr:\n%s", root, code, stderr)
	}
	r, err := report.Decode([]byte(stdout))
	if err != nil {
		t.Fatalf("scan --root %s: %v\nstderr:\n%s", root, err, stderr)
	}
	return r, took
}

// checkStatuses asserts the table against the report, that every ERROR says
// why, and logs the counts.
func checkStatuses(t *testing.T, r *report.Report, table []statusWant) {
	t.Helper()
	byID := make(map[string]checks.Result, len(r.Results))
	for _, res := range r.Results {
		byID[res.ID] = res
		if res.Status == checks.StatusError && strings.TrimSpace(res.Message) == "" {
			t.Errorf("%s: ERROR without a message", res.ID)
		}
	}
	seen := map[string]bool{}
	for _, w := range table {
		if seen[w.id] {
			t.Errorf("%s: listed twice in the table", w.id)
		}
		seen[w.id] = true
		got, ok := byID[w.id]
		if !ok {
			t.Errorf("%s: not in the report (baseline %s); want %s because %s", w.id, r.Baseline.Name, w.want, w.why)
			continue
		}
		if got.Status != w.want {
			ev, _ := json.MarshalIndent(got.Evidence, "\t", "  ")
			t.Errorf("%s: %s, want %s (%s)\n\tmessage: %s\n\tevidence: %s", w.id, got.Status, w.want, w.why, got.Message, ev)
		}
	}
	s := r.Summary
	t.Logf("%d results: %d pass, %d fail, %d error, %d not applicable, %d skipped; %d asserted here",
		len(r.Results), s.Pass, s.Fail, s.Error, s.NotApplicable, s.Skipped, len(table))
	var unlisted []string
	for _, res := range r.Results {
		if !seen[res.ID] {
			unlisted = append(unlisted, res.ID+"="+res.Status.String())
		}
	}
	if len(unlisted) > 0 {
		t.Logf("not in the table (add them): %s", strings.Join(unlisted, " "))
	}
}
