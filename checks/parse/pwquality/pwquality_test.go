package pwquality

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks/checktest"
	"github.com/plumbline/plumbline/checks/parse/pam"
)

func TestParse(t *testing.T) {
	t.Parallel()
	in := "# pwquality.conf\n" +
		"minlen = 14\n" +
		"  dcredit=-1\n" +
		"ucredit -1   # one upper case letter\n" +
		"MINCLASS = 4\n" +
		"enforce_for_root\n" +
		"badwords = foo bar\n" +
		"\n"
	got, err := Parse("/etc/security/pwquality.conf", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"minlen=14@2", "dcredit=-1@3", "ucredit=-1@4", "minclass=4@5", "enforce_for_root=@6", "badwords=foo bar@7",
	}
	var gotS []string
	for _, s := range got {
		if s.Path != "/etc/security/pwquality.conf" {
			t.Errorf("%s: path %q", s.Name, s.Path)
		}
		gotS = append(gotS, s.Name+"="+s.Value+"@"+itoa(s.Line))
	}
	if strings.Join(gotS, " ") != strings.Join(want, " ") {
		t.Errorf("got  %v\nwant %v", gotS, want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"minlen = 14\nminlenght = 14\n", "/etc/security/pwquality.conf:2: unknown setting \"minlenght\""},
		{"minlen = fourteen\n", "/etc/security/pwquality.conf:1: minlen: \"fourteen\" is not an integer"},
		{"minlen =\n", "/etc/security/pwquality.conf:1: minlen: \"\" is not an integer"},
		{"minlen = 14 days\n", "/etc/security/pwquality.conf:1: minlen: \"14 days\" is not an integer"},
		{"minlen = 99999999999\n", "is not an integer"},
		{"badwords = " + strings.Repeat("x", 1100) + "\n", "/etc/security/pwquality.conf:1: line of 1023 bytes or more"},
	}
	for _, tt := range tests {
		_, err := Parse("/etc/security/pwquality.conf", []byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%.40q) error = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		root      string
		files     []string
		minlen    int
		minlenSrc string
	}{
		{
			// conf.d files in byte order (dot files too, not *.conf.*
			// or directories), then the main file.
			root: "testdata/ordered",
			files: []string{
				"/etc/security/pwquality.conf.d/.early.conf",
				"/etc/security/pwquality.conf.d/10-a.conf",
				"/etc/security/pwquality.conf.d/20-b.conf",
				"/etc/security/pwquality.conf",
			},
			minlen:    10,
			minlenSrc: "/etc/security/pwquality.conf.d/20-b.conf:1",
		},
		{
			// The main file is read last, so it overrides conf.d.
			root:      "testdata/mainwins",
			files:     []string{"/etc/security/pwquality.conf.d/50-cis.conf", "/etc/security/pwquality.conf"},
			minlen:    12,
			minlenSrc: "/etc/security/pwquality.conf:1",
		},
		{
			root:      "testdata/none",
			minlen:    8,
			minlenSrc: "built-in default",
		},
	}
	for _, tt := range tests {
		t.Run(tt.root, func(t *testing.T) {
			t.Parallel()
			c, err := Load(context.Background(), checktest.Host(t, tt.root))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(c.Files, " ") != strings.Join(tt.files, " ") {
				t.Errorf("Files = %v, want %v", c.Files, tt.files)
			}
			n, s := c.Int("minlen")
			if n != tt.minlen || s.Source() != tt.minlenSrc {
				t.Errorf("minlen = %d from %s, want %d from %s", n, s.Source(), tt.minlen, tt.minlenSrc)
			}
		})
	}
}

func TestLoadOrderedSettings(t *testing.T) {
	t.Parallel()
	c, err := Load(context.Background(), checktest.Host(t, "testdata/ordered"))
	if err != nil {
		t.Fatal(err)
	}
	if n, s := c.Int("minclass"); n != 3 || s.Line != 3 {
		t.Errorf("minclass = %d from %s", n, s.Source())
	}
	if n, _ := c.Int("dcredit"); n != -1 {
		t.Errorf("dcredit = %d", n)
	}
	if on, s := c.Flag("enforce_for_root"); !on || s.Source() != "/etc/security/pwquality.conf:4" {
		t.Errorf("enforce_for_root = %v from %s", on, s.Source())
	}
	if on, _ := c.Flag("local_users_only"); on {
		t.Error("local_users_only on, want off")
	}
}

func TestLoadError(t *testing.T) {
	t.Parallel()
	_, err := Load(context.Background(), checktest.Host(t, "testdata/unknown"))
	if err == nil || !strings.Contains(err.Error(), "/etc/security/pwquality.conf.d/50-typo.conf:2: unknown setting \"minlenght\"") {
		t.Errorf("err = %v, want the unknown setting with file:line", err)
	}
}

func TestClamp(t *testing.T) {
	t.Parallel()
	c := &Config{settings: map[string]Setting{}}
	c.set(Setting{Name: "minlen", Value: "3", Path: "p", Line: 1})
	c.set(Setting{Name: "minclass", Value: "7", Path: "p", Line: 2})
	if n, _ := c.Int("minlen"); n != 6 {
		t.Errorf("minlen 3 reads as %d, want libpwquality's floor 6", n)
	}
	if n, _ := c.Int("minclass"); n != 4 {
		t.Errorf("minclass 7 reads as %d, want 4", n)
	}
}

func TestWithArgs(t *testing.T) {
	t.Parallel()
	base := &Config{settings: map[string]Setting{}}
	base.set(Setting{Name: "minlen", Value: "14", Path: "/etc/security/pwquality.conf", Line: 3})
	base.set(Setting{Name: "minclass", Value: "4", Path: "/etc/security/pwquality.conf", Line: 4})

	rules, err := pam.Parse("/etc/pam.d/common-password", []byte(
		"password requisite pam_pwquality.so retry=0 minlen=8 try_first_pass use_authtok enforce_for_root local_users_only debug authtok_type=UNIX difignore=3 noSuchOption=1\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := base.WithArgs(rules[0])
	if err != nil {
		t.Fatal(err)
	}
	if n, s := c.Int("minlen"); n != 8 || s.Source() != "/etc/pam.d/common-password:1" {
		t.Errorf("minlen = %d from %s, want 8 from the pam line", n, s.Source())
	}
	if n, s := c.Int("minclass"); n != 4 || s.Line != 4 {
		t.Errorf("minclass = %d from %s, want 4 from the file", n, s.Source())
	}
	if n, _ := c.Int("retry"); n != 1 {
		t.Errorf("retry = %d, want pam_pwquality's fallback 1", n)
	}
	if on, s := c.Flag("enforce_for_root"); !on || s.Path != "/etc/pam.d/common-password" {
		t.Errorf("enforce_for_root = %v from %s", on, s.Source())
	}
	if n, _ := base.Int("minlen"); n != 14 {
		t.Errorf("WithArgs changed the base config: minlen %d", n)
	}

	rules, err = pam.Parse("/etc/pam.d/common-password", []byte("password requisite pam_pwquality.so minlen=1x4\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := base.WithArgs(rules[0]); err == nil || !strings.Contains(err.Error(), "/etc/pam.d/common-password:1: pam_pwquality argument \"minlen=1x4\"") {
		t.Errorf("bad argument: err = %v", err)
	}
}

func TestIsConfName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"50-cis.conf": true, ".conf": true, "a.conf.conf": false, "a.conf.bak": false, "a.cnf": false, "conf": false,
	} {
		if got := isConfName(name); got != want {
			t.Errorf("isConfName(%q) = %v, want %v", name, got, want)
		}
	}
}
