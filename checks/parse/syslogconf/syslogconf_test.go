package syslogconf

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/checktest"
)

// tree writes files (host path -> content; a path ending in "/" is a
// directory) under a temporary root and returns a Host over it.
func tree(t *testing.T, files map[string]string) checks.Host {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		real := filepath.Join(root, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(real, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(real, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return checktest.Host(t, root)
}

// fw summarises a forward for comparison.
func fw(f Forward) string {
	return f.Destination() + " [" + f.Filter.String() + "] " + f.Source()
}

func TestForwards(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		files     map[string]string
		want      []string
		wantCalls []string
	}{
		{
			name: "legacy selectors, udp and tcp, options and templates",
			files: map[string]string{"/etc/rsyslog.conf": `# *.* @@commented.example.com
$ModLoad imuxsock
*.*;auth,authpriv.none		-/var/log/syslog
auth,authpriv.*			@logs.example.com
*.*	@@(o,z9)logs.example.com:10514;RSYSLOG_ForwardFormat
& @[2001:db8::1]:514
kern.*  :omrelp:relp.example.com:2514
*.emerg				:omusrmsg:*
`},
			want: []string{
				"udp://logs.example.com [auth,authpriv.*] /etc/rsyslog.conf:4",
				"tcp://logs.example.com:10514 [*.*] /etc/rsyslog.conf:5",
				"udp://2001:db8::1:514 [*.*] /etc/rsyslog.conf:6",
				"relp://relp.example.com:2514 [kern.*] /etc/rsyslog.conf:7",
			},
		},
		{
			name: "RainerScript action over several lines, comments and includes",
			files: map[string]string{
				"/etc/rsyslog.conf": `module(load="imuxsock")
module(load="imjournal" StateFile="imjournal.state")
include(file="/etc/rsyslog.d/*.conf" mode="optional")
$IncludeConfig /etc/rsyslog.legacy.d/
/* a block comment
*.* @@in-comment.example.com
*/
#action(type="omfwd"
#Target="commented" Port="514" Protocol="tcp")
`,
				"/etc/rsyslog.d/50-remote.conf": `*.* action(type="omfwd"
       target="10.0.0.5" port="6514"  # the SIEM
       protocol="tcp"
       queue.type="LinkedList")
`,
				"/etc/rsyslog.d/60-bare.conf":  "action(type=\"OMRELP\" Target=\"relp.example.com\" Port=\"2514\")\n",
				"/etc/rsyslog.d/README":        "*.* @@not-included.example.com\n",
				"/etc/rsyslog.legacy.d/x.conf": "authpriv.* @@legacy.example.com:514\n",
			},
			want: []string{
				"tcp://10.0.0.5:6514 [*.*] /etc/rsyslog.d/50-remote.conf:1",
				"relp://relp.example.com:2514 [all messages] /etc/rsyslog.d/60-bare.conf:1",
				"tcp://legacy.example.com:514 [authpriv.*] /etc/rsyslog.legacy.d/x.conf:1",
			},
		},
		{
			name: "conditions and rulesets",
			files: map[string]string{"/etc/rsyslog.conf": `if $programname == 'sudo' then action(type="omfwd" target="a.example.com" protocol="tcp" port="514")
if $syslogfacility-text == "authpriv" then {
	action(type="omfwd" target="b.example.com")
	*.* @@c.example.com
} else {
	stop
}
if $msg contains "then" then
	@@d.example.com
ruleset(name="remote") {
	action(type="omfwd" target="e.example.com" protocol="tcp")
}
call remote
:programname, isequal, "sudo" @@f.example.com
`},
			wantCalls: []string{"remote"},
			want: []string{
				"tcp://a.example.com:514 [if $programname == 'sudo'] /etc/rsyslog.conf:1",
				`udp://b.example.com [if $syslogfacility-text == "authpriv"] /etc/rsyslog.conf:3`,
				`tcp://c.example.com [if $syslogfacility-text == "authpriv" and *.*] /etc/rsyslog.conf:4`,
				`tcp://d.example.com [if $msg contains "then"] /etc/rsyslog.conf:9`,
				"tcp://e.example.com [all messages in ruleset remote] /etc/rsyslog.conf:11",
				`tcp://f.example.com [property filter :programname, isequal, "sudo"] /etc/rsyslog.conf:14`,
			},
		},
		{
			name:  "no forwarding",
			files: map[string]string{"/etc/rsyslog.conf": "*.* /var/log/messages\nauthpriv.* /var/log/secure\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := LoadRsyslog(context.Background(), tree(t, tt.files), RsyslogPath)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range r.Forwards {
				got = append(got, fw(f))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("forwards:\n got %q\nwant %q", got, tt.want)
			}
			for _, c := range tt.wantCalls {
				if !r.Called(c) {
					t.Errorf("Called(%q) = false, calls %+v", c, r.Calls)
				}
			}
			if r.Called("nonexistent") {
				t.Error("Called(nonexistent) = true")
			}
		})
	}
}

func TestRsyslogModulesAndUnparsed(t *testing.T) {
	t.Parallel()
	h := tree(t, map[string]string{"/etc/rsyslog.conf": `module(load="imuxsock" SysSock.Use="off")
$ModLoad imjournal.so
global(workDirectory="/var/lib/rsyslog")
template(name="x" type="string" string="%msg%\n")
something unknown here
`})
	r, err := LoadRsyslog(context.Background(), h, RsyslogPath)
	if err != nil {
		t.Fatal(err)
	}
	if !r.HasModule("imjournal") || !r.HasModule("imuxsock") || r.HasModule("imtcp") {
		t.Errorf("modules = %+v", r.Modules)
	}
	if len(r.Unparsed) != 1 || r.Unparsed[0].Text != "something unknown here" || r.Unparsed[0].Line != 5 {
		t.Errorf("unparsed = %+v", r.Unparsed)
	}
}

func TestRsyslogErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"unterminated string", map[string]string{"/etc/rsyslog.conf": "\naction(type=\"omfwd target=\"x\")\n"}, "/etc/rsyslog.conf:2: unterminated string"},
		{"unclosed paren", map[string]string{"/etc/rsyslog.conf": "action(type=\"omfwd\"\n target=\"x\"\n"}, "/etc/rsyslog.conf:1: unclosed ("},
		{"unclosed comment", map[string]string{"/etc/rsyslog.conf": "\n\n/* never closed\n"}, "/etc/rsyslog.conf:3: unterminated /* comment"},
		{"unclosed brace", map[string]string{"/etc/rsyslog.conf": "if $x == 1 then {\n stop\n"}, "/etc/rsyslog.conf:1: unclosed {"},
		{"stray brace", map[string]string{"/etc/rsyslog.conf": "}\n"}, "/etc/rsyslog.conf:1: } without a matching {"},
		{"bad legacy forward", map[string]string{"/etc/rsyslog.conf": "*.* @@\n"}, "/etc/rsyslog.conf:1: forwarding action"},
		{"missing required include", map[string]string{"/etc/rsyslog.conf": "include(file=\"/etc/rsyslog.local\")\n"}, "/etc/rsyslog.conf:1: include /etc/rsyslog.local:"},
		{"include loop", map[string]string{
			"/etc/rsyslog.conf":        "$IncludeConfig /etc/rsyslog.d/*.conf\n",
			"/etc/rsyslog.d/loop.conf": "include(file=\"/etc/rsyslog.d/loop.conf\")\n",
		}, "/etc/rsyslog.d/loop.conf:1: include loop"},
		{"bad action params", map[string]string{"/etc/rsyslog.conf": "action(type)\n"}, "/etc/rsyslog.conf:1: action: parameter type: missing ="},
	}
	for _, tt := range tests {
		_, err := LoadRsyslog(context.Background(), tree(t, tt.files), RsyslogPath)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	_, err := LoadRsyslog(context.Background(), tree(t, map[string]string{"/etc/hosts": ""}), RsyslogPath)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing rsyslog.conf: error %v, want fs.ErrNotExist", err)
	}
	_, err = LoadRsyslog(context.Background(), tree(t, map[string]string{"/etc/rsyslog.conf": "include(file=\"/etc/none\")\n"}), RsyslogPath)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing required include: error %v, want one that is not fs.ErrNotExist", err)
	}
	if _, err := LoadRsyslog(context.Background(), tree(t, map[string]string{"/etc/rsyslog.conf": "include(file=\"/etc/none\" mode=\"optional\")\n"}), RsyslogPath); err != nil {
		t.Errorf("optional missing include: %v", err)
	}
}

func TestSelectorMatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sel         string
		fac, sev    string
		match, know bool
	}{
		{"*.*", "authpriv", "notice", true, true},
		{"authpriv.*", "authpriv", "notice", true, true},
		{"auth,authpriv.*", "authpriv", "debug", true, true},
		{"*.info;mail.none;authpriv.none;cron.none", "authpriv", "notice", false, true},
		{"*.info;mail.none;authpriv.none;cron.none", "daemon", "notice", true, true},
		{"*.*;auth,authpriv.none", "authpriv", "alert", false, true},
		{"authpriv.warning", "authpriv", "notice", false, true},
		{"authpriv.warning", "authpriv", "alert", true, true},
		{"authpriv.=notice", "authpriv", "notice", true, true},
		{"authpriv.=notice", "authpriv", "alert", false, true},
		{"authpriv.*;authpriv.!=notice", "authpriv", "notice", false, true},
		{"authpriv.*;authpriv.!err", "authpriv", "notice", true, true},
		{"authpriv.*;authpriv.!err", "authpriv", "alert", false, true},
		{"security.*", "auth", "info", true, true},
		{"kern.*", "authpriv", "notice", false, true},
		{"*.bogus", "authpriv", "notice", false, false},
	}
	for _, tt := range tests {
		m, k := Filter{Kind: FilterSelector, Text: tt.sel}.Matches(tt.fac, tt.sev)
		if m != tt.match || k != tt.know {
			t.Errorf("%s for %s.%s = %v, %v; want %v, %v", tt.sel, tt.fac, tt.sev, m, k, tt.match, tt.know)
		}
	}
	if m, k := (Filter{Kind: FilterExpression, Text: "$x"}).Matches("authpriv", "notice"); m || k {
		t.Error("expressions must be reported as not evaluated")
	}
	if m, k := (Filter{}).Matches("authpriv", "notice"); !m || !k {
		t.Error("no filter must match everything")
	}
}

