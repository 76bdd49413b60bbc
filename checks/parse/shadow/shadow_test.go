package shadow

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks/checktest"
)

func TestParse(t *testing.T) {
	t.Parallel()
	in := strings.Join([]string{
		"root:$y$j9T$salt$hash:19700:0:99999:7:::",
		"daemon:*:19700:0:99999:7:::",
		"",
		"# comment",
		"alice:$6$salt$hash:19000:1:90:14:30:20000:",
		"bob::19700::::::",
		"carol:!$6$salt$hash:19700:1:365:7:45::",
		"old:abcdefghijklm:19700:0:99999",
		"+nisuser::::::::",
		"dave:!!:19700:0:99999:7:::\r",
	}, "\n")
	f, err := Parse("/etc/shadow", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Name: "root", Password: "$y$j9T$salt$hash", LastChange: 19700, Min: 0, Max: 99999, Warn: 7, Inactive: Unset, Expire: Unset, Line: 1},
		{Name: "daemon", Password: "*", LastChange: 19700, Min: 0, Max: 99999, Warn: 7, Inactive: Unset, Expire: Unset, Line: 2},
		{Name: "alice", Password: "$6$salt$hash", LastChange: 19000, Min: 1, Max: 90, Warn: 14, Inactive: 30, Expire: 20000, Line: 5},
		{Name: "bob", Password: "", LastChange: 19700, Min: Unset, Max: Unset, Warn: Unset, Inactive: Unset, Expire: Unset, Line: 6},
		{Name: "carol", Password: "!$6$salt$hash", LastChange: 19700, Min: 1, Max: 365, Warn: 7, Inactive: 45, Expire: Unset, Line: 7},
		{Name: "old", Password: "abcdefghijklm", LastChange: 19700, Min: 0, Max: 99999, Warn: Unset, Inactive: Unset, Expire: Unset, Line: 8},
		{Name: "dave", Password: "!!", LastChange: 19700, Min: 0, Max: 99999, Warn: 7, Inactive: Unset, Expire: Unset, Line: 10},
	}
	if len(f.Entries) != len(want) {
		t.Fatalf("got %d entries %+v, want %d", len(f.Entries), f.Entries, len(want))
	}
	for i := range want {
		if f.Entries[i] != want[i] {
			t.Errorf("entry %d:\ngot  %+v\nwant %+v", i, f.Entries[i], want[i])
		}
	}
	if e, ok := f.Lookup("alice"); !ok || e.Line != 5 {
		t.Errorf("Lookup(alice) = %+v, %v", e, ok)
	}
	if _, ok := f.Lookup("nisuser"); ok {
		t.Error("NIS compat line parsed as an account")
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"root:x:1:2:3:4:5:6:7\nbroken:line\n", "/etc/shadow:2: 2 fields, want 9"},
		{"root:x:1:2:3:4:5:6:7:8\n", "/etc/shadow:1: 10 fields"},
		{"root:$6$a$b:today:0:99999:7:::\n", "/etc/shadow:1: user root: lastchg \"today\" is not a number"},
		{"root:$6$a$b:19000:0:9x:7:::\n", "/etc/shadow:1: user root: max \"9x\" is not a number"},
		{":$6$a$b:19000:0:99999:7:::\n", "/etc/shadow:1: empty user name"},
	}
	for _, tt := range tests {
		_, err := Parse("/etc/shadow", []byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) err = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pw     string
		state  State
		method string
	}{
		{"", StateEmpty, ""},
		{"!", StateLocked, ""},
		{"!!", StateLocked, ""},
		{"!*", StateLocked, ""},
		{"!$6$salt$hash", StateLocked, "sha512"},
		{"*", StateNoLogin, ""},
		{"*LK*", StateNoLogin, ""},
		{"x", StateNoLogin, ""},
		{"$y$j9T$salt$hash", StateHash, "yescrypt"},
		{"$6$rounds=5000$salt$hash", StateHash, "sha512"},
		{"$5$salt$hash", StateHash, "sha256"},
		{"$1$salt$hash", StateHash, "md5"},
		{"$2b$10$hash", StateHash, "bcrypt"},
		{"$gy$j9T$salt$hash", StateHash, "gost-yescrypt"},
		{"abcdefghijklm", StateHash, "des"},
		{"$", StateNoLogin, ""},
	}
	for _, tt := range tests {
		e := Entry{Password: tt.pw}
		if got := e.State(); got != tt.state {
			t.Errorf("State(%q) = %v, want %v", tt.pw, got, tt.state)
		}
		if tt.method != "" {
			if got := e.HashMethod(); got != tt.method {
				t.Errorf("HashMethod(%q) = %q, want %q", tt.pw, got, tt.method)
			}
		}
	}
}

func TestDate(t *testing.T) {
	t.Parallel()
	if got := Date(19700); !got.Equal(time.Date(2023, 12, 9, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Date(19700) = %v", got)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	f, err := Load(context.Background(), checktest.Host(t, "testdata/host"))
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := f.Lookup("root"); !ok || e.State() != StateHash {
		t.Errorf("root = %+v, %v", e, ok)
	}
}
