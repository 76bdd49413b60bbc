package sudolog

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/checktest"
)

func lookup(t *testing.T, id string) checks.Check {
	t.Helper()
	c, ok := checks.Lookup(id)
	if !ok {
		t.Fatalf("check %s is not registered", id)
	}
	return c
}

// evidence returns the evidence item with the key, failing the test if
// there is none.
func evidence(t *testing.T, r checks.Result, key string) checks.Evidence {
	t.Helper()
	for _, e := range r.Evidence {
		if e.Key == key {
			return e
		}
	}
	t.Fatalf("no evidence %q in %+v", key, r.Evidence)
	return checks.Evidence{}
}

func TestChecks(t *testing.T) {
	t.Parallel()
	const (
		pass = checks.StatusPass
		fail = checks.StatusFail
		erro = checks.StatusError
		na   = checks.StatusNotApplicable
	)
	tests := []struct {
		id      string
		fixture string
		params  map[string]any
		want    checks.Status
		// msg is a substring of the message; key, source and actual
		// (substrings) check one evidence item when key is set.
		msg                 string
		key, source, actual string
	}{
		// sudo.installed
		{id: "sudo.installed", fixture: "debian_stock", want: pass, key: "package", source: "/var/lib/dpkg/status", actual: "sudo 1.9.13p3-1+deb12u1"},
		{id: "sudo.installed", fixture: "no_sudo", want: fail, msg: "no package sudo or sudo-ldap"},
		{id: "sudo.installed", fixture: "no_sudo", params: map[string]any{"packages": []any{"rsyslog"}}, want: pass},
		{id: "sudo.installed", fixture: "rhel_stock", want: erro, msg: "no package database"},

		// sudo.use_pty
		{id: "sudo.use_pty", fixture: "debian_stock", want: pass, msg: "use_pty is on (Defaults use_pty)", key: "Defaults use_pty", source: "/etc/sudoers:15", actual: "on"},
		{id: "sudo.use_pty", fixture: "hardened", want: pass},
		{id: "sudo.use_pty", fixture: "rhel_stock", want: fail, msg: "Defaults use_pty is not set", key: "Defaults use_pty", actual: "not set"},
		{id: "sudo.use_pty", fixture: "dropin_override", want: pass, key: "Defaults use_pty", source: "/etc/sudoers.d/10-hardening:1"},
		{id: "sudo.use_pty", fixture: "negated_later", want: fail, msg: "turned off by Defaults !use_pty at /etc/sudoers.d/90-legacy-app:2",
			key: "Defaults use_pty", source: "/etc/sudoers.d/90-legacy-app:2", actual: "off"},
		{id: "sudo.use_pty", fixture: "scoped_negation", want: fail, msg: "turned off for some sudo rules by Defaults:deploy !use_pty",
			key: "Defaults:deploy use_pty", source: "/etc/sudoers.d/deploy:1"},
		{id: "sudo.use_pty", fixture: "includedir_skip", want: pass, key: "Defaults use_pty", source: "/etc/sudoers:15"},
		{id: "sudo.use_pty", fixture: "include_loop", want: erro, msg: "/etc/sudoers.d/b:1: include loop"},
		{id: "sudo.use_pty", fixture: "unknown_syntax", want: erro, msg: `/etc/sudoers.d/typo:3: unknown syntax "Defautls use_pty"`},
		{id: "sudo.use_pty", fixture: "no_sudo", want: fail, msg: "/etc/sudoers does not exist"},
		{id: "sudo.use_pty", fixture: "rhel_stock", params: map[string]any{"accept_builtin_default": true}, want: erro, msg: "sudo version cannot be read"},
		{id: "sudo.use_pty", fixture: "dropin_override", params: map[string]any{"accept_builtin_default": true}, want: pass},

		// sudo.logfile
		{id: "sudo.logfile", fixture: "debian_stock", want: fail, msg: "Defaults logfile is not set", key: "Defaults logfile", source: "/etc/sudoers", actual: "not set"},
		{id: "sudo.logfile", fixture: "hardened", want: pass, msg: "/var/log/sudo.log", key: "Defaults logfile", source: "/etc/sudoers.d/50-logging:2", actual: "/var/log/sudo.log"},
		{id: "sudo.logfile", fixture: "dropin_override", want: pass, key: "Defaults logfile", source: "/etc/sudoers.d/10-hardening:1", actual: "/var/log/sudo.log"},
		{id: "sudo.logfile", fixture: "rhel_stock", want: fail},
		{id: "sudo.logfile", fixture: "no_sudo", want: fail, msg: "/etc/sudoers does not exist"},
		{id: "sudo.logfile", fixture: "unknown_syntax", want: erro, msg: "/etc/sudoers.d/typo:3"},

		// sudo.logfile_permissions (modes are set at test time in TestLogfilePermissions)
		{id: "sudo.logfile_permissions", fixture: "debian_stock", want: na, msg: "no sudo logfile configured (see sudo.logfile)"},
		{id: "sudo.logfile_permissions", fixture: "no_sudo", want: na, msg: "no sudo logfile configured (see sudo.logfile)"},
		{id: "sudo.logfile_permissions", fixture: "dropin_override", want: fail, msg: "sudo creates it on first use", key: "log file", actual: "missing"},
		{id: "sudo.logfile_permissions", fixture: "include_loop", want: erro},

		// sudo.auditd_installed
		{id: "sudo.auditd_installed", fixture: "hardened", want: pass, actual: "auditd 1:3.0.9-1", key: "package"},
		{id: "sudo.auditd_installed", fixture: "debian_stock", want: fail, msg: "no package auditd or audit"},

		// sudo.auditd_enabled (fixtures are not live hosts)
		{id: "sudo.auditd_enabled", fixture: "hardened", want: pass, msg: "only enablement was judged",
			key: "auditd.service", source: "/etc/systemd/system/multi-user.target.wants/auditd.service", actual: "enabled"},
		{id: "sudo.auditd_enabled", fixture: "audit_partial", want: fail, key: "auditd.service", source: "/lib/systemd/system/auditd.service", actual: "disabled"},
		{id: "sudo.auditd_enabled", fixture: "audit_rules_file", want: fail, key: "auditd.service", actual: "masked"},
		{id: "sudo.auditd_enabled", fixture: "debian_stock", want: fail, key: "auditd.service", actual: "not installed"},

		// sudo.audit_sudoers_watched
		{id: "sudo.audit_sudoers_watched", fixture: "hardened", want: pass, key: "audit watch /etc/sudoers.d", source: "/etc/audit/rules.d/50-scope.rules:2"},
		{id: "sudo.audit_sudoers_watched", fixture: "debian_stock", want: fail, msg: "no audit rules found"},
		{id: "sudo.audit_sudoers_watched", fixture: "audit_partial", want: fail, msg: "do not watch /etc/sudoers and /etc/sudoers.d",
			key: "audit watch /etc/sudoers", source: "/etc/audit/rules.d/50-scope.rules:1", actual: "missing a"},
		{id: "sudo.audit_sudoers_watched", fixture: "audit_partial", params: map[string]any{"paths": []any{"/etc/sudoers"}, "perms": "w"}, want: pass},
		{id: "sudo.audit_sudoers_watched", fixture: "audit_rules_file", want: pass, key: "audit watch /etc/sudoers", source: "/etc/audit/audit.rules:1"},
		// CIS's audit wants a key on each rule, to find its events.
		{id: "sudo.audit_sudoers_watched", fixture: "audit_no_keys", want: fail, key: "audit watch /etc/sudoers", actual: "watched for wa but without a key (-k) by -w /etc/sudoers -p wa"},
		{id: "sudo.audit_sudoers_watched", fixture: "audit_malformed", want: erro, msg: "/etc/audit/rules.d/50-scope.rules:2: -p wz"},

		// sudo.audit_sudolog_watched
		{id: "sudo.audit_sudolog_watched", fixture: "hardened", want: pass, key: "audit watch /var/log/sudo.log", source: "/etc/audit/rules.d/50-sudo.rules:1"},
		{id: "sudo.audit_sudolog_watched", fixture: "debian_stock", want: na, msg: "no sudo logfile configured (see sudo.logfile)"},
		{id: "sudo.audit_sudolog_watched", fixture: "audit_partial", want: fail, msg: "do not watch the sudo log file /var/log/sudo.log", key: "audit watch /var/log/sudo.log", actual: "not watched"},
		{id: "sudo.audit_sudolog_watched", fixture: "audit_rules_file", want: pass},
		{id: "sudo.audit_sudolog_watched", fixture: "audit_no_keys", want: fail, key: "audit watch /var/log/sudo.log"},
		{id: "sudo.audit_sudolog_watched", fixture: "audit_malformed", want: erro},
		{id: "sudo.audit_sudolog_watched", fixture: "unknown_syntax", want: erro},

		// sudo.audit_privileged_commands
		{id: "sudo.audit_privileged_commands", fixture: "hardened", want: pass, key: "execve rule arch=b32", source: "/etc/audit/rules.d/50-user_emulation.rules:2"},
		{id: "sudo.audit_privileged_commands", fixture: "audit_partial", want: fail, msg: "for b32", key: "execve rule arch=b32", source: "/etc/audit/rules.d", actual: "missing"},
		{id: "sudo.audit_privileged_commands", fixture: "audit_partial", params: map[string]any{"arches": []any{"b64"}}, want: pass},
		{id: "sudo.audit_privileged_commands", fixture: "audit_rules_file", want: pass, key: "execve rule arch=b64", source: "/etc/audit/audit.rules:4"},
		{id: "sudo.audit_privileged_commands", fixture: "audit_no_keys", want: fail, key: "execve rule arch=b64", actual: "missing"},
		{id: "sudo.audit_privileged_commands", fixture: "debian_stock", want: fail, msg: "no audit rules found"},

		// sudo.log_forwarding
		{id: "sudo.log_forwarding", fixture: "hardened", want: pass, msg: "tcp://siem.example.com:6514",
			key: "rsyslog forwarding", source: "/etc/rsyslog.d/60-remote.conf:2", actual: "for *.*"},
		{id: "sudo.log_forwarding", fixture: "debian_stock", want: fail, msg: "rsyslog has no remote forwarding action; systemd-journal-upload is not installed"},
		{id: "sudo.log_forwarding", fixture: "rsyslog_legacy", want: pass, msg: "tcp://loghost.example.com:514 (/etc/rsyslog.d/90-remote.conf:1)",
			key: "rsyslog forwarding", source: "/etc/rsyslog.d/90-remote.conf:1"},
		{id: "sudo.log_forwarding", fixture: "rsyslog_no_authpriv", want: fail, msg: "no usable remote forwarding action",
			key: "rsyslog forwarding", source: "/etc/rsyslog.d/90-remote.conf:1", actual: "does not let authpriv.notice"},
		{id: "sudo.log_forwarding", fixture: "rsyslog_no_authpriv", params: map[string]any{"check_sudo_facility": false}, want: pass},
		{id: "sudo.log_forwarding", fixture: "rsyslog_disabled", want: fail, msg: "rsyslog.service is disabled"},
		{id: "sudo.log_forwarding", fixture: "journal_upload", want: pass, msg: "https://journal.example.com:19532",
			key: "journal-upload URL", source: "/etc/systemd/journal-upload.conf.d/50-site.conf:2"},
		{id: "sudo.log_forwarding", fixture: "journal_upload_no_url", want: fail, msg: "receives no messages from journald; systemd-journal-upload has no usable URL",
			key: "journald ForwardToSyslog", source: "/etc/systemd/journald.conf.d/10-no-forward.conf:2"},
		{id: "sudo.log_forwarding", fixture: "syslog_ng", want: erro, msg: "syslog-ng-core"},
		{id: "sudo.log_forwarding", fixture: "include_loop", want: erro, msg: "include loop"},
	}
	for _, tt := range tests {
		name := tt.id + "/" + tt.fixture
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := checktest.Expect(t, lookup(t, tt.id), filepath.Join("testdata", tt.fixture), tt.params, tt.want)
			if !strings.Contains(r.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", r.Message, tt.msg)
			}
			if r.Status == checks.StatusFail {
				failed := false
				for _, e := range r.Evidence {
					failed = failed || !e.OK
				}
				if !failed {
					t.Errorf("FAIL without an evidence item that is not OK: %+v", r.Evidence)
				}
			}
			if r.Status == checks.StatusPass {
				for _, e := range r.Evidence {
					if !e.OK {
						t.Errorf("PASS with evidence that is not OK: %+v", e)
					}
				}
			}
			if tt.key == "" {
				return
			}
			e := evidence(t, r, tt.key)
			if tt.source != "" && e.Source() != tt.source {
				t.Errorf("evidence %s from %s, want %s", tt.key, e.Source(), tt.source)
			}
			if !strings.Contains(e.Actual, tt.actual) {
				t.Errorf("evidence %s actual %q does not contain %q", tt.key, e.Actual, tt.actual)
			}
		})
	}
}

