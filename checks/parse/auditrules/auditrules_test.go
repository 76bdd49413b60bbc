package auditrules

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks/checktest"
)

func TestParse(t *testing.T) {
	t.Parallel()
	data := `## CIS rules
-D
-b 8192
--backlog_wait_time 60000
-f 1

-w /etc/sudoers -p wa -k scope
-w /etc/sudoers.d/ -k scope
-a always,exit -F arch=b64 -C euid!=uid -F auid!=unset -S execve -k user_emulation
-a exit,always -F arch=b32 -S open,openat -S creat -F exit=-EACCES -F auid>=1000 -F key=access
-A never,exit -F path=/tmp/x
-W /etc/sudoers.d/ -k scope
-e 2
`
	rules, err := Parse("/etc/audit/rules.d/50.rules", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 11 {
		t.Fatalf("got %d rules, want 11", len(rules))
	}
	w := rules[4]
	if w.Kind != KindWatch || w.WatchPath != "/etc/sudoers" || w.Perms != "wa" || !reflect.DeepEqual(w.Keys, []string{"scope"}) || w.Source() != "/etc/audit/rules.d/50.rules:7" {
		t.Errorf("watch = %+v", w)
	}
	if rules[5].Perms != "" {
		t.Errorf("watch without -p: Perms = %q", rules[5].Perms)
	}
	s := rules[6]
	wantFields := []Field{{"arch", "=", "b64"}, {"auid", "!=", "unset"}}
	if s.Kind != KindSyscall || s.List != "exit" || s.Action != "always" || !reflect.DeepEqual(s.Fields, wantFields) ||
		!reflect.DeepEqual(s.Compares, []Field{{"euid", "!=", "uid"}}) || !s.HasSyscall("execve") || s.Line != 9 {
		t.Errorf("syscall rule = %+v", s)
	}
	s = rules[7]
	if s.List != "exit" || s.Action != "always" || !reflect.DeepEqual(s.Syscalls, []string{"open", "openat", "creat"}) ||
		!reflect.DeepEqual(s.Keys, []string{"access"}) {
		t.Errorf("reordered list,action rule = %+v", s)
	}
	if f, ok := s.Field("auid"); !ok || f.Op != ">=" || f.Value != "1000" {
		t.Errorf("auid field = %+v", f)
	}
	if f, _ := s.Field("exit"); f.Value != "-EACCES" {
		t.Errorf("exit field = %+v", f)
	}
	if rules[8].Action != "never" || rules[9].Kind != KindUnwatch {
		t.Errorf("rules 8, 9 = %+v, %+v", rules[8], rules[9])
	}
	if c := rules[10]; c.Kind != KindControl || c.Option != "-e" || c.Value != "2" {
		t.Errorf("control = %+v", c)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ line, want string }{
		{"-w etc/sudoers -p wa", "-w etc/sudoers: the path must be absolute"},
		{"-w /etc/sudoers -p wz", "-p wz: permissions are letters from rwxa"},
		{"-w /etc/sudoers -p", "option -p requires an argument"},
		{"-a always -S execve", "-a always: want list,action"},
		{"-a always,entry -S execve", "want a list"},
		{"-a always,exit -F auid", "-F auid: want name, operator and value"},
		{"-a always,exit -F auid>=", "-F auid>=: missing value"},
		{"-a always,exit -F arch=b64 -S execve # comment", `stray argument "#"`},
		{"-w /etc/sudoers -S open", "-S and -C need a syscall rule"},
		{"-a always,exit -F path=/x -p wa", "-p belongs to watches"},
		{"-a always,user -S execve", "-S is only valid on the exit list"},
		{"-e 3", "-e 3: want 0, 1 or 2"},
		{"-b lots", "-b lots: want a number"},
		{"-e 2 -k x", "control option -e cannot be combined"},
		{"-k scope", "not a rule"},
		{"-w /a -a always,exit", "option -a cannot be combined"},
		{"watch /etc/sudoers", `stray argument "watch"`},
	}
	for _, tt := range tests {
		_, err := Parse("/etc/audit/rules.d/x.rules", []byte("# c\n"+tt.line+"\n"))
		want := "/etc/audit/rules.d/x.rules:2: "
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q and %q", tt.line, err, want, tt.want)
		}
	}
}

func TestWatchesPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		rules     string
		path      string
		perms     string
		wantOK    bool
		wantHave  string
		wantLines []int
	}{
		{"exact watch", "-w /etc/sudoers -p wa -k scope", "/etc/sudoers", "wa", true, "wa", []int{1}},
		{"trailing slash", "-w /etc/sudoers.d/ -p wa", "/etc/sudoers.d", "wa", true, "wa", []int{1}},
		{"watch without -p is everything", "-w /etc/sudoers", "/etc/sudoers", "wa", true, "rwxa", []int{1}},
		{"write only", "-w /etc/sudoers -p w", "/etc/sudoers", "wa", false, "w", []int{1}},
		{"union of two rules", "-w /etc/sudoers -p w\n-w /etc/sudoers -p a", "/etc/sudoers", "wa", true, "wa", []int{1, 2}},
		{"directory watch is recursive", "-w /etc/ -p wa", "/etc/sudoers", "wa", true, "wa", []int{1}},
		{"prefix is not a parent", "-w /etc/sudo -p wa", "/etc/sudoers", "wa", false, "", nil},
		{"path rule", "-a always,exit -F arch=b64 -F path=/etc/sudoers -F perm=wa -k scope", "/etc/sudoers", "wa", true, "wa", []int{1}},
		{"dir rule is recursive", "-a always,exit -F dir=/etc/sudoers.d -F perm=wa", "/etc/sudoers.d/x", "wa", true, "wa", []int{1}},
		{"path rule is not recursive", "-a always,exit -F path=/etc -F perm=wa", "/etc/sudoers", "wa", false, "", nil},
		{"narrowed by auid does not count", "-a always,exit -F path=/etc/sudoers -F perm=wa -F auid>=1000", "/etc/sudoers", "wa", false, "", nil},
		{"never rule does not count", "-a never,exit -F path=/etc/sudoers -F perm=wa", "/etc/sudoers", "wa", false, "", nil},
		{"path rule with syscalls and no perm does not count", "-a always,exit -F path=/etc/sudoers -S chmod", "/etc/sudoers", "a", false, "", nil},
		{"removed by -W", "-w /etc/sudoers -p wa -k scope\n-W /etc/sudoers -p wa -k scope", "/etc/sudoers", "wa", false, "", nil},
		{"-W with other options leaves it", "-w /etc/sudoers -p wa -k scope\n-W /etc/sudoers -p wa -k other", "/etc/sudoers", "wa", true, "wa", []int{1}},
		{"removed by -d", "-a always,exit -F path=/etc/sudoers -F perm=wa\n-d always,exit -F path=/etc/sudoers -F perm=wa", "/etc/sudoers", "wa", false, "", nil},
	}
	for _, tt := range tests {
		rules, err := Parse("r", []byte(tt.rules))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		cov := (&Ruleset{Rules: rules}).WatchesPath(tt.path, tt.perms)
		var lines []int
		for _, r := range cov.Rules {
			lines = append(lines, r.Line)
		}
		if cov.OK != tt.wantOK || cov.Have != tt.wantHave || !reflect.DeepEqual(lines, tt.wantLines) {
			t.Errorf("%s: got OK=%v have=%q missing=%q lines=%v, want OK=%v have=%q lines=%v",
				tt.name, cov.OK, cov.Have, cov.Missing, lines, tt.wantOK, tt.wantHave, tt.wantLines)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		files     map[string]string
		wantFiles []string
		wantRules int
		wantErr   string
	}{
		{
			name: "rules.d in ls -v order, audit.rules ignored",
			files: map[string]string{
				"etc/audit/rules.d/9-early.rules":     "-w /etc/group -p wa\n",
				"etc/audit/rules.d/.hidden.rules":     "not rules at all\n",
				"etc/audit/rules.d/50-scope.rules":    "-w /etc/sudoers -p wa\n",
				"etc/audit/rules.d/10-base.rules":     "-D\n-b 8192\n",
				"etc/audit/rules.d/99-finalize.rules": "-e 2\n",
				"etc/audit/rules.d/notes.txt":         "not rules\n",
				"etc/audit/audit.rules":               "-w /etc/passwd -p wa\n",
			},
			wantFiles: []string{"/etc/audit/rules.d/9-early.rules", "/etc/audit/rules.d/10-base.rules", "/etc/audit/rules.d/50-scope.rules", "/etc/audit/rules.d/99-finalize.rules"},
			wantRules: 5,
		},
		{
			name:      "audit.rules when rules.d is empty",
			files:     map[string]string{"etc/audit/rules.d/README": "x", "etc/audit/audit.rules": "-w /etc/passwd -p wa\n"},
			wantFiles: []string{"/etc/audit/audit.rules"},
			wantRules: 1,
		},
		{
			name:  "nothing at all",
			files: map[string]string{"etc/hostname": "x\n"},
		},
		{
			name:    "malformed rule",
			files:   map[string]string{"etc/audit/rules.d/50.rules": "-w /etc/sudoers -p wa\n-w /etc/shadow -p q\n"},
			wantErr: "/etc/audit/rules.d/50.rules:2: -p q",
		},
	}
	for _, tt := range tests {
		root := t.TempDir()
		for p, c := range tt.files {
			real := filepath.Join(root, p)
			if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(real, []byte(c), 0o640); err != nil {
				t.Fatal(err)
			}
		}
		rs, err := Load(context.Background(), checktest.Host(t, root))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(rs.Files, tt.wantFiles) || len(rs.Rules) != tt.wantRules {
			t.Errorf("%s: files %q, %d rules; want %q, %d", tt.name, rs.Files, len(rs.Rules), tt.wantFiles, tt.wantRules)
		}
	}
}

func TestControlAndSyscall(t *testing.T) {
	t.Parallel()
	rules, err := Parse("r", []byte("-e 1\n-a always,exit -S execve\n-a never,exit -S open\n-a always,exit -S execve -k x\n-d always,exit -S execve\n-e 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	rs := &Ruleset{Rules: rules}
	if c, ok := rs.Control("-e"); !ok || c.Value != "2" || c.Line != 6 {
		t.Errorf("Control(-e) = %+v, %v", c, ok)
	}
	if _, ok := rs.Control("-f"); ok {
		t.Error("Control(-f): want none")
	}
	sys := rs.Syscall()
	if len(sys) != 1 || sys[0].Line != 4 {
		t.Errorf("Syscall() = %+v, want only line 4", sys)
	}
}

func TestVersionCompare(t *testing.T) {
	t.Parallel()
	sorted := []string{"01-a.rules", "2-b.rules", "9-x.rules", "10-base.rules", "10-base2.rules", "50-scope.rules", "99-finalize.rules", "audit.rules", "b.rules"}
	for i := range sorted {
		for j := range sorted {
			want := cmpInt(i, j)
			if got := versionCompare(sorted[i], sorted[j]); got != want {
				t.Errorf("versionCompare(%q, %q) = %d, want %d", sorted[i], sorted[j], got, want)
			}
		}
	}
}
