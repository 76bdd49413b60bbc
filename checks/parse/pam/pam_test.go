package pam

import (
	"context"
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks/checktest"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		// want renders each rule as "line|String()".
		want []string
	}{
		{
			name: "keywords, comments and blank lines",
			in: "# comment\n\n" +
				"auth required pam_env.so\n" +
				"  password   requisite  pam_pwquality.so retry=3 minlen=14 # trailing comment\n",
			want: []string{
				"3|auth required pam_env.so",
				"4|password requisite pam_pwquality.so retry=3 minlen=14",
			},
		},
		{
			name: "type and control are case-insensitive",
			in:   "AUTH Required pam_unix.so\n",
			want: []string{"1|auth required pam_unix.so"},
		},
		{
			name: "dash prefix",
			in:   "-session optional pam_systemd.so\n",
			want: []string{"1|-session optional pam_systemd.so"},
		},
		{
			name: "bracketed control with spaces",
			in:   "auth [success=2 default=ignore  new_authtok_reqd=done] pam_unix.so nullok\n",
			want: []string{"1|auth [success=2 default=ignore new_authtok_reqd=done] pam_unix.so nullok"},
		},
		{
			name: "continuation lines keep the first line number",
			in: "password required pam_pwquality.so \\\n" +
				"    minlen=14 \\\n" +
				"\n" +
				"    dcredit=-1\n" +
				"auth required pam_deny.so\n",
			want: []string{
				"1|password required pam_pwquality.so minlen=14 dcredit=-1",
				"5|auth required pam_deny.so",
			},
		},
		{
			name: "hash ends a continued line",
			in:   "auth required pam_env.so \\\n  debug # comment \\\nauth required pam_deny.so\n",
			want: []string{
				"1|auth required pam_env.so debug",
				"3|auth required pam_deny.so",
			},
		},
		{
			// libpam skips a comment-only line inside a continuation and
			// keeps joining.
			name: "comment line inside a continuation",
			in:   "auth required pam_env.so \\\n # not an argument\n debug\n",
			want: []string{"1|auth required pam_env.so debug"},
		},
		{
			name: "bracketed argument with spaces and escaped bracket",
			in:   "auth required pam_exec.so [query=select a from b where c='\\]' ]\n",
			want: []string{"1|auth required pam_exec.so [query=select a from b where c='\\]' ]"},
		},
		{
			name: "include, substack and @include",
			in:   "auth include system-auth\npassword substack common\n@include common-session\n",
			want: []string{
				"1|auth include system-auth",
				"2|password substack common",
				"3|@include common-session",
			},
		},
		{
			name: "CRLF line endings",
			in:   "auth required pam_env.so\r\naccount required pam_unix.so\r\n",
			want: []string{"1|auth required pam_env.so", "2|account required pam_unix.so"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rules, err := Parse("/etc/pam.d/x", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var got []string
			for _, r := range rules {
				if r.Pos.File != "/etc/pam.d/x" {
					t.Errorf("rule %q: file %q", r, r.Pos.File)
				}
				got = append(got, itoa(r.Pos.Line)+"|"+r.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestParseRuleFields(t *testing.T) {
	t.Parallel()
	rules, err := Parse("f", []byte("-password [success=1 default=ignore] /lib/security/pam_unix.so obscure yescrypt rounds=5 rounds=8\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := rules[0]
	if r.Type != TypePassword || !r.Silent || r.Control.Keyword != "" || len(r.Control.Actions) != 2 {
		t.Errorf("rule %+v", r)
	}
	if r.ModuleName() != "pam_unix" {
		t.Errorf("ModuleName = %q", r.ModuleName())
	}
	if a, ok := r.Arg("rounds"); !ok || a.Value != "8" || !a.HasValue {
		t.Errorf("Arg(rounds) = %+v, %v; want the last one, 8", a, ok)
	}
	if !r.HasArg("yescrypt") || r.HasArg("sha512") {
		t.Errorf("HasArg wrong for %v", r.Args)
	}

	rules, err = Parse("f", []byte(`session required pam_exec.so [cmd=echo "a]" \] b] debug`+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := rules[0].Arg("cmd"); a.Value != `echo "a` {
		// An unescaped "]" ends the bracketed argument.
		t.Errorf("cmd = %q", a.Value)
	}
	rules, err = Parse("f", []byte(`session required pam_exec.so [cmd=echo "a\]" b] debug`+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := rules[0].Arg("cmd"); a.Value != `echo "a]" b` || !rules[0].HasArg("debug") {
		t.Errorf("args = %+v", rules[0].Args)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"unknown type", "auth required pam_env.so\nauthentication required pam_unix.so\n", "/etc/pam.d/x:2: unknown type \"authentication\""},
		{"unknown control", "auth mandatory pam_unix.so\n", "/etc/pam.d/x:1: unknown control \"mandatory\""},
		{"missing control", "auth\n", "/etc/pam.d/x:1: missing control"},
		{"missing module", "auth required\n", "/etc/pam.d/x:1: missing module path"},
		{"include without file", "auth include\n", "/etc/pam.d/x:1: include without a file name"},
		{"@include without file", "@include\n", "/etc/pam.d/x:1: @include without a file name"},
		{"@include with extra", "@include a b\n", "/etc/pam.d/x:1: unexpected \"b\""},
		{"unterminated control", "auth [success=1 pam_unix.so\n", "/etc/pam.d/x:1: unterminated ["},
		{"bad control value", "auth [succes=1] pam_unix.so\n", "unknown return value \"succes\""},
		{"bad control action", "auth [success=jump] pam_unix.so\n", "unknown action \"jump\""},
		{"control without pairs", "auth [] pam_unix.so\n", "empty control"},
		{"unterminated argument", "auth required pam_exec.so [a b\n", "/etc/pam.d/x:1: unterminated [ in module argument"},
		{"continued error keeps first line", "\nauth \\\n  bogus pam_unix.so\n", "/etc/pam.d/x:2: unknown control \"bogus\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("/etc/pam.d/x", []byte(tt.in))
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tt.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not *Error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	h := checktest.Host(t, "testdata/chain")
	svc, err := Load(context.Background(), h, "common-auth")
	if err != nil {
		t.Fatal(err)
	}
	if svc.Path != "/etc/pam.d/common-auth" {
		t.Errorf("Path = %q", svc.Path)
	}
	// Each rule as "pos <- via... | rule".
	var got []string
	for _, r := range svc.Rules {
		s := r.Pos.String()
		for _, v := range r.Via {
			s += " <- " + v.String()
		}
		got = append(got, s+" | "+r.String())
	}
	want := []string{
		"/etc/pam.d/common-auth:2 | auth required pam_env.so",
		// @include brings in every type.
		"/etc/pam.d/common-extra:1 <- /etc/pam.d/common-auth:3 | auth requisite pam_faillock.so preauth",
		"/etc/pam.d/common-extra:2 <- /etc/pam.d/common-auth:3 | account required pam_unix.so",
		// include brings in only auth lines, the password line is dropped.
		"/etc/pam.d/rhel-style:1 <- /etc/pam.d/common-auth:4 | auth [success=1 default=ignore] pam_unix.so nullok",
		// substack of a file found in /usr/lib/pam.d, two levels deep.
		"/usr/lib/pam.d/vendor-only:1 <- /etc/pam.d/common-auth:4 <- /etc/pam.d/rhel-style:2 | auth [default=die] pam_faillock.so authfail",
		"/etc/pam.d/common-auth:5 | -session optional pam_systemd.so",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := len(svc.Stack(TypeAuth)); n != 4 {
		t.Errorf("auth stack has %d rules, want 4", n)
	}
	// Loading again in the same scan returns the cached service.
	again, err := Load(context.Background(), h, "common-auth")
	if err != nil || again != svc {
		t.Errorf("second Load = %p, %v; want the cached %p", again, err, svc)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		root, service string
		notExist      bool
		want          string
	}{
		{"testdata/chain", "no-such-service", true, "no-such-service: no such file (looked for /etc/pam.d/no-such-service, /usr/lib/pam.d/no-such-service)"},
		{"testdata/loop", "a", false, "/etc/pam.d/a:2: include b: /etc/pam.d/b:1: include loop: /etc/pam.d/a -> /etc/pam.d/b -> /etc/pam.d/a"},
		{"testdata/broken", "missing-include", false, "/etc/pam.d/missing-include:2: include does-not-exist: no such file"},
		{"testdata/broken", "bad-included", false, "/etc/pam.d/bad-included:1: @include bad: /etc/pam.d/bad:2: unknown type \"authentication\""},
	}
	for _, tt := range tests {
		t.Run(tt.root+"/"+tt.service, func(t *testing.T) {
			t.Parallel()
			_, err := Load(context.Background(), checktest.Host(t, tt.root), tt.service)
			if err == nil {
				t.Fatalf("Load succeeded, want error %q", tt.want)
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tt.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v (err %v)", got, tt.notExist, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestParseModuleConfig(t *testing.T) {
	t.Parallel()
	in := "# faillock.conf\n" +
		"deny = 4\n" +
		"  unlock_time=900   # fifteen minutes\n" +
		"even_deny_root\n" +
		"dir =   /var/run/faillock\n" +
		"admin_group = wheel staff\n" +
		"deny=5\n" +
		"\n"
	got, err := ParseModuleConfig("/etc/security/faillock.conf", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []ModuleSetting{
		{Name: "deny", Value: "4", Pos: Position{"/etc/security/faillock.conf", 2}},
		{Name: "unlock_time", Value: "900", Pos: Position{"/etc/security/faillock.conf", 3}},
		{Name: "even_deny_root", Pos: Position{"/etc/security/faillock.conf", 4}},
		{Name: "dir", Value: "/var/run/faillock", Pos: Position{"/etc/security/faillock.conf", 5}},
		{Name: "admin_group", Value: "wheel staff", Pos: Position{"/etc/security/faillock.conf", 6}},
		{Name: "deny", Value: "5", Pos: Position{"/etc/security/faillock.conf", 7}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d settings %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("setting %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseModuleConfigErrors(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"no name": "= 4\n",
	} {
		if _, err := ParseModuleConfig("/etc/security/faillock.conf", []byte(in)); err == nil || !strings.HasPrefix(err.Error(), "/etc/security/faillock.conf:1: ") {
			t.Errorf("%s: err = %v, want one naming /etc/security/faillock.conf:1", name, err)
		}
	}
}
