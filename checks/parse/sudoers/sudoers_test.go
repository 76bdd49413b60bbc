package sudoers

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/checktest"
)

// tree writes files (host path -> content; a value starting with "->" makes
// a symlink) under a temporary root and returns a Host over it.
func tree(t *testing.T, files map[string]string) checks.Host {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		real := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, real); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(real, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(real, []byte(content), 0o440); err != nil {
			t.Fatal(err)
		}
	}
	return checktest.Host(t, root)
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want []Default
	}{
		{"Defaults use_pty", []Default{{Name: "use_pty", Op: OpEnable}}},
		{"Defaults\t!use_pty", []Default{{Name: "use_pty", Op: OpNegate}}},
		{"Defaults ! use_pty", []Default{{Name: "use_pty", Op: OpNegate}}},
		{"Defaults !!use_pty", []Default{{Name: "use_pty", Op: OpEnable}}},
		{"Defaults logfile=/var/log/sudo.log", []Default{{Name: "logfile", Op: OpAssign, Value: "/var/log/sudo.log"}}},
		{`Defaults logfile = "/var/log/sudo log"`, []Default{{Name: "logfile", Op: OpAssign, Value: "/var/log/sudo log"}}},
		{`Defaults passprompt="say \"pw\": "`, []Default{{Name: "passprompt", Op: OpAssign, Value: `say "pw": `}}},
		{`Defaults logfile=/var/log/my\ sudo.log`, []Default{{Name: "logfile", Op: OpAssign, Value: "/var/log/my sudo.log"}}},
		{`Defaults env_keep += "HOME EDITOR"`, []Default{{Name: "env_keep", Op: OpAdd, Value: "HOME EDITOR"}}},
		{`Defaults env_keep-=HOME`, []Default{{Name: "env_keep", Op: OpRemove, Value: "HOME"}}},
		{`Defaults env_keep=""`, []Default{{Name: "env_keep", Op: OpAssign, Value: ""}}},
		{"Defaults a, b=c, !d", []Default{{Name: "a"}, {Name: "b", Op: OpAssign, Value: "c"}, {Name: "d", Op: OpNegate}}},
		{"Defaults a,b", []Default{{Name: "a"}, {Name: "b"}}},
		{"Defaults:alice !use_pty", []Default{{Scope: ScopeUser, Binding: "alice", Name: "use_pty", Op: OpNegate}}},
		{"Defaults:alice, %wheel  !requiretty, lecture=always", []Default{
			{Scope: ScopeUser, Binding: "alice,%wheel", Name: "requiretty", Op: OpNegate},
			{Scope: ScopeUser, Binding: "alice,%wheel", Name: "lecture", Op: OpAssign, Value: "always"},
		}},
		{"Defaults@db01 log_output", []Default{{Scope: ScopeHost, Binding: "db01", Name: "log_output"}}},
		{"Defaults!/usr/bin/less noexec", []Default{{Scope: ScopeCommand, Binding: "/usr/bin/less", Name: "noexec"}}},
		{"Defaults>root !set_logname", []Default{{Scope: ScopeRunas, Binding: "root", Name: "set_logname", Op: OpNegate}}},
		{"Defaults: alice use_pty", []Default{{Scope: ScopeUser, Binding: "alice", Name: "use_pty"}}},
		{"Defaults secure_path=/usr/sbin:/usr/bin # trailing comment", []Default{{Name: "secure_path", Op: OpAssign, Value: "/usr/sbin:/usr/bin"}}},
		{`Defaults passprompt="#not a comment"`, []Default{{Name: "passprompt", Op: OpAssign, Value: "#not a comment"}}},
	}
	for _, tt := range tests {
		h := tree(t, map[string]string{"/etc/sudoers": tt.line + "\n"})
		cfg, err := Load(context.Background(), h, DefaultPath)
		if err != nil {
			t.Errorf("%q: %v", tt.line, err)
			continue
		}
		for i := range tt.want {
			tt.want[i].Path, tt.want[i].Line = DefaultPath, 1
		}
		if !reflect.DeepEqual(cfg.Defaults, tt.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.line, cfg.Defaults, tt.want)
		}
	}
}

func TestSyntaxErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		content string
		want    string // substring of the error
	}{
		{"Defaults\n", "/etc/sudoers:1: Defaults without parameters"},
		{"Defaults use_pty,\n", "/etc/sudoers:1: Defaults: trailing comma"},
		{"Defaults !logfile=/x\n", "/etc/sudoers:1: Defaults: logfile cannot be both negated and assigned"},
		{"Defaults logfile=\n", "/etc/sudoers:1: Defaults: logfile: missing value"},
		{"Defaults logfile=\"/x\n", "/etc/sudoers:1: unterminated quoted string"},
		{"Defaults use_pty logfile=/x\n", `/etc/sudoers:1: Defaults: unexpected "logfile=/x" after use_pty`},
		{"Defaults:alice\n", "/etc/sudoers:1: Defaults without parameters"},
		{"\n\nDefautls use_pty\n", `/etc/sudoers:3: unknown syntax "Defautls use_pty"`},
		{"use_pty\n", `/etc/sudoers:1: unknown syntax "use_pty"`},
		{"foo = bar\n", `/etc/sudoers:1: unknown syntax`},
		{"Cmnd_Alias lower = /bin/ls\n", `/etc/sudoers:1: Cmnd_Alias: want NAME = list`},
		{"@include\n", "/etc/sudoers:1: want @include followed by a path"},
		{"@include \"/etc/x\n", "/etc/sudoers:1: @include: unterminated quoted path"},
		{"@include /etc/x extra\n", `/etc/sudoers:1: @include: unexpected "extra" after the path`},
		{"Defaults use_pty, \\", "/etc/sudoers:1: line continuation at end of file"},
		{"@include /etc/sudoers.local\n", "/etc/sudoers:1: include /etc/sudoers.local:"},
	}
	for _, tt := range tests {
		h := tree(t, map[string]string{"/etc/sudoers": tt.content})
		_, err := Load(context.Background(), h, DefaultPath)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want it to contain %q", tt.content, err, tt.want)
		}
	}
}

func TestCommentsContinuationsAndSpecs(t *testing.T) {
	t.Parallel()
	h := tree(t, map[string]string{"/etc/sudoers": `# sudoers file.
#
## Defaults !use_pty (commented out)
#Defaults !use_pty
	# indented comment
#includes are just a comment
Defaults	env_reset
Defaults	secure_path="/usr/local/sbin:\
/usr/local/bin"
Defaults	mail_badpass, \
		use_pty
User_Alias	ADMINS = alice, bob : OPS = carol
Cmnd_Alias	SHELLS = /bin/sh, /bin/bash
Cmd_Alias	DIGEST = sha224:0GomF8mNN3wlDt1HD9XldjJ3SNgpFdbjO1+NsQ== /bin/ls
root	ALL=(ALL:ALL) ALL
%sudo	ALL=(ALL:ALL) ALL
alice, bob ALL = NOPASSWD: /usr/bin/apt
#1000 ALL=(#0) ALL
"%domain users" ALL=(ALL) ALL
`})
	cfg, err := Load(context.Background(), h, DefaultPath)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range cfg.Defaults {
		got = append(got, d.String()+"@"+d.Source())
	}
	want := []string{
		"Defaults env_reset@/etc/sudoers:7",
		`Defaults secure_path="/usr/local/sbin:/usr/local/bin"@/etc/sudoers:8`,
		"Defaults mail_badpass@/etc/sudoers:10",
		"Defaults use_pty@/etc/sudoers:10",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %q\nwant %q", got, want)
	}
	if len(cfg.Aliases) != 3 || !reflect.DeepEqual(cfg.Aliases[0].Names, []string{"ADMINS", "OPS"}) || cfg.Aliases[2].Names[0] != "DIGEST" || cfg.Aliases[1].Line != 13 {
		t.Errorf("aliases = %+v", cfg.Aliases)
	}
	if len(cfg.UserSpecs) != 5 || cfg.UserSpecs[3].Text != "#1000 ALL=(#0) ALL" || cfg.UserSpecs[0].Line != 15 {
		t.Errorf("user specs = %+v", cfg.UserSpecs)
	}
}

