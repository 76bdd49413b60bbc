package diskcrypt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/blockdev"
	"github.com/plumbline/plumbline/checks/parse/crypttab"
	"github.com/plumbline/plumbline/checks/parse/fstab"
)

// fallbackSource names the configuration an image scan is judged from.
const fallbackSource = "source: /etc/fstab and /etc/crypttab, as /proc/mounts is not available (image scan)"

// staticConfig is what an image says about its volumes at boot.
type staticConfig struct {
	fstab    []fstab.Entry
	crypttab map[string]crypttab.Entry
	// lvmPVs caches the physical volume hints per volume group.
	lvmPVs map[string][]string
}

// readStaticConfig reads /etc/fstab and /etc/crypttab; a missing crypttab
// is an empty one, a missing fstab leaves nothing to judge.
func readStaticConfig(ctx context.Context, h checks.Host) (*staticConfig, *checks.Result) {
	ft, err := fstab.Read(ctx, h, "/etc/fstab")
	if err != nil {
		var r checks.Result
		if errors.Is(err, fs.ErrNotExist) {
			r = checks.Errorf("no /proc/mounts (image scan) and no /etc/fstab: cannot tell which filesystems the image mounts")
		} else {
			r = parseErrorResult("cannot read the filesystem table", err)
		}
		return nil, &r
	}
	ct, err := crypttab.Read(ctx, h, "/etc/crypttab")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		r := parseErrorResult("cannot read the encrypted volume table", err)
		return nil, &r
	}
	sc := &staticConfig{fstab: ft, crypttab: map[string]crypttab.Entry{}, lvmPVs: map[string][]string{}}
	for _, e := range ct {
		sc.crypttab[e.Name] = e
	}
	return sc, nil
}

func filesystemsFromFstab(ctx context.Context, h checks.Host, exempt []string) checks.Result {
	sc, stop := readStaticConfig(ctx, h)
	if stop != nil {
		return *stop
	}
	var t tally
	for _, e := range sc.fstab {
		if skipMount(e) {
			continue
		}
		ev := checks.Evidence{Key: "mount " + e.File, Expected: "on dm-crypt", Path: "/etc/fstab", Line: e.Line}
		switch {
		case slices.Contains(exempt, e.File):
			t.add(ev, e.File, sourceVerdict{ok: true, actual: "exempt (exempt_mountpoints): " + e.Spec})
		case notLocal(e):
			t.add(ev, e.File, sourceVerdict{ok: true, actual: "not a local block device (" + e.VfsType + " " + e.Spec + "): not judged"})
		default:
			t.add(ev, e.File, sc.judgeSpec(ctx, h, e.Spec))
		}
	}
	if len(t.ev) == 0 {
		return checks.NotApplicable("no data filesystems in /etc/fstab (" + fallbackSource + ")")
	}
	return t.result("every data filesystem in /etc/fstab is on a crypttab volume ("+fallbackSource+")",
		"filesystems not on dm-crypt ("+fallbackSource+"): ")
}

// judgeSpec judges an fstab device spec from static configuration alone.
func (sc *staticConfig) judgeSpec(ctx context.Context, h checks.Host, spec string) sourceVerdict {
	p, err := blockdev.SpecPath(spec)
	if err != nil {
		return undecided(err.Error())
	}
	if strings.HasPrefix(p, "/dev/disk/") {
		// Images rarely carry udev's links; use them when they are there.
		node, err := blockdev.FollowLinks(ctx, h, p)
		if err != nil {
			if errors.Is(err, checks.ErrLoop) {
				return undecided("symlink loop: " + err.Error())
			}
			return undecided(spec + " names a filesystem or partition by identifier, and the image has no " +
				p + " link to tell which device that is")
		}
		p = node
	}
	return sc.judgeDevPath(ctx, h, p, 0)
}

func undecided(why string) sourceVerdict {
	return sourceVerdict{actual: "undetermined: " + why, undecided: why}
}