// copyTree copies a fixture tree (files, directories and symlinks) into a
// temporary directory so that a test can change modes.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestLogfilePermissions(t *testing.T) {
	t.Parallel()
	c := lookup(t, "sudo.logfile_permissions")
	me := os.Getuid()
	tests := []struct {
		mode   fs.FileMode
		params map[string]any
		want   checks.Status
		actual string // of the mode evidence
	}{
		{0o600, map[string]any{"owner_uid": me}, checks.StatusPass, "0600"},
		{0o640, map[string]any{"owner_uid": me}, checks.StatusPass, "0640"},
		{0o644, map[string]any{"owner_uid": me}, checks.StatusFail, "0644"},
		{0o660, map[string]any{"owner_uid": me}, checks.StatusFail, "0660"},
		{0o602, map[string]any{"owner_uid": me}, checks.StatusFail, "0602"},
		{0o640, map[string]any{"owner_uid": me, "max_mode": "0600"}, checks.StatusFail, "0640"},
		{0o644, map[string]any{"owner_uid": me, "max_mode": "0644"}, checks.StatusPass, "0644"},
		{0o600, map[string]any{"owner_uid": me + 1}, checks.StatusFail, "0600"},
	}
	for _, tt := range tests {
		root := copyTree(t, "testdata/hardened")
		if err := os.Chmod(filepath.Join(root, "var/log/sudo.log"), tt.mode); err != nil {
			t.Fatal(err)
		}
		r := checktest.Expect(t, c, root, tt.params, tt.want)
		if e := evidence(t, r, "mode"); e.Actual != tt.actual || e.Path != "/var/log/sudo.log" {
			t.Errorf("mode %04o: evidence %+v", tt.mode, e)
		}
		owner := evidence(t, r, "owner")
		if wantOK := tt.params["owner_uid"] == me; owner.OK != wantOK {
			t.Errorf("mode %04o params %v: owner evidence %+v", tt.mode, tt.params, owner)
		}
	}

	// A directory where the log file should be.
	root := copyTree(t, "testdata/hardened")
	p := filepath.Join(root, "var/log/sudo.log")
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	r := checktest.Expect(t, c, root, map[string]any{"owner_uid": me}, checks.StatusFail)
	if !strings.Contains(r.Message, "not a regular file") {
		t.Errorf("message %q", r.Message)
	}
}

