package crypttab

import (
	"errors"
	"github.com/plumbline/plumbline/checks"
	"os"
	"reflect"
	"testing"
)

func TestParseFile(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/crypttab")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("/etc/crypttab", data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []Entry{
		{Name: "luks-3f2a", Device: "UUID=3f2a1c9e-5b7d-4e21-9a0c-6d8e2f4b1a77", Line: 2,
			Options: []Option{{Key: "luks"}, {Key: "discard"}}},
		{Name: "data", Device: "/dev/disk/by-partuuid/0a1b-02", KeyFile: "/etc/keys/data.key", Line: 3,
			Options: []Option{{Key: "luks"}, {Key: "keyfile-offset", Value: "0", HasValue: true}, {Key: "keyfile-size", Value: "4096", HasValue: true}}},
		{Name: "cswap", Device: "/dev/vda3", KeyFile: "/dev/urandom", Line: 4,
			Options: []Option{{Key: "swap"}, {Key: "cipher", Value: "aes-xts-plain64", HasValue: true}, {Key: "size", Value: "512", HasValue: true}, {Key: "plain"}}},
		{Name: "backup", Device: "LABEL=usb backup", Line: 5},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", got, want)
	}
	if !got[2].RandomKey() || got[0].RandomKey() || got[1].RandomKey() {
		t.Errorf("RandomKey wrong: only cswap is keyed from /dev/urandom")
	}
	if v, ok := got[2].Value("size"); !ok || v != "512" {
		t.Errorf("Value(size) = %q, %v", v, ok)
	}
	if !got[0].Has("luks") || got[0].Has("swap") {
		t.Errorf("Has wrong for %v", got[0].Options)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data, want string
	}{
		{"one field", "# c\nluks-a\n", "/etc/crypttab:2: want name and device, got 1 field(s)"},
		{"five fields", "a /dev/vda2 none luks extra\n", "/etc/crypttab:1: want at most 4 fields (name device keyfile options), got 5"},
		{"slash in name", "a/b /dev/vda2\n", `/etc/crypttab:1: volume name "a/b" contains '/'`},
		{"bad size", "a /dev/vda2 none plain,size=big\n", `/etc/crypttab:1: option size: want a non-negative number, got "big"`},
		{"size without value", "a /dev/vda2 none plain,size\n", "/etc/crypttab:1: option size needs a value"},
		{"empty cipher", "a /dev/vda2 none cipher=\n", "/etc/crypttab:1: option cipher needs a value"},
		{"nameless option", "a /dev/vda2 none =x\n", `/etc/crypttab:1: option "=x" has no name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("/etc/crypttab", []byte(tt.data))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Parse error %v, want %q", err, tt.want)
			}
			var pe *checks.SyntaxError
			if !errors.As(err, &pe) || pe.Line == 0 {
				t.Errorf("error %v is not a *checks.SyntaxError with a line", err)
			}
		})
	}
}

func TestOptionLastWins(t *testing.T) {
	t.Parallel()
	got, err := Parse("/etc/crypttab", []byte("a /dev/vda2 - cipher=aes-cbc-essiv:sha256,cipher=aes-xts-plain64\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := got[0].Value("cipher"); v != "aes-xts-plain64" {
		t.Errorf("Value(cipher) = %q, want the last one", v)
	}
	if got[0].KeyFile != "" {
		t.Errorf("KeyFile %q, want empty for \"-\"", got[0].KeyFile)
	}
	if s := got[0].Options[1].String(); s != "cipher=aes-xts-plain64" {
		t.Errorf("Option.String() = %q", s)
	}
}