func (sc *staticConfig) judgeDevPath(ctx context.Context, h checks.Host, p string, depth int) sourceVerdict {
	rel, ok := strings.CutPrefix(p, "/dev/")
	if !ok {
		return undecided(p + " is not a device path")
	}
	if depth > maxDepth {
		return undecided("LVM metadata below " + p + " nests too deep")
	}
	if name, ok := strings.CutPrefix(rel, "mapper/"); ok {
		if e, ok := sc.crypttab[name]; ok {
			return sourceVerdict{ok: true, actual: fmt.Sprintf("encrypted: %s is crypttab volume %s on %s (/etc/crypttab:%d)", p, name, e.Device, e.Line)}
		}
		vg, lv, ok := splitDMName(name)
		if !ok {
			return undecided(p + " is not in /etc/crypttab and is not an LVM volume name")
		}
		return sc.judgeLV(ctx, h, p, vg, lv, depth)
	}
	if dir, lv, ok := strings.Cut(rel, "/"); ok && dir != "disk" && dir != "md" && !strings.Contains(lv, "/") {
		return sc.judgeLV(ctx, h, p, dir, lv, depth)
	}
	switch st := leafState(rel); {
	case strings.HasPrefix(rel, "dm-"):
		return undecided(p + " is a device-mapper node whose name is only known to the running kernel")
	case strings.HasPrefix(rel, "md"):
		return undecided(p + " is a RAID device; its members are not recorded in static configuration")
	case st != statePlain:
		return sourceVerdict{ok: true, actual: describe(st, p)}
	}
	return sourceVerdict{actual: "not encrypted: " + p + " is a raw device, not a crypttab volume"}
}

// judgeLV judges a logical volume by the physical volumes its volume
// group's metadata backup records.
func (sc *staticConfig) judgeLV(ctx context.Context, h checks.Host, p, vg, lv string, depth int) sourceVerdict {
	backup := "/etc/lvm/backup/" + vg
	pvs, ok := sc.lvmPVs[vg]
	if !ok {
		data, err := h.ReadFile(ctx, backup)
		if err != nil {
			return undecided(fmt.Sprintf("%s is not in /etc/crypttab and its volume group metadata backup is unreadable: %v", p, err))
		}
		pvs = lvmPVDevices(data)
		sc.lvmPVs[vg] = pvs
	}
	if len(pvs) == 0 {
		return undecided(fmt.Sprintf("%s: %s lists no physical volume devices", p, backup))
	}
	var parts []string
	allOK := true
	for _, pv := range pvs {
		v := sc.judgeDevPath(ctx, h, path.Clean(pv), depth+1)
		if v.undecided != "" {
			return undecided(fmt.Sprintf("%s (LV %s/%s) is on %s: %s", p, vg, lv, pv, v.undecided))
		}
		allOK = allOK && v.ok
		parts = append(parts, v.actual)
	}
	verdict := "not encrypted: "
	if allOK {
		verdict = "encrypted: "
	}
	return sourceVerdict{ok: allOK, actual: fmt.Sprintf("%s%s is LV %s/%s on [%s] (%s)", verdict, p, vg, lv, strings.Join(parts, "; "), backup)}
}

// splitDMName splits an LVM device-mapper name "vg-lv" into its volume
// group and logical volume names; LVM doubles dashes inside names.
func splitDMName(name string) (vg, lv string, ok bool) {
	for i := 0; i < len(name); i++ {
		if name[i] != '-' {
			continue
		}
		if i+1 < len(name) && name[i+1] == '-' {
			i++
			continue
		}
		vg, lv = name[:i], name[i+1:]
		if vg == "" || lv == "" {
			return "", "", false
		}
		return strings.ReplaceAll(vg, "--", "-"), strings.ReplaceAll(lv, "--", "-"), true
	}
	return "", "", false
}

// lvmPVDevices returns the device hints of the physical volumes in an LVM
// metadata backup (/etc/lvm/backup/<vg>): the `device = "..."` lines.
func lvmPVDevices(data []byte) []string {
	var out []string
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimSpace(line)
		rest, ok := strings.CutPrefix(line, "device = \"")
		if !ok {
			continue
		}
		if dev, _, ok := strings.Cut(rest, "\""); ok && dev != "" {
			out = append(out, dev)
		}
	}
	return out
}
