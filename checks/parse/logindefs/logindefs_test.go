package logindefs

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks/checktest"
)

func TestParse(t *testing.T) {
	t.Parallel()
	in := strings.Join([]string{
		"# login.defs",
		"MAIL_DIR        /var/mail",
		"#PASS_MAX_DAYS  30",
		"PASS_MAX_DAYS   99999",
		"PASS_MIN_DAYS\t0",
		"  PASS_WARN_AGE 7  ",
		"PASS_MAX_DAYS   90",
		"ENCRYPT_METHOD \"SHA512\"",
		"UMASK 022 # trailing comment",
		"LONELY",
		"",
	}, "\n")
	f := Parse("/etc/login.defs", []byte(in))
	tests := []struct {
		name, value string
		line        int
		found       bool
	}{
		{"MAIL_DIR", "/var/mail", 2, true},
		{"PASS_MAX_DAYS", "90", 7, true}, // last duplicate wins
		{"PASS_MIN_DAYS", "0", 5, true},
		{"PASS_WARN_AGE", "7", 6, true},
		{"ENCRYPT_METHOD", "SHA512", 8, true},
		{"UMASK", "022 # trailing comment", 9, true},
		{"LONELY", "", 0, false},
		{"pass_max_days", "", 0, false}, // names are case-sensitive
	}
	for _, tt := range tests {
		s, ok := f.Get(tt.name)
		if ok != tt.found || s.Value != tt.value || s.Line != tt.line {
			t.Errorf("Get(%s) = %+v, %v; want value %q line %d found %v", tt.name, s, ok, tt.value, tt.line, tt.found)
		}
		if ok && s.Path != "/etc/login.defs" {
			t.Errorf("Get(%s).Path = %q", tt.name, s.Path)
		}
	}
	if f.Len() != 6 {
		t.Errorf("Len = %d, want 6", f.Len())
	}
}

func TestParseUseradd(t *testing.T) {
	t.Parallel()
	in := "# useradd defaults\nGROUP=100\n# INACTIVE=30\nINACTIVE=-1\nINACTIVE=35\n INACTIVE=1\nINACTIVE =2\nSHELL=/bin/sh\r\nEXPIRE=\n"
	f := ParseUseradd("/etc/default/useradd", []byte(in))
	if s, ok := f.Get("INACTIVE"); !ok || s.Value != "35" || s.Line != 5 {
		t.Errorf("INACTIVE = %+v, %v; want 35 from line 5", s, ok)
	}
	if s, _ := f.Get("SHELL"); s.Value != "/bin/sh" {
		t.Errorf("SHELL = %q, want /bin/sh without the CR", s.Value)
	}
	if s, ok := f.Get("EXPIRE"); !ok || s.Value != "" {
		t.Errorf("EXPIRE = %+v, %v; want set and empty", s, ok)
	}
}

func TestInt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value   string
		want    int
		wantErr string
	}{
		{"90", 90, ""},
		{"-1", -1, ""},
		{"+7", 7, ""},
		{" 7", 7, ""},
		{"0x10", 16, ""},
		{"010", 8, ""},
		{"0", 0, ""},
		{"-2", 0, "out of range"},
		{"2147483648", 0, "out of range"},
		{"99999999999999", 0, "out of range"},
		{"90 # days", 0, "not a number"},
		{"7 ", 0, "not a number"},
		{"", 0, "not a number"},
		{"08", 0, "not a number"},
		{"0x", 0, "not a number"},
		{"ten", 0, "not a number"},
	}
	for _, tt := range tests {
		s := Setting{Name: "PASS_MAX_DAYS", Value: tt.value, Path: "/etc/login.defs", Line: 3}
		got, err := s.Int()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "/etc/login.defs:3: PASS_MAX_DAYS") {
				t.Errorf("Int(%q) = %d, %v; want error %q naming the line", tt.value, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Int(%q) = %d, %v; want %d", tt.value, got, err, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	h := checktest.Host(t, "testdata/host")
	f, err := LoadLoginDefs(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := f.Get("PASS_MAX_DAYS"); s.Value != "60" {
		t.Errorf("PASS_MAX_DAYS = %+v", s)
	}
	u, err := LoadUseradd(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := u.Get("INACTIVE"); s.Value != "30" {
		t.Errorf("INACTIVE = %+v", s)
	}
	_, err = LoadLoginDefs(context.Background(), checktest.Host(t, "testdata/empty"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "/etc/login.defs") {
		t.Errorf("missing file: err = %v, want not-exist naming /etc/login.defs", err)
	}
}
