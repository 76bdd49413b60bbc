package declarative

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/checktest"
)

// head is a valid check's metadata, to which a test appends its test.
const head = `schema: plumbline.checks/v1
checks:
  - id: t.check
    title: A check
    severity: low
    rationale: Because.
    remediation: Fix it.
`

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string // each "line: substring"
	}{
		{"unknown probe", head + "    test:\n      flie: /etc/passwd\n", []string{"9: check t.check: test: no probe: want one of file, glob"}},
		{"two probes", head + "    test:\n      file: /a\n      glob: /b\n", []string{"10: check t.check: test: two probes (file and glob)"}},
		{"unknown field", head + "    test:\n      file: /a\n      colour: red\n", []string{`10: check t.check: test: file: unknown key "colour" (options: follow; fields: exists, gid, group, mode, owner, path, size, type, uid`}},
		{"wrong type", head + "    test:\n      file: /a\n      uid: {lt: ten}\n", []string{`10: check t.check: test: file: uid: lt: "ten" is not an integer`}},
		{"bad bool", head + "    test:\n      package: x\n      installed: perhaps\n", []string{`10: check t.check: test: package: installed: eq: "perhaps" is not a boolean`}},
		{"bad mode", head + "    test:\n      file: /a\n      mode: {mode_at_most: \"0999\"}\n", []string{`10: check t.check: test: file: mode: mode_at_most: "0999" is not an octal mode`}},
		{"matcher for kind", head + "    test:\n      file: /a\n      exists: {regex: x}\n", []string{"10: check t.check: test: file: exists: matcher regex does not apply to a boolean field (want eq, ne)"}},
		{"bad field reference", head + "    test:\n      users: {}\n      home_uid: {field: colour}\n", []string{`10: check t.check: test: users: home_uid: eq: unknown field "colour"`}},
		{"bad regex", head + "    test:\n      lines: /etc/a\n      regex: \"(x\"\n", []string{"f.yaml:10: check t.check: test: lines: regex: missing closing )"}},
		{"bad regex matcher", head + "    test:\n      lines: /etc/a\n      line: {regex: \"[z-a]\"}\n", []string{"10: check t.check: test: lines: line: regex: bad regular expression: invalid character class range"}},
		{"unknown key in check", head + "    colour: blue\n    test: {file: /a, exists: true}\n", []string{`8: check t.check: unknown key "colour"`}},
		{"missing test", head, []string{`3: check t.check: missing required key "test"`}},
		{"unknown param", head + "    test:\n      file: /a\n      uid: {le: {param: max}}\n", []string{`10: check t.check: test: file: uid: le: unknown parameter "max"`}},
		{"group with extra key", head + "    test:\n      all:\n        - {file: /a, exists: true}\n      match: any\n", []string{`check t.check: test: all: a group has only the one key all`}},
		{"empty group", head + "    test:\n      any: []\n", []string{"9: check t.check: test: any: want a non-empty list"}},
		{"unknown platform", head + "    cis: {debian:11: \"1.1\"}\n    test: {file: /a, exists: true}\n", []string{`8: check t.check: cis: unknown platform "debian:11"`}},
		{"bad control", head + "    cis: {debian:12: \"one\"}\n    test: {file: /a, exists: true}\n", []string{`8: check t.check: cis: debian:12: "one" is not a control number`}},
		{"required option", head + "    test:\n      kv: /etc/login.defs\n      value: 1\n", []string{`9: check t.check: test: kv: missing required option "key"`}},
		{"duplicate id", head + "    test: {file: /a, exists: true}\n" + strings.TrimPrefix(head, "schema: plumbline.checks/v1\nchecks:\n") + "    test: {file: /a, exists: true}\n",
			[]string{"9: check t.check is already defined at f.yaml:3"}},
		{"bad schema", strings.Replace(head, "v1", "v9", 1) + "    test: {file: /a, exists: true}\n", []string{`1: schema "plumbline.checks/v9" is not supported`}},
		{"not yaml", "checks: [\n", []string{"f.yaml:1: not valid YAML"}},
		{"bad id", strings.Replace(head, "t.check", "Check", 1) + "    test: {file: /a, exists: true}\n", []string{`3: check id "Check": want dotted lower case`}},
		{"unique with matchers", head + "    test:\n      users: {}\n      unique: uid\n      shell: /bin/bash\n", []string{"9: check t.check: test: users: unique finds duplicates on its own"}},
		{"int parameter as mode", head + "    params:\n      - {name: m, kind: int, default: 0640, doc: mode}\n    test:\n      file: /etc/passwd\n      mode: {mode_at_most: {param: m}}\n", []string{"12: check t.check: test: file: mode: mode_at_most: parameter m is int; a mode needs a string parameter"}},
		{"matcher twice", head + "    test:\n      file: /etc/passwd\n      exists: {eq: true, eq: false}\n", []string{"matcher eq given twice"}},
		{"where field twice", head + "    test:\n      users: {}\n      where: {uid: 0, uid: 1}\n      name: root\n", []string{`where: field "uid" given twice`}},
		{"relative path", head + "    test:\n      file: etc/passwd\n      exists: true\n", []string{`9: check t.check: test: file: "etc/passwd": want an absolute path`}},
		{"relative dropins", head + "    test:\n      kv: /etc/a\n      key: x\n      dropins: a.d/*\n      value: 1\n", []string{`dropins: "a.d/*": want an absolute path`}},
		{"home_files takes a name", head + "    test: {home_files: /root/.netrc, match: none}\n", []string{"want a file name or pattern inside each home directory"}},
		{"group shadows an option", head + "    test:\n      lines: /etc/a\n      regex: '(?P<comments>x)'\n", []string{`group name "comments" is a key of the assertion already`}},
		{"regex parameter default", head + "    params:\n      - {name: re, kind: string, default: \"(bash\", doc: shells}\n    test:\n      users: {}\n      shell: {regex: {param: re}}\n", []string{`parameter re: default "(bash": missing closing )`}},
		{"group shadows a field", head + "    test:\n      lines: /etc/a\n      regex: '(?P<path>x)'\n", []string{`group name "path" is a key of the assertion already`}},
		{"several at once", head + "    level: 3\n    test:\n      all:\n        - {sysctl: a.b, value: {gt: x}}\n        - {glob: \"/etc/[\", exists: true}\n",
			[]string{"8: check t.check: level: want 1 or 2", `11: check t.check: test: all: sysctl: value: gt: "x" is not an integer`, "12: check t.check: test: all: glob: bad glob pattern"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("f.yaml", []byte(tt.src))
			if err == nil {
				t.Fatal("parsed without error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// run parses one check (head + test) and runs it on a tree of files.
func run(t *testing.T, test string, files map[string]string, params map[string]any) checks.Result {
	t.Helper()
	cs, err := Parse("f.yaml", []byte(head+test))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	root := t.TempDir()
	for p, content := range files {
		real := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(content, "->") {
			if err := os.Symlink(strings.TrimPrefix(content, "->"), real); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(real, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := checks.Resolve(cs[0].Meta().Params, params)
	if err != nil {
		t.Fatal(err)
	}
	return checks.Evaluate(context.Background(), checktest.Host(t, root), cs[0], p, checks.DefaultTimeout)
}

func TestSemantics(t *testing.T) {
	t.Parallel()
	sshd := "    test:\n      sshd: MaxAuthTries\n      default: \"6\"\n      value: {le: 4}\n"
	tests := []struct {
		name    string
		test    string
		files   map[string]string
		params  map[string]any
		want    checks.Status
		message string
	}{
		{"sshd first value wins", sshd, map[string]string{"/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nMaxAuthTries 6\n", "/etc/ssh/sshd_config.d/10.conf": "maxauthtries=3\n"}, nil, checks.StatusPass, "MaxAuthTries: 3 at /etc/ssh/sshd_config.d/10.conf:1"},
		{"sshd default applies", sshd, map[string]string{"/etc/ssh/sshd_config": "UsePAM yes\n"}, nil, checks.StatusFail, "MaxAuthTries (default): 6 (want ≤ 4)"},
		{"sshd match block", sshd, map[string]string{"/etc/ssh/sshd_config": "MaxAuthTries 3\nMatch User backup\n  MaxAuthTries 10\n"}, nil, checks.StatusFail, "MaxAuthTries in Match User backup: 10 (want ≤ 4) at /etc/ssh/sshd_config:3"},
		{"sshd match ends with included file", sshd, map[string]string{"/etc/ssh/sshd_config": "Include /etc/ssh/m.conf\nMaxAuthTries 3\n", "/etc/ssh/m.conf": "Match User x\n  X11Forwarding no\n"}, nil, checks.StatusPass, ""},
		{"sshd include loop", sshd, map[string]string{"/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config\n"}, nil, checks.StatusError, "nested too deeply"},
		{"kv dropins last wins", "    test:\n      kv: /etc/a.conf\n      key: minlen\n      separator: \"=\"\n      dropins: /etc/a.conf.d/*.conf\n      value: {ge: 14}\n",
			map[string]string{"/etc/a.conf": "minlen = 8\n", "/etc/a.conf.d/50.conf": "# minlen = 1\nminlen=14\n"}, nil, checks.StatusPass, "minlen: 14 at /etc/a.conf.d/50.conf:2"},
		{"kv not set", "    test:\n      kv: /etc/login.defs\n      key: UMASK\n      value: \"027\"\n", map[string]string{"/etc/login.defs": "PASS_MAX_DAYS 99999\n"}, nil, checks.StatusFail, "UMASK is not set in /etc/login.defs"},
		{"ini dropin", "    test:\n      ini: /etc/systemd/journald.conf\n      section: Journal\n      key: Storage\n      dropins: /etc/systemd/journald.conf.d/*.conf\n      value: persistent\n",
			map[string]string{"/etc/systemd/journald.conf": "[Journal]\n#Storage=auto\n", "/etc/systemd/journald.conf.d/60.conf": "[Journal]\nStorage=persistent\n"}, nil, checks.StatusPass, ""},
		{"sysctl etc hides usr lib of same name", "    test: {sysctl: kernel.x, value: 2}\n",
			map[string]string{"/usr/lib/sysctl.d/50-x.conf": "kernel.x = 0\n", "/etc/sysctl.d/50-x.conf": "kernel.x = 2\n"}, nil, checks.StatusPass, ""},
		{"sysctl later name wins", "    test: {sysctl: kernel.x, value: 2}\n",
			map[string]string{"/usr/lib/sysctl.d/99-x.conf": "kernel.x=0\n", "/etc/sysctl.d/50-x.conf": "kernel.x = 2\n"}, nil, checks.StatusFail, "99-x.conf:1"},
		{"sysctl.conf last", "    test: {sysctl: kernel.x, value: 2}\n",
			map[string]string{"/etc/sysctl.d/99-x.conf": "kernel.x=2\n", "/etc/sysctl.conf": "kernel/x = 1\n"}, nil, checks.StatusFail, "/etc/sysctl.conf:1"},
		{"any: true beats error", "    test:\n      any:\n        - {sshd: X, value: y}\n        - {file: /etc/a, exists: true}\n",
			map[string]string{"/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config\n", "/etc/a": ""}, nil, checks.StatusPass, ""},
		{"all: false beats error", "    test:\n      all:\n        - {sshd: X, value: y}\n        - {file: /etc/a, exists: true}\n",
			map[string]string{"/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config\n"}, nil, checks.StatusFail, ""},
		{"all: error otherwise", "    test:\n      all:\n        - {sshd: X, value: y}\n        - {file: /etc/a, exists: true}\n",
			map[string]string{"/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config\n", "/etc/a": ""}, nil, checks.StatusError, "nested too deeply"},
		{"none group", "    test:\n      none:\n        - {package: telnet, installed: true}\n",
			map[string]string{"/var/lib/dpkg/status": "Package: telnet\nStatus: install ok installed\nVersion: 0.17\n\n"}, nil, checks.StatusFail, "package telnet installed: true (want not (true))"},
		{"match none over lines", "    test:\n      lines: /etc/sudoers.d/*\n      regex: NOPASSWD\n      match: none\n",
			map[string]string{"/etc/sudoers.d/a": "# NOPASSWD is bad\n%admin ALL=(ALL) ALL\n", "/etc/sudoers.d/b": "deploy ALL=(ALL) NOPASSWD: ALL\n"}, nil, checks.StatusFail, "/etc/sudoers.d/b:1"},
		{"match none nothing found", "    test:\n      lines: /etc/sudoers.d/*\n      regex: NOPASSWD\n      match: none\n",
			map[string]string{"/etc/sudoers.d/a": "# NOPASSWD is bad\n"}, nil, checks.StatusPass, ""},
		{"unique", "    test: {users: {}, unique: uid}\n", map[string]string{"/etc/passwd": "root:x:0:0::/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\nbin:x:2:2::/bin:/usr/sbin/nologin\n"}, nil, checks.StatusFail, "uid 0: shared by user root (line 1), user toor (line 2)"},
		{"where", "    test:\n      users: {}\n      where: {uid: 0}\n      name: root\n", map[string]string{"/etc/passwd": "root:x:0:0::/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\n"}, nil, checks.StatusFail, "user toor name: toor (want root)"},
		{"absent pass", "    test:\n      file: /etc/cron.deny\n      absent: pass\n      mode: {mode_at_most: \"0640\"}\n", nil, nil, checks.StatusPass, "/etc/cron.deny: does not exist"},
		{"absent fail", "    test:\n      file: /etc/cron.allow\n      mode: {mode_at_most: \"0640\"}\n", nil, nil, checks.StatusFail, "/etc/cron.allow mode: does not exist"},
		{"param", "    params:\n      - {name: max, kind: int, default: 4, doc: most tries}\n" + strings.Replace(sshd, "{le: 4}", "{le: {param: max}}", 1),
			map[string]string{"/etc/ssh/sshd_config": "MaxAuthTries 5\n"}, map[string]any{"max": 5}, checks.StatusPass, ""},
		{"one_of param", "    params:\n      - {name: ok, kind: string_list, default: [no], doc: allowed}\n    test: {sshd: PermitRootLogin, value: {one_of: {param: ok}}}\n",
			map[string]string{"/etc/ssh/sshd_config": "PermitRootLogin Prohibit-Password\n"}, map[string]any{"ok": []any{"no", "prohibit-password"}}, checks.StatusPass, ""},
		{"version", "    test: {package: sudo, version: {ge: \"1.9.13p3-1\"}}\n",
			map[string]string{"/var/lib/dpkg/status": "Package: sudo\nStatus: install ok installed\nVersion: 1.9.13p3-1+deb12u1\n\n"}, nil, checks.StatusPass, ""},
		{"when false", "    when: {package: openssh-server, installed: true}\n    test: {file: /etc/ssh/sshd_config, exists: true}\n",
			map[string]string{"/var/lib/dpkg/status": "Package: sudo\nStatus: install ok installed\nVersion: 1\n\n"}, nil, checks.StatusNotApplicable, "package openssh-server installed: false"},
		{"when cannot decide", "    when: {package: openssh-server, installed: true}\n    test: {file: /etc/ssh/sshd_config, exists: true}\n",
			nil, nil, checks.StatusError, "cannot tell whether the check applies: package openssh-server: package database"},
		{"pam args", "    test:\n      pam: common-password\n      type: password\n      module: pam_pwquality.so\n      arg.retry: {le: 3}\n",
			map[string]string{"/etc/pam.d/common-password": "password requisite pam_pwquality.so retry=3\npassword [success=1 default=ignore] pam_unix.so obscure use_authtok\n"}, nil, checks.StatusPass, "password requisite pam_pwquality arg.retry: 3 at /etc/pam.d/common-password:1"},
		{"lines named group", "    test:\n      lines: /etc/audit/auditd.conf\n      regex: '^\\s*max_log_file\\s*=\\s*(?P<size>\\d+)'\n      size: {ge: 8}\n",
			map[string]string{"/etc/audit/auditd.conf": "max_log_file = 6\n"}, nil, checks.StatusFail, "size: 6 (want ≥ 8)"},
		{"mount from fstab", "    test:\n      mount: /tmp\n      options: {contains: nodev}\n",
			map[string]string{"/etc/fstab": "UUID=1 / ext4 defaults 0 1\ntmpfs /tmp tmpfs defaults,nosuid 0 0\n"}, nil, checks.StatusFail, "/tmp options: defaults,nosuid (want contains nodev) at /etc/fstab:2"},
		{"mount from systemd unit", "    test:\n      mount: /tmp\n      options: {contains: nodev}\n",
			map[string]string{"/usr/lib/systemd/system/tmp.mount": "[Mount]\nWhat=tmpfs\nWhere=/tmp\nType=tmpfs\nOptions=mode=1777,strictatime,nosuid,nodev,size=50%\n",
				"/etc/systemd/system/local-fs.target.wants/tmp.mount": "->/usr/lib/systemd/system/tmp.mount"}, nil, checks.StatusPass, ""},
		{"field reference", "    test:\n      users: {}\n      where: {uid: {ge: 1000}}\n      home_uid: {field: uid}\n",
			map[string]string{"/etc/passwd": "root:x:0:0::/root:/bin/bash\nalice:x:1000:1000::/etc:/bin/bash\n"}, nil, checks.StatusFail, "user alice home_uid: 0 (want its uid)"},
		{"regex on empty value", "    test:\n      users: {}\n      where: {shell: {regex: \"^$\"}}\n      match: none\n",
			map[string]string{"/etc/passwd": "root:x:0:0::/root:/bin/bash\nsync:x:4:65534::/bin:\n"}, nil, checks.StatusFail, "user sync"},
		{"not_regex", "    test:\n      users: {}\n      where: {shell: {not_regex: \"nologin|false$\"}}\n      name: root\n",
			map[string]string{"/etc/passwd": "root:x:0:0::/root:/bin/bash\nbin:x:2:2::/bin:/usr/sbin/nologin\n"}, nil, checks.StatusPass, ""},
		{"glob skips directories", "    test:\n      ini: /etc/dconf/db/*.d/*\n      section: org/gnome/login-screen\n      key: disable-user-list\n      value: \"true\"\n",
			map[string]string{"/etc/dconf/db/gdm.d/00-login": "[org/gnome/login-screen]\ndisable-user-list=true\n", "/etc/dconf/db/gdm.d/locks/00-login": "/org/gnome/login-screen/disable-user-list\n"}, nil, checks.StatusPass, ""},
		{"presence shows what was found", "    test:\n      lines: /etc/audit/rules.d/*.rules\n      regex: sudoers\n",
			map[string]string{"/etc/audit/rules.d/50.rules": "-w /etc/sudoers -p wa -k scope\n"}, nil, checks.StatusPass, "/etc/audit/rules.d/50.rules:1: -w /etc/sudoers -p wa -k scope"},
		{"sshd comment ends the value", sshd, map[string]string{"/etc/ssh/sshd_config": "MaxAuthTries 4 # CIS 5.1.16\n"}, nil, checks.StatusPass, "MaxAuthTries: 4 at"},
		{"sshd quoted value", "    test: {sshd: Banner, value: /etc/issue net}\n", map[string]string{"/etc/ssh/sshd_config": "Banner \"/etc/issue net\"\n"}, nil, checks.StatusPass, ""},
		{"sshd Match all overrides", "    test: {sshd: PermitRootLogin, value: \"no\"}\n", map[string]string{"/etc/ssh/sshd_config": "PermitRootLogin yes\nMatch all\nPermitRootLogin no\n"}, nil, checks.StatusPass, "PermitRootLogin (Match all): no"},
		{"sysctl dropin masked by /dev/null", "    test: {sysctl: kernel.x, value: 2}\n",
			map[string]string{"/usr/lib/sysctl.d/50-x.conf": "kernel.x = 0\n", "/etc/sysctl.d/50-x.conf": "->/dev/null", "/etc/sysctl.d/60-y.conf": "kernel.x = 2\n"}, nil, checks.StatusPass, ""},
		{"sysctl slash key keeps dots", "    test: {sysctl: net.ipv4.conf.eth0/100.rp_filter, value: 1}\n",
			map[string]string{"/etc/sysctl.d/60.conf": "net/ipv4/conf/eth0.100/rp_filter = 1\n", "/proc/sys/net/ipv4/conf/eth0.100/rp_filter": "1\n"}, nil, checks.StatusPass, "/proc/sys/net/ipv4/conf/eth0.100/rp_filter"},
		{"presence of a missing package fails", "    test: {package: aide}\n",
			map[string]string{"/var/lib/dpkg/status": "Package: sudo\nStatus: install ok installed\nVersion: 1\n\n"}, nil, checks.StatusFail, "package aide: not installed"},
		{"match none of a missing file passes", "    test: {file: /etc/hosts.equiv, match: none}\n", nil, nil, checks.StatusPass, "/etc/hosts.equiv: does not exist"},
		{"NIS lines in passwd", "    test: {file: /etc/issue, owner: root}\n",
			map[string]string{"/etc/passwd": "root:x:0:0::/root:/bin/bash\n+\n", "/etc/issue": "x\n"}, nil, checks.StatusPass, ""},
		{"malformed passwd does not stop file checks", "    test: {file: /etc/issue, owner: root}\n",
			map[string]string{"/etc/passwd": "root:x:0:0::/root:/bin/bash\nbroken\n", "/etc/issue": "x\n"}, nil, checks.StatusPass, ""},
		{"mount unit drop-in", "    test:\n      mount: /tmp\n      options: {contains: noexec}\n",
			map[string]string{"/usr/lib/systemd/system/tmp.mount": "[Mount]\nWhat=tmpfs\nWhere=/tmp\nType=tmpfs\nOptions=mode=1777,nosuid,nodev\n",
				"/etc/systemd/system/tmp.mount.d/override.conf":       "[Mount]\nOptions=mode=1777,nosuid,nodev,noexec\n",
				"/etc/systemd/system/local-fs.target.wants/tmp.mount": "->/usr/lib/systemd/system/tmp.mount"}, nil, checks.StatusPass, "override.conf:2"},
		{"group_exists joins /etc/group", "    test: {users: {}, group_exists: true}\n",
			map[string]string{"/etc/passwd": "root:x:0:0::/root:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/bash\n", "/etc/group": "root:x:0:\n"}, nil, checks.StatusFail, "user bob group_exists: false"},
		{"shell_listed joins /etc/shells", "    test:\n      users: {}\n      where: {shell_listed: false}\n      password_state: {one_of: [locked, no login]}\n      absent: pass\n",
			map[string]string{"/etc/passwd": "root:x:0:0::/root:/bin/bash\nsvc:x:999:999::/srv:/usr/sbin/nologin\n", "/etc/shells": "/bin/bash\n", "/etc/shadow": "root:$y$j9T$a$b:19000:0:99999:7:::\nsvc:$y$j9T$a$b:19000:0:99999:7:::\n"}, nil, checks.StatusFail, "user svc password_state: password set"},
		{"last change in the future", "    test:\n      shadow: {}\n      where: {last_change: {gt: 0}}\n      last_change_in_future: false\n",
			map[string]string{"/etc/shadow": "root:*:19000:0:99999:7:::\nfuture:*:99999:0:99999:7:::\n"}, nil, checks.StatusFail, "account future last_change_in_future: true"},
		{"home files of interactive users", "    test: {home_files: .netrc, match: none}\n",
			map[string]string{"/etc/passwd": "root:x:0:0::/root:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/bash\nsvc:x:999:999::/srv:/usr/sbin/nologin\n", "/etc/shells": "/bin/bash\n",
				"/home/bob/.netrc": "machine x\n", "/srv/.netrc": "machine y\n"}, nil, checks.StatusFail, "user bob: /home/bob/.netrc"},
		{"home files: none found passes", "    test: {home_files: .rhosts, match: none}\n",
			map[string]string{"/etc/passwd": "root:x:0:0::/root:/bin/bash\n", "/etc/shells": "/bin/bash\n", "/root/.bashrc": ""}, nil, checks.StatusPass, ""},
		{"lines follows includes", "    test:\n      lines: /etc/nftables.conf\n      include: '^\\s*include\\s+\"(?P<path>[^\"]+)\"'\n      regex: 'hook input .*policy drop'\n",
			map[string]string{"/etc/nftables.conf": "#!/usr/sbin/nft -f\nflush ruleset\ninclude \"/etc/nftables.d/*.nft\"\n", "/etc/nftables.d/10-filter.nft": "table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n  }\n}\n"},
			nil, checks.StatusPass, "/etc/nftables.d/10-filter.nft:3:"},
		{"include keeps line numbers after it", "    test:\n      lines: /etc/a.conf\n      include: '^include (?P<path>\\S+)'\n      regex: '^last'\n",
			map[string]string{"/etc/a.conf": "first\ninclude b.conf\nlast\n", "/etc/b.conf": "middle\n"}, nil, checks.StatusPass, "/etc/a.conf:3:"},
		{"include loop", "    test:\n      lines: /etc/a.conf\n      include: '^include (?P<path>\\S+)'\n      regex: x\n",
			map[string]string{"/etc/a.conf": "include a.conf\n"}, nil, checks.StatusError, "nested too deeply"},
		{"sshd single quotes group", "    test:\n      sshd: Ciphers\n      value: {not_regex: cbc}\n", map[string]string{"/etc/ssh/sshd_config": "Ciphers '3des-cbc,aes128-ctr'\n"}, nil, checks.StatusFail, "Ciphers: 3des-cbc,aes128-ctr"},
		{"sshd quoted keyword value", "    test: {sshd: PermitRootLogin, value: \"no\"}\n", map[string]string{"/etc/ssh/sshd_config": "PermitRootLogin 'no'\n"}, nil, checks.StatusPass, ""},
		{"sshd unclosed quote", "    test: {sshd: PermitRootLogin, value: \"no\"}\n", map[string]string{"/etc/ssh/sshd_config": "Banner \"/etc/issue.net\n"}, nil, checks.StatusError, "unterminated quoted argument"},
		{"sshd Match after Match all changes nothing", "    test: {sshd: PermitRootLogin, value: \"no\"}\n",
			map[string]string{"/etc/ssh/sshd_config": "PermitRootLogin yes\nMatch all\nPermitRootLogin no\nMatch User admin\nPermitRootLogin yes\n"}, nil, checks.StatusPass, ""},
		{"include relative to include_dir", "    test:\n      lines: /etc/sysconfig/nftables.conf\n      include: '^\\s*include\\s+\"(?P<path>[^\"]+)\"'\n      include_dir: /etc\n      regex: 'policy drop'\n",
			map[string]string{"/etc/sysconfig/nftables.conf": "include \"nftables/main.nft\"\n", "/etc/nftables/main.nft": "chain input { type filter hook input priority 0; policy drop; }\n"}, nil, checks.StatusPass, ""},
		{"missing literal include", "    test:\n      lines: /etc/nftables.conf\n      include: '^\\s*include\\s+\"(?P<path>[^\"]+)\"'\n      regex: 'policy drop'\n",
			map[string]string{"/etc/nftables.conf": "include \"/etc/nftables.d/missing.nft\"\nchain input { type filter hook input priority 0; policy drop; }\n"}, nil, checks.StatusFail, "include /etc/nftables.d/missing.nft does not exist, so nothing in /etc/nftables.conf is loaded"},
		{"too many includes are refused before reading", "    test:\n      lines: /etc/a.conf\n      include: '^include (?P<path>\\S+)'\n      regex: x\n",
			manyFiles(300), nil, checks.StatusError, "more than 256 files through includes"},
		{"malformed group file leaves group_exists unset", "    test:\n      users: {}\n      where: {name: root}\n      uid: 0\n",
			map[string]string{"/etc/passwd": "root:x:0:0::/root:/bin/bash\n", "/etc/group": "root:x:0:\nbroken line\n"}, nil, checks.StatusPass, ""},
		{"masked mount drop-in without /dev/null", "    test:\n      mount: /tmp\n      options: {contains: nodev}\n",
			map[string]string{"/usr/lib/systemd/system/tmp.mount": "[Mount]\nWhat=tmpfs\nType=tmpfs\nOptions=nosuid,nodev\n", "/etc/systemd/system/tmp.mount.d/50-x.conf": "->/dev/null",
				"/etc/systemd/system/local-fs.target.wants/tmp.mount": "->/usr/lib/systemd/system/tmp.mount"}, nil, checks.StatusPass, ""},
		{"home with glob characters", "    test: {home_files: .netrc, match: none}\n",
			map[string]string{"/etc/passwd": "root:x:0:0::/root:/bin/bash\nbob:x:1001:1001::/home/b[o]b:/bin/bash\n", "/etc/shells": "/bin/bash\n", "/home/b[o]b/.netrc": "x\n"}, nil, checks.StatusFail, "/home/b[o]b/.netrc"},
		{"ini read as systemd does", "    test:\n      ini: /etc/systemd/journald.conf\n      systemd: true\n      section: Journal\n      key: Storage\n      value: persistent\n",
			map[string]string{"/usr/lib/systemd/journald.conf": "[Journal]\n#Storage=auto\n", "/usr/lib/systemd/journald.conf.d/10-vendor.conf": "[Journal]\nStorage=volatile\n",
				"/run/systemd/journald.conf.d/60-cis.conf": "[Journal]\nStorage=persistent\n"}, nil, checks.StatusPass, "/run/systemd/journald.conf.d/60-cis.conf:2"},
		{"ini systemd drop-in hidden by /etc", "    test:\n      ini: /etc/systemd/journald.conf\n      systemd: true\n      section: Journal\n      key: Storage\n      value: persistent\n",
			map[string]string{"/etc/systemd/journald.conf": "[Journal]\n", "/usr/lib/systemd/journald.conf.d/60-cis.conf": "[Journal]\nStorage=persistent\n",
				"/etc/systemd/journald.conf.d/60-cis.conf": "->/dev/null"}, nil, checks.StatusFail, "Storage is not set"},
		{"not a number fails", "    test: {sysctl: kernel.x, value: {ge: 2}}\n", map[string]string{"/etc/sysctl.conf": "kernel.x = on\n"}, nil, checks.StatusFail, "kernel.x (configured): on (want ≥ 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, tt.test, tt.files, tt.params)
			if r.Status != tt.want || !strings.Contains(r.Message, tt.message) {
				t.Errorf("status %s, want %s; message %q, want it to contain %q\nevidence: %+v", r.Status, tt.want, r.Message, tt.message, r.Evidence)
			}
		})
	}
}

func TestEvidenceIsBounded(t *testing.T) {
	t.Parallel()
	files := map[string]string{}
	for i := range 50 {
		files["/etc/many/f"+strings.Repeat("x", i)] = ""
	}
	r := run(t, "    test:\n      glob: /etc/many/*\n      mode: {mode_at_most: \"0600\"}\n", files, nil)
	if r.Status != checks.StatusFail {
		t.Fatalf("status %s", r.Status)
	}
	if len(r.Evidence) != maxEvidence+1 || !strings.Contains(r.Evidence[maxEvidence].Actual, "30 more items not shown (30 of them failing)") {
		t.Errorf("%d evidence items, last %+v", len(r.Evidence), r.Evidence[len(r.Evidence)-1])
	}
	if !strings.Contains(r.Message, "and 18 more (30 more items not shown (30 of them failing))") {
		t.Errorf("message %q", r.Message)
	}
}

// Built-in content skips the regex syntax check at load; CompileAll is
// what its tests use instead, and it must catch what Parse would.
func TestParseBuiltinLeavesRegexToCompileAll(t *testing.T) {
	t.Parallel()
	src := head + "    test:\n      users: {}\n      shell: {regex: \"(bash\"}\n"
	if _, err := Parse("f.yaml", []byte(src)); err == nil {
		t.Fatal("Parse accepted a bad regex")
	}
	cs, err := ParseBuiltin("f.yaml", []byte(src))
	if err != nil {
		t.Fatalf("ParseBuiltin: %v", err)
	}
	if err := CompileAll(cs); err == nil || !strings.Contains(err.Error(), "t.check (f.yaml:3): regex \"(bash\"") {
		t.Errorf("CompileAll: %v", err)
	}
}

// manyFiles is a tree whose /etc/a.conf includes n files.
func manyFiles(n int) map[string]string {
	files := map[string]string{"/etc/a.conf": "include /etc/many/*\n"}
	for i := range n {
		files[fmt.Sprintf("/etc/many/%03d", i)] = "x\n"
	}
	return files
}

func TestEvidenceClipKeepsUTF8(t *testing.T) {
	t.Parallel()
	s := clip(strings.Repeat("é", maxActual))
	if !utf8.ValidString(s) || !strings.Contains(s, "bytes)") {
		t.Errorf("clip: %q", s[len(s)-20:])
	}
}

func TestRegexParameterFromBaseline(t *testing.T) {
	t.Parallel()
	cs, err := Parse("f.yaml", []byte(head+"    params:\n      - {name: re, kind: string, default: sh$, doc: shells}\n    test:\n      users: {}\n      shell: {regex: {param: re}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cs[0].ValidateParams(checks.Params{"re": "(bash"}); err == nil || !strings.Contains(err.Error(), `parameter re: "(bash" is not a regular expression`) {
		t.Errorf("ValidateParams: %v", err)
	}
	if err := cs[0].ValidateParams(checks.Params{"re": "bash$"}); err != nil {
		t.Errorf("ValidateParams: %v", err)
	}
}
