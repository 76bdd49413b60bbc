package diskcrypt

import (
	"context"
	"errors"
	"io/fs"
	"slices"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/fstab"
)

func init() { checks.Register(filesystemsCheck{}) }

// measure is the security measure every check in the family evidences.
var measure = checks.Measure("encryption at rest with AES-256")

type filesystemsCheck struct{}

func (filesystemsCheck) Meta() checks.Meta {
	return checks.Meta{
		ID:       "diskcrypt.data_filesystems_encrypted",
		Title:    "Data filesystems are on encrypted (dm-crypt/LUKS) block devices",
		Family:   "diskcrypt",
		Severity: checks.SeverityHigh,
		Rationale: "Data written to an unencrypted disk can be read by anyone who obtains the disk, " +
			"a snapshot or a decommissioned volume. Encryption at rest requires every filesystem that " +
			"holds data to sit on a dm-crypt mapping, directly or below LVM or RAID.",
		Remediation: "Move each unencrypted filesystem onto a LUKS2 volume:\n" +
			"  cryptsetup luksFormat --type luks2 --cipher aes-xts-plain64 --key-size 512 /dev/<part>\n" +
			"  cryptsetup open /dev/<part> <name>\n" +
			"  mkfs.<type> /dev/mapper/<name>, copy the data over, and mount /dev/mapper/<name>;\n" +
			"add '<name> UUID=<uuid from cryptsetup luksUUID /dev/<part>> none luks,discard' to /etc/crypttab " +
			"and point the /etc/fstab line at /dev/mapper/<name>. An existing partition can be encrypted in place " +
			"(after a backup) with 'cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 32M /dev/<part>'. " +
			"For the root filesystem, rebuild the initramfs afterwards (update-initramfs -u, or dracut -f).",
		References: []checks.Reference{measure},
		Params: []checks.ParamSpec{{
			Name:    "exempt_mountpoints",
			Kind:    checks.KindStringList,
			Default: []string{"/boot", "/boot/efi"},
			Doc: "Mount points not required to be encrypted: the bootloader must read /boot and the " +
				"firmware the EFI system partition before any key is available.",
		}},
	}
}

func (filesystemsCheck) Run(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	exempt := p.StringList("exempt_mountpoints")
	mounts, err := fstab.Read(ctx, h, "/proc/mounts")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !h.Live() {
			return filesystemsFromFstab(ctx, h, exempt)
		}
		return checks.Errorf("cannot list mounted filesystems: %v", err)
	}
	topo, stop := readTopology(ctx, h)
	if stop != nil {
		return *stop
	}
	var t tally
	for _, m := range lastPerMountpoint(mounts) {
		if skipMount(m) {
			continue
		}
		ev := checks.Evidence{Key: "mount " + m.File, Expected: "on dm-crypt", Path: "/proc/mounts", Line: m.Line}
		switch {
		case slices.Contains(exempt, m.File):
			t.add(ev, m.File, sourceVerdict{ok: true, actual: "exempt (exempt_mountpoints): " + m.Spec})
		case notLocal(m):
			t.add(ev, m.File, sourceVerdict{ok: true, actual: "not a local block device (" + m.VfsType + " " + m.Spec + "): not judged"})
		case isFileBindMount(ctx, h, m.File):
			// Container runtimes bind single files (/etc/hosts) from the
			// host's disk; the disk is judged where it is mounted.
			continue
		case m.VfsType == "zfs":
			t.add(ev, m.File, sourceVerdict{
				actual:    "undetermined: zfs dataset " + m.Spec,
				undecided: "zfs dataset " + m.Spec + " cannot be traced to its pool devices from /proc/mounts",
			})
		case len(m.Spec) == 0 || m.Spec[0] != '/':
			t.add(ev, m.File, sourceVerdict{ok: true, actual: "not a block device (" + m.VfsType + " " + m.Spec + "): not judged"})
		default:
			t.add(ev, m.File, judgeSource(ctx, h, topo, m.Spec))
		}
	}
	if len(t.ev) == 0 {
		return checks.NotApplicable("no data filesystems mounted on block devices (source: /proc/mounts)")
	}
	return t.result("every data filesystem is on dm-crypt (source: /proc/mounts)", "filesystems not on dm-crypt: ")
}

// lastPerMountpoint keeps the last mount of each mount point, which is the
// one visible there; the order of first appearance is kept.
func lastPerMountpoint(mounts []fstab.Entry) []fstab.Entry {
	idx := map[string]int{}
	var out []fstab.Entry
	for _, m := range mounts {
		if i, ok := idx[m.File]; ok {
			out[i] = m
			continue
		}
		idx[m.File] = len(out)
		out = append(out, m)
	}
	return out
}

func isFileBindMount(ctx context.Context, h checks.Host, mountpoint string) bool {
	fi, err := h.Stat(ctx, mountpoint)
	return err == nil && fi.Mode.IsRegular()
}