func TestEffective(t *testing.T) {
	t.Parallel()
	h := tree(t, map[string]string{
		"/etc/sudoers": `Defaults use_pty
Defaults logfile=/var/log/sudo.log
Defaults env_keep="A B"
Defaults:alice !use_pty
@includedir /etc/sudoers.d
Defaults env_keep+="C D", env_keep-=B
`,
		"/etc/sudoers.d/50-local": "Defaults !use_pty\nDefaults logfile=\"/var/log/sudo-local.log\"\n",
		"/etc/sudoers.d/60-again": "Defaults use_pty\n",
		"/etc/sudoers.d/70-off":   "Defaults !lecture\n",
	})
	cfg, err := Load(context.Background(), h, DefaultPath)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := cfg.Effective("use_pty")
	if !ok || !s.On || s.Last.Source() != "/etc/sudoers.d/60-again:1" {
		t.Errorf("use_pty = %+v, %v", s, ok)
	}
	s, ok = cfg.Effective("logfile")
	if !ok || !s.HasValue || s.Value != "/var/log/sudo-local.log" || s.Last.Source() != "/etc/sudoers.d/50-local:2" {
		t.Errorf("logfile = %+v, %v", s, ok)
	}
	s, _ = cfg.Effective("env_keep")
	if !reflect.DeepEqual(s.List, []string{"A", "C", "D"}) || s.Last.Line != 6 {
		t.Errorf("env_keep = %+v", s)
	}
	s, ok = cfg.Effective("lecture")
	if !ok || s.On {
		t.Errorf("lecture = %+v, %v", s, ok)
	}
	if _, ok := cfg.Effective("iolog_dir"); ok {
		t.Error("iolog_dir: want not set")
	}
	if sc := cfg.Scoped("use_pty"); len(sc) != 1 || sc[0].Binding != "alice" || sc[0].Op != OpNegate {
		t.Errorf("Scoped(use_pty) = %+v", sc)
	}
}

