package fstab

import (
	"context"
	"errors"
	"github.com/plumbline/plumbline/checks"
	"os"
	"reflect"
	"testing"

	"github.com/plumbline/plumbline/checks/checktest"
)

func TestParseFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []Entry
	}{
		{"testdata/mounts", []Entry{
			{Spec: "sysfs", File: "/sys", VfsType: "sysfs", Options: []string{"rw", "nosuid", "nodev", "noexec", "relatime"}, Line: 1},
			{Spec: "proc", File: "/proc", VfsType: "proc", Options: []string{"rw", "nosuid", "nodev", "noexec", "relatime"}, Line: 2},
			{Spec: "/dev/mapper/vg-root", File: "/", VfsType: "ext4", Options: []string{"rw", "relatime", "errors=remount-ro"}, Line: 3},
			{Spec: "/dev/vda1", File: "/boot", VfsType: "ext4", Options: []string{"rw", "relatime"}, Line: 4},
			{Spec: "/dev/mapper/vg-data", File: "/srv/my data", VfsType: "xfs", Options: []string{"rw", "relatime", "attr2", "inode64"}, Line: 5},
			{Spec: "tmpfs", File: "/run", VfsType: "tmpfs", Options: []string{"rw", "nosuid", "nodev", "size=400000k", "mode=755"}, Line: 6},
		}},
		{"testdata/fstab", []Entry{
			{Spec: "/dev/mapper/vg-root", File: "/", VfsType: "ext4", Options: []string{"errors=remount-ro"}, PassNo: 1, Line: 4},
			{Spec: "UUID=3b1a-77c2", File: "/boot/efi", VfsType: "vfat", Options: []string{"umask=0077"}, PassNo: 1, Line: 5},
			{Spec: `LABEL=backup\disk`, File: "/mnt/backup", VfsType: "ext4", Options: []string{"noauto", "user"}, Line: 6},
			{Spec: "/dev/mapper/vg-swap", File: "none", VfsType: "swap", Options: []string{"sw"}, Line: 7},
			{Spec: "server:/export", File: "/mnt/nfs", VfsType: "nfs4", Options: []string{"defaults"}, Line: 9},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(tt.file, data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data, want string
	}{
		{"too few fields", "# c\n/dev/vda1 /\n", "/etc/fstab:2: want at least spec, mount point and type, got 2 field(s)"},
		{"too many fields", "/dev/vda1 / ext4 defaults 0 1 extra\n", "/etc/fstab:1: want at most 6 fields, got 7"},
		{"bad freq", "/dev/vda1 / ext4 defaults x 1\n", `/etc/fstab:1: field 5: want a number, got "x"`},
		{"bad passno", "/dev/vda1 / ext4 defaults 0 -1\n", `/etc/fstab:1: field 6: want a number, got "-1"`},
		{"bad escape", `/dev/vda1 /a\777b ext4` + "\n", `/etc/fstab:1: field 2: octal escape "\\777" is above \377`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("/etc/fstab", []byte(tt.data))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Parse error %v, want %q", err, tt.want)
			}
			var pe *checks.SyntaxError
			if !errors.As(err, &pe) || pe.Path != "/etc/fstab" || pe.Line == 0 {
				t.Errorf("error %v is not a *checks.SyntaxError with path and line", err)
			}
		})
	}
}

func TestUnescape(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{`a\040b`, "a b"},
		{`tab\011x`, "tab\tx"},
		{`nl\012`, "nl\n"},
		{`back\134slash`, `back\slash`},
		{`short\04`, `short\04`},
		{`not\08x`, `not\08x`},
		{`trailing\`, `trailing\`},
	}
	for _, tt := range tests {
		got, err := Unescape(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Unescape(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestOption(t *testing.T) {
	t.Parallel()
	e := Entry{Options: []string{"rw", "size=1k", "noauto", "size=2k"}}
	if v, ok := e.Option("size"); !ok || v != "2k" {
		t.Errorf("Option(size) = %q, %v; want last value 2k", v, ok)
	}
	if !e.HasOption("noauto") || e.HasOption("nofail") || e.HasOption("siz") {
		t.Errorf("HasOption wrong for %v", e.Options)
	}
}

func TestRead(t *testing.T) {
	t.Parallel()
	h := checktest.Host(t, "testdata/root")
	got, err := Read(context.Background(), h, "/proc/mounts")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].File != "/" {
		t.Errorf("Read /proc/mounts = %+v", got)
	}
	if _, err := Read(context.Background(), h, "/etc/fstab"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read missing file: error %v, want ErrNotExist", err)
	}
}
