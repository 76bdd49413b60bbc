package diskcrypt

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/checktest"
)

const (
	idFS       = "diskcrypt.data_filesystems_encrypted"
	idSwap     = "diskcrypt.swap_encrypted"
	idCrypttab = "diskcrypt.crypttab_consistent"
	idCipher   = "diskcrypt.luks_aes256"
)

// evidenceWant asserts one evidence item by key.
type evidenceWant struct {
	key    string
	ok     bool
	actual string // substring of Actual
	source string // exact Source(), when set
}

func TestChecks(t *testing.T) {
	t.Parallel()
	cbcOK := map[string]any{"allowed_ciphers": []any{"aes-xts-plain64", "aes-cbc-essiv:sha256"}, "min_key_bits": 256}
	tests := []struct {
		check   string
		fixture string
		params  map[string]any
		want    checks.Status
		msg     []string // substrings of the message
		ev      []evidenceWant
	}{
		// diskcrypt.data_filesystems_encrypted
		{idFS, "pass_luks2", nil, checks.StatusPass, []string{"source: /proc/mounts"}, []evidenceWant{
			{key: "mount /", ok: true, actual: "encrypted: /dev/mapper/luks-" + uuidRoot + " = dm-0 (luks-" + uuidRoot + ") [LUKS2] -> vda2", source: "/proc/mounts:7"},
			{key: "mount /boot", ok: true, actual: "exempt"},
			{key: "mount /mnt/shared", ok: true, actual: "not a local block device"},
		}},
		{idFS, "pass_luks2", map[string]any{"exempt_mountpoints": []any{}}, checks.StatusFail, []string{"/boot"}, []evidenceWant{
			{key: "mount /boot", ok: false, actual: "not encrypted: vda1"},
		}},
		{idFS, "lvm_on_luks", nil, checks.StatusPass, nil, []evidenceWant{
			{key: "mount /", ok: true, actual: "dm-1 (vgubuntu-root) -> dm-0 (dm_crypt-0) [LUKS2] -> vda3"},
			{key: "mount /srv/data", ok: true, actual: "/dev/disk/by-uuid/7e1f0c3a-2b4d-4e6f-8a9b-0c1d2e3f4a5b = dm-3 (vgubuntu-data) -> dm-0"},
			{key: "mount /srv/raid", ok: true, actual: "md0 -> [dm-4 (raid-a) [LUKS2] -> vdb; dm-5 (raid-b) [LUKS2] -> vdc]"},
			{key: "mount /boot/efi", ok: true, actual: "exempt"},
		}},
		{idFS, "root_unencrypted", nil, checks.StatusFail, []string{"filesystems not on dm-crypt: /, /var/log"}, []evidenceWant{
			{key: "mount /", ok: false, actual: "not encrypted: vda1", source: "/proc/mounts:7"},
			{key: "mount /home", ok: true, actual: "encrypted"},
			{key: "mount /var/log", ok: false, actual: "not encrypted: vda2"},
		}},
		{idFS, "container", nil, checks.StatusNotApplicable, []string{noBlockDevices}, nil},
		{idFS, "image_fstab", nil, checks.StatusPass, []string{"/etc/fstab", "image scan"}, []evidenceWant{
			{key: "mount /", ok: true, actual: "LV vg0/root on [encrypted: /dev/mapper/vda3_crypt is crypttab volume vda3_crypt", source: "/etc/fstab:2"},
			{key: "mount /home", ok: true, actual: "crypttab volume luks-home", source: "/etc/fstab:5"},
			{key: "mount /var", ok: true, actual: "LV vg0/var"},
			{key: "mount /boot", ok: true, actual: "exempt"},
		}},
		{idFS, "image_fstab_fail", nil, checks.StatusFail, []string{"/etc/fstab", ": /", "1 not decided"}, []evidenceWant{
			{key: "mount /", ok: false, actual: "/dev/vda2 is a raw device", source: "/etc/fstab:1"},
			{key: "mount /data", ok: false, actual: "undetermined"},
			{key: "mount /srv", ok: true, actual: "crypttab volume cryptdata"},
		}},
		{idFS, "image_fstab_uuid", nil, checks.StatusError, []string{"UUID=0f0e0d0c-0b0a-4908-8706-050403020100"}, nil},
		{idFS, "symlink_loop", nil, checks.StatusError, []string{"symlink loop", "/dev/disk/by-uuid/aaaa-1111"}, []evidenceWant{
			{key: "mount /", ok: true, actual: "encrypted"},
		}},
		{idFS, "malformed_crypttab", nil, checks.StatusPass, nil, nil},
		{idFS, "cyclic_sysfs", nil, checks.StatusError, []string{"cyclic"}, nil},
		{idFS, "no_crypttab", nil, checks.StatusFail, []string{": /"}, nil},

		// diskcrypt.swap_encrypted
		{idSwap, "pass_luks2", nil, checks.StatusPass, nil, []evidenceWant{
			{key: "swap /dev/dm-1", ok: true, actual: "dm-1 (cswap) [PLAIN] -> vda3", source: "/proc/swaps:2"},
		}},
		{idSwap, "lvm_on_luks", nil, checks.StatusPass, nil, []evidenceWant{
			{key: "swap /dev/dm-2", ok: true, actual: "dm-2 (vgubuntu-swap_1) -> dm-0 (dm_crypt-0) [LUKS2]"},
		}},
		{idSwap, "root_unencrypted", nil, checks.StatusPass, []string{"no swap active"}, nil},
		{idSwap, "swap_unencrypted", nil, checks.StatusFail, []string{"swap not on dm-crypt: /dev/vda3"}, []evidenceWant{
			{key: "swap /dev/vda3", ok: false, actual: "not encrypted: vda3", source: "/proc/swaps:2"},
			{key: "swap /swap file", ok: true, actual: "swap file on / (/dev/mapper/luks-root): encrypted"},
			{key: "swap /dev/zram0", ok: true, actual: "in RAM, not at rest: zram0"},
		}},
		{idSwap, "container", nil, checks.StatusNotApplicable, nil, nil},
		{idSwap, "image_fstab", nil, checks.StatusPass, []string{"/etc/fstab"}, []evidenceWant{
			{key: "swap /dev/mapper/vg0-swap", ok: true, actual: "LV vg0/swap", source: "/etc/fstab:7"},
		}},
		{idSwap, "image_fstab_fail", nil, checks.StatusFail, []string{"/swapfile"}, []evidenceWant{
			{key: "swap /swapfile", ok: false, actual: "swap file on / (/dev/vda2, /etc/fstab:1): not encrypted"},
		}},
		{idSwap, "image_fstab_uuid", nil, checks.StatusError, []string{"UUID=5e5e5e5e"}, nil},
		{idSwap, "malformed_crypttab", nil, checks.StatusPass, nil, nil},

		// diskcrypt.crypttab_consistent
		{idCrypttab, "pass_luks2", nil, checks.StatusPass, []string{"2 open dm-crypt mapping(s)"}, []evidenceWant{
			{key: "mapping cswap", ok: true, actual: "open on vda3 = PARTUUID=5a3c0e11-03", source: "/etc/crypttab:3"},
			{key: "crypttab cswap key", ok: true, actual: "/dev/urandom"},
		}},
		{idCrypttab, "lvm_on_luks", nil, checks.StatusPass, nil, nil},
		{idCrypttab, "crypttab_missing_entry", nil, checks.StatusFail,
			[]string{"mapping scratch undeclared", "old-backup device", "cswap swap key", "mapping data"}, []evidenceWant{
				{key: "mapping scratch", ok: false, actual: "open (dm-1, LUKS2) but not in /etc/crypttab"},
				{key: "crypttab old-backup device", ok: false, actual: "UUID=" + uuidOther + " does not exist", source: "/etc/crypttab:2"},
				{key: "crypttab cswap key", ok: false, actual: "none (passphrase)", source: "/etc/crypttab:3"},
				{key: "crypttab usb device", ok: true, actual: "noauto/nofail"},
				{key: "mapping data", ok: false, actual: "open on vdb2 but /etc/crypttab names UUID=" + uuidData + " (vdb1)"},
				{key: "mapping luks-root", ok: true},
			}},
		{idCrypttab, "cmdline_declared", nil, checks.StatusPass, nil, []evidenceWant{
			{key: "mapping luks-" + uuidRoot, ok: true, actual: "kernel command line", source: "/proc/cmdline"},
		}},
		{idCrypttab, "no_crypttab", nil, checks.StatusFail, []string{"mapping secret undeclared"}, []evidenceWant{
			{key: "mapping secret", ok: false, actual: "/etc/crypttab does not exist"},
		}},
		{idCrypttab, "malformed_crypttab", nil, checks.StatusError, []string{"/etc/crypttab:3: want at most 4 fields"}, []evidenceWant{
			{key: "/etc/crypttab", ok: false, actual: "want at most 4 fields", source: "/etc/crypttab:3"},
		}},
		{idCrypttab, "symlink_loop", nil, checks.StatusError, []string{"symlink loop", "/dev/disk/by-uuid/" + uuidData}, nil},
		{idCrypttab, "container", nil, checks.StatusNotApplicable, nil, nil},
		{idCrypttab, "image_fstab", nil, checks.StatusNotApplicable, []string{noBlockDevices}, nil},

		// diskcrypt.luks_aes256
		{idCipher, "pass_luks2", nil, checks.StatusPass, nil, []evidenceWant{
			{key: "luks-" + uuidRoot + " cipher", ok: true, actual: "aes-xts-plain64", source: "/dev/vda2"},
			{key: "luks-" + uuidRoot + " key size", ok: true, actual: "512 bits"},
			{key: "luks-" + uuidRoot + " format", ok: true, actual: "LUKS2"},
			{key: "cswap cipher", ok: true, actual: "aes-xts-plain64 (crypttab cipher=)", source: "/etc/crypttab:3"},
			{key: "cswap key size", ok: true, actual: "512 bits (crypttab size=)"},
		}},
		{idCipher, "pass_luks2", map[string]any{"min_key_bits": 1024}, checks.StatusFail, nil, []evidenceWant{
			{key: "cswap key size", ok: false},
		}},
		{idCipher, "lvm_on_luks", nil, checks.StatusPass, []string{"all 3 dm-crypt mapping(s)"}, nil},
		{idCipher, "luks1_cbc", nil, checks.StatusFail, []string{"vda2_crypt cipher aes-cbc-essiv:sha256", "vda2_crypt key 256 bits"}, []evidenceWant{
			{key: "vda2_crypt cipher", ok: false, actual: "aes-cbc-essiv:sha256", source: "/dev/vda2"},
			{key: "vda2_crypt key size", ok: false, actual: "256 bits"},
			{key: "vda2_crypt format", ok: true, actual: "LUKS1: convert"},
		}},
		{idCipher, "luks1_cbc", cbcOK, checks.StatusPass, nil, nil},
		{idCipher, "luks1_cbc", map[string]any{"allowed_ciphers": []any{"aes-cbc-essiv:sha256"}, "min_key_bits": 256, "require_luks2": true},
			checks.StatusFail, []string{"vda2_crypt is LUKS1"}, nil},
		{idCipher, "plain_unknown", nil, checks.StatusError, []string{"cannot determine cipher of plain mapping scratch"}, nil},
		{idCipher, "malformed_crypttab", nil, checks.StatusError, []string{"cswap", "/etc/crypttab:3"}, []evidenceWant{
			{key: "luks-root cipher", ok: true, actual: "aes-xts-plain64"},
		}},
		{idCipher, "header_mismatch", nil, checks.StatusError, []string{"has UUID " + uuidOther}, []evidenceWant{
			{key: "luks-root cipher", ok: false, actual: "undetermined", source: "/dev/vda2"},
		}},
		{idCipher, "container", nil, checks.StatusNotApplicable, nil, nil},
		{idCipher, "image_fstab", nil, checks.StatusNotApplicable, nil, nil},
	}
	for _, tt := range tests {
		name := tt.check + "/" + tt.fixture
		if tt.params != nil {
			name += "/params"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, ok := checks.Lookup(tt.check)
			if !ok {
				t.Fatalf("check %s not registered", tt.check)
			}
			r := checktest.Expect(t, c, filepath.Join("testdata", tt.fixture), tt.params, tt.want)
			for _, s := range tt.msg {
				if !strings.Contains(r.Message, s) {
					t.Errorf("message %q does not contain %q", r.Message, s)
				}
			}
			for _, w := range tt.ev {
				e, ok := findEvidence(r.Evidence, w.key)
				if !ok {
					t.Errorf("no evidence %q in %+v", w.key, r.Evidence)
					continue
				}
				if e.OK != w.ok || !strings.Contains(e.Actual, w.actual) {
					t.Errorf("evidence %q = ok %v actual %q; want ok %v actual containing %q", w.key, e.OK, e.Actual, w.ok, w.actual)
				}
				if w.source != "" && e.Source() != w.source {
					t.Errorf("evidence %q source %q, want %q", w.key, e.Source(), w.source)
				}
			}
			if r.Status == checks.StatusFail && !hasFailing(r.Evidence) {
				t.Errorf("FAIL without failing evidence: %+v", r.Evidence)
			}
		})
	}
}

func findEvidence(ev []checks.Evidence, key string) (checks.Evidence, bool) {
	for _, e := range ev {
		if e.Key == key {
			return e, true
		}
	}
	return checks.Evidence{}, false
}

func hasFailing(ev []checks.Evidence) bool {
	for _, e := range ev {
		if !e.OK {
			return true
		}
	}
	return false
}

func TestMeta(t *testing.T) {
	t.Parallel()
	for _, id := range []string{idFS, idSwap, idCrypttab, idCipher} {
		c, ok := checks.Lookup(id)
		if !ok {
			t.Fatalf("%s not registered", id)
		}
		m := c.Meta()
		if m.Family != "diskcrypt" {
			t.Errorf("%s family %q", id, m.Family)
		}
		found := false
		for _, ref := range m.References {
			found = found || ref.Framework == "security-measure" && ref.Control == "encryption at rest with AES-256"
		}
		if !found {
			t.Errorf("%s does not reference the security measure", id)
		}
	}
}