func TestIncludes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   map[string]string
		want    []string // files read, in order
		wantErr string
	}{
		{
			name: "includedir skips backups and dotted names, reads lexical order",
			files: map[string]string{
				"/etc/sudoers":             "#includedir /etc/sudoers.d\n",
				"/etc/sudoers.d/b":         "Defaults use_pty\n",
				"/etc/sudoers.d/a":         "Defaults use_pty\n",
				"/etc/sudoers.d/foo~":      "bad syntax here\n",
				"/etc/sudoers.d/foo.bak":   "bad syntax here\n",
				"/etc/sudoers.d/.hidden":   "bad syntax here\n",
				"/etc/sudoers.d/README":    "# only comments\n",
				"/etc/sudoers.d/subdir/":   "",
				"/etc/sudoers.d/zz-link":   "->/etc/sudoers.local",
				"/etc/sudoers.local":       "Defaults use_pty\n",
				"/etc/sudoers.d/subdir/xx": "bad syntax here\n",
			},
			want: []string{"/etc/sudoers", "/etc/sudoers.d/README", "/etc/sudoers.d/a", "/etc/sudoers.d/b", "/etc/sudoers.d/zz-link"},
		},
		{
			name: "relative include paths are relative to the including file",
			files: map[string]string{
				"/etc/sudoers":          "@include sudoers.local\n@includedir sudoers.d\n",
				"/etc/sudoers.local":    "Defaults use_pty\n",
				"/etc/sudoers.d/a":      "@include ../other/b\n",
				"/etc/other/b":          "@include \"c file\"\n",
				"/etc/other/c file":     "Defaults use_pty\n",
				"/etc/sudoers.d/quoted": "@include /etc/other/c\\ file\n",
			},
			want: []string{"/etc/sudoers", "/etc/sudoers.local", "/etc/sudoers.d/a", "/etc/other/b", "/etc/other/c file", "/etc/sudoers.d/quoted", "/etc/other/c file"},
		},
		{
			name: "missing includedir is ignored like sudo does",
			files: map[string]string{
				"/etc/sudoers": "@includedir /etc/sudoers.d\nDefaults use_pty\n",
			},
			want: []string{"/etc/sudoers"},
		},
		{
			name: "%h expands to the short host name",
			files: map[string]string{
				"/etc/hostname":     "db01.example.com\n",
				"/etc/sudoers":      "@include /etc/sudoers.%h\n",
				"/etc/sudoers.db01": "Defaults use_pty\n",
			},
			want: []string{"/etc/sudoers", "/etc/sudoers.db01"},
		},
		{
			name: "include loop",
			files: map[string]string{
				"/etc/sudoers":     "@includedir /etc/sudoers.d\n",
				"/etc/sudoers.d/a": "Defaults use_pty\n#include /etc/sudoers.d/b\n",
				"/etc/sudoers.d/b": "#include /etc/sudoers\n",
			},
			wantErr: "/etc/sudoers.d/b:1: include loop: /etc/sudoers -> /etc/sudoers.d/a -> /etc/sudoers.d/b includes /etc/sudoers again",
		},
		{
			name: "self include",
			files: map[string]string{
				"/etc/sudoers": "Defaults use_pty\n@include sudoers\n",
			},
			wantErr: "/etc/sudoers:2: include loop",
		},
		{
			name: "syntax error in an included file names that file",
			files: map[string]string{
				"/etc/sudoers":     "@includedir /etc/sudoers.d\n",
				"/etc/sudoers.d/a": "# ok\n\nDefaults use_pty\nnonsense\n",
			},
			wantErr: `/etc/sudoers.d/a:4: unknown syntax "nonsense"`,
		},
		{
			name: "%h without /etc/hostname",
			files: map[string]string{
				"/etc/sudoers": "@include /etc/sudoers.%h\n",
			},
			wantErr: "/etc/sudoers:1: expand %h in /etc/sudoers.%h: read host name:",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Load(context.Background(), tree(t, tt.files), DefaultPath)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Files, tt.want) {
				t.Errorf("files:\n got %q\nwant %q", cfg.Files, tt.want)
			}
		})
	}
}

func TestDeepIncludeChain(t *testing.T) {
	t.Parallel()
	files := map[string]string{"/etc/sudoers": "@include /etc/s/1\n"}
	for i := 1; i <= MaxDepth+1; i++ {
		files["/etc/s/"+strconv.Itoa(i)] = "@include /etc/s/" + strconv.Itoa(i+1) + "\n"
	}
	_, err := Load(context.Background(), tree(t, files), DefaultPath)
	if err == nil || !strings.Contains(err.Error(), "too many levels of includes") {
		t.Fatalf("error %v, want too many levels of includes", err)
	}
}

func TestMissingMainFile(t *testing.T) {
	t.Parallel()
	_, err := Load(context.Background(), tree(t, map[string]string{"/etc/hosts": ""}), DefaultPath)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v, want fs.ErrNotExist", err)
	}
	// A missing include is a broken policy, not an absent one.
	_, err = Load(context.Background(), tree(t, map[string]string{"/etc/sudoers": "@include /etc/sudoers.local\n"}), DefaultPath)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing include: error %v, want an error that is not fs.ErrNotExist", err)
	}
}
