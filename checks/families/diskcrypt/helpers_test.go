package diskcrypt

import (
	"context"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/checktest"
	"github.com/plumbline/plumbline/checks/parse/fstab"
)

func TestParseSwaps(t *testing.T) {
	t.Parallel()
	data := swapsHeader + swapLine("/dev/dm-1", "partition") + swapLine(`/var/swap\040area\040(deleted)`, "file")
	got, err := parseSwaps("/proc/swaps", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := []swapArea{{file: "/dev/dm-1", typ: "partition", line: 2}, {file: "/var/swap area", typ: "file", line: 3}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseSwaps = %+v, want %+v", got, want)
	}
	if _, err := parseSwaps("/proc/swaps", []byte(swapsHeader+"/dev/vda3\n")); err == nil || !strings.Contains(err.Error(), "/proc/swaps:2:") {
		t.Errorf("parseSwaps of a short line: error %v, want /proc/swaps:2", err)
	}
}

func TestKernelCmdlineVolumes(t *testing.T) {
	t.Parallel()
	got := kernelCmdlineVolumes("root=/dev/mapper/root rd.luks.name=3f2a=root luks.uuid=abcd rd.luks.uuid=luks-ef01 rd.luks.options=discard quiet")
	want := map[string]string{"root": "3f2a", "luks-abcd": "abcd", "luks-ef01": "ef01"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("kernelCmdlineVolumes = %v, want %v", got, want)
	}
}

func TestSplitDMName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, vg, lv string
		ok         bool
	}{
		{"vg0-root", "vg0", "root", true},
		{"vgubuntu-swap_1", "vgubuntu", "swap_1", true},
		{"my--vg-my--lv", "my-vg", "my-lv", true},
		{"luks", "", "", false},
		{"-x", "", "", false},
	}
	for _, tt := range tests {
		vg, lv, ok := splitDMName(tt.in)
		if vg != tt.vg || lv != tt.lv || ok != tt.ok {
			t.Errorf("splitDMName(%q) = %q, %q, %v; want %q, %q, %v", tt.in, vg, lv, ok, tt.vg, tt.lv, tt.ok)
		}
	}
}

func TestLVMPVDevices(t *testing.T) {
	t.Parallel()
	data := "vg0 {\n\tphysical_volumes {\n\t\tpv0 {\n\t\t\tdevice = \"/dev/mapper/a\"\t# Hint only\n\t\t}\n" +
		"\t\tpv1 {\n\t\t\tdevice = \"/dev/sdb1\"\n\t\t}\n\t}\n}\n"
	if got := lvmPVDevices([]byte(data)); !reflect.DeepEqual(got, []string{"/dev/mapper/a", "/dev/sdb1"}) {
		t.Errorf("lvmPVDevices = %v", got)
	}
}

func TestLongestPrefixMount(t *testing.T) {
	t.Parallel()
	mounts := []fstab.Entry{{File: "/", Spec: "a"}, {File: "/var", Spec: "b"}, {File: "/var/lib", Spec: "c"}, {File: "none", Spec: "swap"}}
	tests := []struct{ file, spec string }{
		{"/swapfile", "a"}, {"/var/swap", "b"}, {"/variable/swap", "a"}, {"/var/lib/swap/x", "c"},
	}
	for _, tt := range tests {
		m, err := longestPrefixMount(mounts, tt.file)
		if err != nil || m.Spec != tt.spec {
			t.Errorf("longestPrefixMount(%q) = %q, %v; want %q", tt.file, m.Spec, err, tt.spec)
		}
	}
}

// liveHost stands in for a running system whose LUKS devices are block
// devices, which cryptsetup reads; the real thing needs a LUKS disk.
type liveHost struct {
	checks.Host
	dumps map[string]checks.ExecResult
}

func (liveHost) Live() bool { return true }

func (l liveHost) Stat(ctx context.Context, p string) (checks.FileInfo, error) {
	fi, err := l.Host.Stat(ctx, p)
	if _, ok := l.dumps[p]; ok && err == nil {
		fi.Mode = fs.ModeDevice | 0o660
	}
	return fi, err
}

func (l liveHost) Exec(_ context.Context, name string, args ...string) (checks.ExecResult, error) {
	if name != "cryptsetup" || len(args) != 2 || args[0] != "luksDump" {
		return checks.ExecResult{}, checks.ErrNotAllowed
	}
	return l.dumps[args[1]], nil
}

func TestCipherLiveDump(t *testing.T) {
	t.Parallel()
	dump := "LUKS header information for /dev/vda2\n\nVersion:       \t1\nCipher name:   \taes\nCipher mode:   \tcbc-essiv:sha256\n" +
		"Hash spec:     \tsha256\nPayload offset:\t4096\nMK bits:       \t256\nUUID:          \t" + uuidL1 + "\n\nKey Slot 0: ENABLED\nKey Slot 1: DISABLED\n"
	c, _ := checks.Lookup(idCipher)
	p, err := checks.Resolve(c.Meta().Params, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		res  checks.ExecResult
		want checks.Status
		msg  string
	}{
		{"dump", checks.ExecResult{Stdout: []byte(dump)}, checks.StatusFail, "aes-cbc-essiv:sha256"},
		{"cryptsetup fails", checks.ExecResult{ExitCode: 1, Stderr: []byte("Device /dev/vda2 is not a valid LUKS device.\n")}, checks.StatusError, "not a valid LUKS device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := liveHost{Host: checktest.Host(t, "testdata/luks1_cbc"), dumps: map[string]checks.ExecResult{"/dev/vda2": tt.res}}
			r := c.Run(context.Background(), h, p)
			if r.Status != tt.want || !strings.Contains(r.Message, tt.msg) {
				t.Errorf("status %s message %q; want %s containing %q", r.Status, r.Message, tt.want, tt.msg)
			}
		})
	}
}

func TestNotLiveDeviceNode(t *testing.T) {
	t.Parallel()
	// A device node in a mounted image cannot be dumped: cryptsetup would
	// read the scanning host's device of that name.
	h := notLive{liveHost{Host: checktest.Host(t, "testdata/pass_luks2"), dumps: map[string]checks.ExecResult{"/dev/vda2": {}}}}
	_, err := readHeader(context.Background(), h, "/dev/vda2")
	if err == nil || !strings.Contains(err.Error(), "not live") {
		t.Errorf("readHeader on a non-live device node: %v", err)
	}
}

type notLive struct{ liveHost }

func (notLive) Live() bool { return false }