func TestSystemdConf(t *testing.T) {
	t.Parallel()
	h := tree(t, map[string]string{
		"/etc/systemd/journald.conf": `#  This file is part of systemd.
[Journal]
#Storage=auto
Storage=volatile
ForwardToSyslog=yes
; another comment
SystemMaxUse=\
  500M
`,
		"/usr/lib/systemd/journald.conf":                  "[Journal]\nStorage=none\n",
		"/usr/lib/systemd/journald.conf.d/10-vendor.conf": "[Journal]\nCompress=yes\nForwardToSyslog=no\n",
		"/usr/lib/systemd/journald.conf.d/50-site.conf":   "[Journal]\nStorage=auto\n",
		"/etc/systemd/journald.conf.d/50-site.conf":       "[Journal]\nStorage=persistent\n",
		"/run/systemd/journald.conf.d/90-runtime.conf":    "Orphan=1\n[Journal]\nbroken line\nRateLimitBurst=\n",
		"/etc/systemd/journald.conf.d/README":             "[Journal]\nStorage=none\n",
	})
	c, err := LoadSystemdConf(context.Background(), h, JournaldConf)
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{
		"/etc/systemd/journald.conf",
		"/usr/lib/systemd/journald.conf.d/10-vendor.conf",
		"/etc/systemd/journald.conf.d/50-site.conf",
		"/run/systemd/journald.conf.d/90-runtime.conf",
	}
	if !reflect.DeepEqual(c.Files, wantFiles) {
		t.Errorf("files:\n got %q\nwant %q", c.Files, wantFiles)
	}
	for _, tt := range []struct{ key, val, src string }{
		{"Storage", "persistent", "/etc/systemd/journald.conf.d/50-site.conf:2"},
		{"ForwardToSyslog", "no", "/usr/lib/systemd/journald.conf.d/10-vendor.conf:3"},
		{"SystemMaxUse", "500M", "/etc/systemd/journald.conf:7"},
		{"RateLimitBurst", "", "/run/systemd/journald.conf.d/90-runtime.conf:4"},
	} {
		e, ok := c.Get("Journal", tt.key)
		if !ok || e.Value != tt.val || e.Source() != tt.src {
			t.Errorf("%s = %+v, %v; want %q from %s", tt.key, e, ok, tt.val, tt.src)
		}
	}
	if len(c.Ignored) != 2 || !strings.Contains(c.Ignored[0], "90-runtime.conf:1: assignment outside of a section") {
		t.Errorf("ignored = %q", c.Ignored)
	}
	if _, err := LoadSystemdConf(context.Background(), tree(t, map[string]string{"/etc/systemd/journald.conf": "[Journal\n"}), JournaldConf); err == nil || !strings.Contains(err.Error(), "/etc/systemd/journald.conf:1: invalid section header") {
		t.Errorf("bad header: %v", err)
	}
	empty, err := LoadSystemdConf(context.Background(), tree(t, map[string]string{"/etc/hosts": ""}), JournalUploadConf)
	if err != nil || len(empty.Files) != 0 {
		t.Errorf("no files: %+v, %v", empty, err)
	}
	up, err := LoadSystemdConf(context.Background(), tree(t, map[string]string{"/etc/systemd/journal-upload.conf": "[Upload]\nURL=https://logs.example.com:19532\n"}), JournalUploadConf)
	if e, ok := up.Get("Upload", "URL"); err != nil || !ok || e.Value != "https://logs.example.com:19532" {
		t.Errorf("upload URL = %+v, %v, %v", e, ok, err)
	}
}
