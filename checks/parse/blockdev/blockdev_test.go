package blockdev

import (
	"context"
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/checktest"
)

func TestRead(t *testing.T) {
	t.Parallel()
	topo, err := Read(context.Background(), checktest.Host(t, "testdata/host"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range topo.Devices() {
		names = append(names, d.Name)
	}
	wantNames := []string{"dm-0", "dm-1", "dm-2", "loop0", "nvme0n1", "nvme0n1p1", "vda", "vda1", "vda2", "vda3"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("Devices = %v, want %v", names, wantNames)
	}
	tests := []struct {
		name string
		want Device
	}{
		{"vda", Device{Name: "vda", Dev: "252:0"}},
		{"vda3", Device{Name: "vda3", Dev: "252:3", Parent: "vda", Holders: []string{"dm-0"}}},
		{"nvme0n1p1", Device{Name: "nvme0n1p1", Dev: "259:1", Parent: "nvme0n1"}},
		{"dm-0", Device{Name: "dm-0", Dev: "253:0", DMName: "luks-3f2a1c9e-5b7d-4e21-9a0c-6d8e2f4b1a77",
			DMUUID: "CRYPT-LUKS2-3f2a1c9e5b7d4e219a0c6d8e2f4b1a77-luks-3f2a1c9e-5b7d-4e21-9a0c-6d8e2f4b1a77",
			Slaves: []string{"vda3"}, Holders: []string{"dm-1", "dm-2"}}},
		{"dm-1", Device{Name: "dm-1", Dev: "253:1", DMName: "vg0-root",
			DMUUID: "LVM-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", Slaves: []string{"dm-0"}}},
		{"loop0", Device{Name: "loop0", Dev: "7:0", BackingFile: "/var/lib/snapd/snaps/core22_1380.snap"}},
	}
	for _, tt := range tests {
		d, ok := topo.Device(tt.name)
		if !ok {
			t.Errorf("Device(%s) missing", tt.name)
			continue
		}
		// Empty lists and nil lists are the same to callers.
		got := *d
		if len(got.Holders) == 0 {
			got.Holders = nil
		}
		if len(got.Slaves) == 0 {
			got.Slaves = nil
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Device(%s):\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
	if d, ok := topo.ByDMName("vg0-swap"); !ok || d.Name != "dm-2" {
		t.Errorf("ByDMName(vg0-swap) = %v, %v", d, ok)
	}
}

func TestReadNoSys(t *testing.T) {
	t.Parallel()
	topo, err := Read(context.Background(), checktest.Host(t, t.TempDir()))
	if err != nil || topo.Len() != 0 {
		t.Errorf("Read without /sys = %v devices, %v; want empty topology", topo.Len(), err)
	}
}

func TestCryptType(t *testing.T) {
	t.Parallel()
	tests := []struct{ uuid, typ, luksUUID string }{
		{"CRYPT-LUKS2-3f2a1c9e5b7d4e219a0c6d8e2f4b1a77-luks-root", "LUKS2", "3f2a1c9e5b7d4e219a0c6d8e2f4b1a77"},
		{"CRYPT-LUKS1-0B5E2C1A7F3D4A9E8C215D6F7A8B9C0D-data", "LUKS1", "0b5e2c1a7f3d4a9e8c215d6f7a8b9c0d"},
		{"CRYPT-PLAIN-cswap", "PLAIN", ""},
		{"CRYPT-VERITY-0123-usr", "VERITY", ""},
		{"LVM-abc", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		d := &Device{DMUUID: tt.uuid}
		if got := d.CryptType(); got != tt.typ {
			t.Errorf("CryptType(%q) = %q, want %q", tt.uuid, got, tt.typ)
		}
		if got := d.CryptUUID(); got != tt.luksUUID {
			t.Errorf("CryptUUID(%q) = %q, want %q", tt.uuid, got, tt.luksUUID)
		}
	}
}

func TestSpecPath(t *testing.T) {
	t.Parallel()
	tests := []struct{ spec, want, err string }{
		{"UUID=3F2A1C9E-5B7D-4E21-9A0C-6D8E2F4B1A77", "/dev/disk/by-uuid/3f2a1c9e-5b7d-4e21-9a0c-6d8e2f4b1a77", ""},
		{`UUID="abc"`, "/dev/disk/by-uuid/abc", ""},
		{"PARTUUID=0a1b-02", "/dev/disk/by-partuuid/0a1b-02", ""},
		{"LABEL=my data", `/dev/disk/by-label/my\x20data`, ""},
		{"PARTLABEL=EFI/boot", `/dev/disk/by-partlabel/EFI\x2fboot`, ""},
		{"LABEL=données", "/dev/disk/by-label/données", ""},
		{"/dev/mapper/../vda1", "/dev/vda1", ""},
		{"FOO=bar", "", "unknown tag FOO"},
		{"UUID=", "", "empty UUID"},
		{"server:/export", "", "not a path"},
	}
	for _, tt := range tests {
		got, err := SpecPath(tt.spec)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("SpecPath(%q) error %v, want %q", tt.spec, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("SpecPath(%q) = %q, %v; want %q", tt.spec, got, err, tt.want)
		}
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := checktest.Host(t, "testdata/host")
	topo, err := Read(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		spec, dev, node string
		err             error
	}{
		{"/dev/mapper/vg0-root", "dm-1", "/dev/dm-1", nil},
		{"/dev/vg0/root", "dm-1", "/dev/dm-1", nil},
		{"/dev/dm-2", "dm-2", "/dev/dm-2", nil},
		{"/dev/vda1", "vda1", "/dev/vda1", nil},
		{"UUID=3f2a1c9e-5b7d-4e21-9a0c-6d8e2f4b1a77", "vda3", "/dev/vda3", nil},
		{"/dev/disk/by-uuid/3f2a1c9e-5b7d-4e21-9a0c-6d8e2f4b1a77", "vda3", "/dev/vda3", nil},
		{"LABEL=my data", "nvme0n1p1", "/dev/nvme0n1p1", nil},
		{"UUID=loop-a", "", "", checks.ErrLoop},
		{"UUID=dangling", "", "", fs.ErrNotExist},
		{"/dev/root", "", "", fs.ErrNotExist},
	}
	for _, tt := range tests {
		d, node, err := topo.Resolve(ctx, h, tt.spec)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Resolve(%q) error %v, want %v", tt.spec, err, tt.err)
			}
			continue
		}
		if err != nil || d.Name != tt.dev || node != tt.node {
			t.Errorf("Resolve(%q) = %v, %q, %v; want %s at %s", tt.spec, d, node, err, tt.dev, tt.node)
		}
	}
	_, _, err = topo.Resolve(ctx, h, "UUID=loop-a")
	if err == nil || !strings.Contains(err.Error(), "/dev/disk/by-uuid/loop-a") {
		t.Errorf("loop error %v does not name the path", err)
	}
	// A node that exists but is no block device sysfs knows.
	if _, _, err := topo.Resolve(ctx, h, "/dev/mapper"); !errors.Is(err, ErrUnknownDevice) {
		t.Errorf("Resolve(/dev/mapper) error %v, want ErrUnknownDevice", err)
	}
}