func TestUsePtyBuiltinDefault(t *testing.T) {
	t.Parallel()
	c := lookup(t, "sudo.use_pty")
	tests := []struct {
		version string
		want    checks.Status
	}{
		{"1.9.15p5-3ubuntu5", checks.StatusPass},
		{"1.9.14", checks.StatusPass},
		{"1.9.13p3-1+deb12u1", checks.StatusFail},
	}
	for _, tt := range tests {
		root := copyTree(t, "testdata/rhel_stock")
		status := "Package: sudo\nStatus: install ok installed\nVersion: " + tt.version + "\n"
		if err := os.MkdirAll(filepath.Join(root, "var/lib/dpkg"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), []byte(status), 0o644); err != nil {
			t.Fatal(err)
		}
		r := checktest.Expect(t, c, root, map[string]any{"accept_builtin_default": true}, tt.want)
		if tt.want == checks.StatusPass && !strings.Contains(r.Message, "on by default in the installed sudo "+tt.version) {
			t.Errorf("%s: message %q", tt.version, r.Message)
		}
		// Without the parameter the explicit line is required.
		checktest.Expect(t, c, root, nil, checks.StatusFail)
	}
}

func TestLogForwardingSudoSyslogOff(t *testing.T) {
	t.Parallel()
	root := copyTree(t, "testdata/hardened")
	if err := os.WriteFile(filepath.Join(root, "etc/sudoers.d/60-nosyslog"), []byte("Defaults !syslog\n"), 0o440); err != nil {
		t.Fatal(err)
	}
	c := lookup(t, "sudo.log_forwarding")
	r := checktest.Expect(t, c, root, nil, checks.StatusFail)
	if e := evidence(t, r, "sudo syslog facility"); e.OK || e.Source() != "/etc/sudoers.d/60-nosyslog:1" {
		t.Errorf("sudo syslog evidence %+v", e)
	}
	if !strings.Contains(r.Message, "sudo does not log to syslog") {
		t.Errorf("message %q", r.Message)
	}
	checktest.Expect(t, c, root, map[string]any{"check_sudo_facility": false}, checks.StatusPass)

	// sudo logging to local7 is not forwarded by an auth,authpriv.* rule.
	root = copyTree(t, "testdata/rsyslog_legacy")
	if err := os.MkdirAll(filepath.Join(root, "etc/sudoers.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/sudoers.d/60-facility"), []byte("Defaults syslog=local7\n"), 0o440); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/sudoers"), []byte("Defaults use_pty\n@includedir /etc/sudoers.d\n"), 0o440); err != nil {
		t.Fatal(err)
	}
	r = checktest.Expect(t, c, root, nil, checks.StatusPass)
	if e := evidence(t, r, "sudo syslog facility"); e.Actual != "local7" {
		t.Errorf("facility evidence %+v", e)
	}
	if !strings.Contains(r.Message, "udp://loghost.example.com") || strings.Contains(r.Message, "tcp://") {
		t.Errorf("want only the *.*;auth,authpriv.none rule to carry local7: %q", r.Message)
	}
}

// liveHost presents a fixture tree as the running system, so that the
// process table in its proc/ directory is judged.
type liveHost struct{ checks.Host }

func (liveHost) Live() bool { return true }

func TestAuditdEnabledLive(t *testing.T) {
	t.Parallel()
	c := lookup(t, "sudo.auditd_enabled")
	p, err := checks.Resolve(c.Meta().Params, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		fixture string
		want    checks.Status
		actual  string
	}{
		{"auditd_running", checks.StatusPass, "running (pid 612)"},
		{"auditd_stopped", checks.StatusFail, "not running"},
	}
	for _, tt := range tests {
		h := liveHost{checktest.Host(t, filepath.Join("testdata", tt.fixture))}
		r := c.Run(context.Background(), h, p)
		if r.Status != tt.want {
			t.Errorf("%s: status %s, want %s: %s", tt.fixture, r.Status, tt.want, r.Message)
		}
		if e := evidence(t, r, "auditd process"); e.Actual != tt.actual {
			t.Errorf("%s: process evidence %+v", tt.fixture, e)
		}
		if strings.Contains(r.Message, "not a live host") {
			t.Errorf("%s: live host judged as not live: %s", tt.fixture, r.Message)
		}
	}
	// A live host whose /proc shows nothing cannot be judged.
	h := liveHost{checktest.Host(t, "testdata/hardened")}
	if r := c.Run(context.Background(), h, p); r.Status != checks.StatusError {
		t.Errorf("live host without /proc: status %s, want ERROR", r.Status)
	}
}

func TestParamValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id     string
		params map[string]any
		ok     bool
	}{
		{"sudo.logfile_permissions", map[string]any{"max_mode": "0640"}, true},
		{"sudo.logfile_permissions", map[string]any{"max_mode": "0680"}, false},
		{"sudo.logfile_permissions", map[string]any{"max_mode": "rw-r-----"}, false},
		{"sudo.audit_sudoers_watched", map[string]any{"perms": "wa"}, true},
		{"sudo.audit_sudoers_watched", map[string]any{"perms": "write"}, false},
		{"sudo.audit_sudolog_watched", map[string]any{"perms": ""}, false},
		{"sudo.audit_privileged_commands", map[string]any{"arches": []any{"b64"}}, true},
		{"sudo.audit_privileged_commands", map[string]any{"arches": []any{"x86_64"}}, false},
	}
	for _, tt := range tests {
		c := lookup(t, tt.id)
		v, ok := c.(checks.ParamValidator)
		if !ok {
			t.Fatalf("%s does not validate its parameters", tt.id)
		}
		p, err := checks.Resolve(c.Meta().Params, tt.params)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.ValidateParams(p); (err == nil) != tt.ok {
			t.Errorf("%s %v: error %v, want ok=%v", tt.id, tt.params, err, tt.ok)
		}
	}
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	ids := []string{
		"sudo.installed", "sudo.use_pty", "sudo.logfile", "sudo.logfile_permissions",
		"sudo.auditd_installed", "sudo.auditd_enabled", "sudo.audit_sudoers_watched",
		"sudo.audit_sudolog_watched", "sudo.audit_privileged_commands", "sudo.log_forwarding",
	}
	for _, id := range ids {
		m := lookup(t, id).Meta()
		if m.Family != "sudolog" {
			t.Errorf("%s: family %q", id, m.Family)
		}
		found := false
		for _, r := range m.References {
			found = found || (r.Framework == "security-measure" && r.Control == measure)
		}
		if !found {
			t.Errorf("%s: no security-measure reference", id)
		}
	}
}

func BenchmarkAllChecks(b *testing.B) {
	var cs []checks.Check
	for _, c := range checks.All() {
		if c.Meta().Family == family {
			cs = append(cs, c)
		}
	}
	for b.Loop() {
		h := checktest.Host(b, "testdata/hardened")
		for _, c := range cs {
			p, _ := checks.Resolve(c.Meta().Params, nil)
			c.Run(context.Background(), h, p)
		}
	}
}
