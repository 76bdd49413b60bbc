package diskcrypt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/blockdev"
	"github.com/plumbline/plumbline/checks/parse/crypttab"
)

func init() { checks.Register(crypttabCheck{}) }

type crypttabCheck struct{}

func (crypttabCheck) Meta() checks.Meta {
	return checks.Meta{
		ID:       "diskcrypt.crypttab_consistent",
		Title:    "/etc/crypttab declares every open encrypted volume, on devices that exist",
		Family:   "diskcrypt",
		Severity: checks.SeverityMedium,
		Rationale: "A mapping opened by hand and missing from /etc/crypttab is not reopened after a reboot, " +
			"so the data it protects silently moves elsewhere or the service fails; an entry whose device is " +
			"gone or different hangs or breaks the boot; a swap or tmp volume with a persistent key keeps " +
			"its contents readable across reboots.",
		Remediation: "For each open mapping, add '<name> UUID=<uuid> none luks' to /etc/crypttab (the UUID from " +
			"'cryptsetup luksUUID /dev/<part>' or 'blkid /dev/<part>'); remove or correct entries whose device no " +
			"longer exists (mark removable volumes 'noauto,nofail'); key swap and tmp entries with /dev/urandom; " +
			"then rebuild the initramfs (update-initramfs -u, or dracut -f) so that early boot uses the same table.",
		References: []checks.Reference{measure},
	}
}

// kernelCmdlineVolumes returns the volumes the kernel command line asks
// systemd-cryptsetup to open (rd.luks.name=UUID=NAME, rd.luks.uuid=UUID,
// and the luks.* forms), by mapping name.
func kernelCmdlineVolumes(cmdline string) map[string]string {
	out := map[string]string{}
	for _, arg := range strings.Fields(cmdline) {
		key, val, ok := strings.Cut(arg, "=")
		if !ok {
			continue
		}
		switch strings.TrimPrefix(key, "rd.") {
		case "luks.name":
			if uuid, name, ok := strings.Cut(val, "="); ok {
				out[name] = uuid
			}
		case "luks.uuid":
			uuid := strings.TrimPrefix(val, "luks-")
			out["luks-"+uuid] = uuid
		}
	}
	return out
}

func (crypttabCheck) Run(ctx context.Context, h checks.Host, _ checks.Params) checks.Result {
	topo, stop := readTopology(ctx, h)
	if stop != nil {
		return *stop
	}
	entries, err := crypttab.Read(ctx, h, "/etc/crypttab")
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		return parseErrorResult("cannot check the encrypted volume table", err)
	}
	var cmdline map[string]string
	if data, err := h.ReadFile(ctx, "/proc/cmdline"); err == nil {
		cmdline = kernelCmdlineVolumes(string(data))
	}
	var mappings []*blockdev.Device
	for _, d := range topo.Devices() {
		if isCryptMapping(d) {
			mappings = append(mappings, d)
		}
	}
	if len(mappings) == 0 && missing {
		return checks.NotApplicable("no dm-crypt mappings are open and there is no /etc/crypttab")
	}

	var t tally
	byName := map[string]crypttab.Entry{}
	for _, e := range entries {
		ev := checks.Evidence{Key: "crypttab " + e.Name, Path: "/etc/crypttab", Line: e.Line}
		if prev, dup := byName[e.Name]; dup {
			ev.Expected = "declared once"
			t.add(ev, e.Name+" declared twice", sourceVerdict{actual: fmt.Sprintf("also declared at /etc/crypttab:%d", prev.Line)})
			continue
		}
		byName[e.Name] = e
		ev.Key = "crypttab " + e.Name + " device"
		ev.Expected = "exists"
		t.add(ev, e.Name+" device "+e.Device, entryDevice(ctx, h, topo, e))
		if e.Has("swap") || e.Has("tmp") {
			kind := "swap"
			if !e.Has("swap") {
				kind = "tmp"
			}
			ev.Key = "crypttab " + e.Name + " key"
			ev.Expected = "random key (/dev/urandom) for a " + kind + " volume"
			key := e.KeyFile
			if key == "" {
				key = "none (passphrase)"
			}
			t.add(ev, e.Name+" "+kind+" key", sourceVerdict{ok: e.RandomKey(), actual: key})
		}
	}
	for _, d := range mappings {
		ev := checks.Evidence{Key: "mapping " + d.DMName, Expected: "declared in /etc/crypttab with its device"}
		if e, ok := byName[d.DMName]; ok {
			ev.Path, ev.Line = "/etc/crypttab", e.Line
			t.add(ev, "mapping "+d.DMName, mappingMatchesEntry(ctx, h, topo, d, e))
			continue
		}
		if uuid, ok := cmdline[d.DMName]; ok {
			ev.Path = "/proc/cmdline"
			t.add(ev, "mapping "+d.DMName, sourceVerdict{ok: true, actual: "declared on the kernel command line for LUKS UUID " + uuid})
			continue
		}
		actual := "open (" + d.Name + ", " + d.CryptType() + ") but not in /etc/crypttab"
		if missing {
			actual = "open (" + d.Name + ", " + d.CryptType() + ") and /etc/crypttab does not exist"
		}
		ev.Path = "/etc/crypttab"
		t.add(ev, "mapping "+d.DMName+" undeclared", sourceVerdict{actual: actual})
	}
	return t.result(fmt.Sprintf("/etc/crypttab matches the %d open dm-crypt mapping(s)", len(mappings)), "crypttab inconsistent: ")
}

// entryDevice judges whether a crypttab entry's source device exists.
func entryDevice(ctx context.Context, h checks.Host, topo *blockdev.Topology, e crypttab.Entry) sourceVerdict {
	d, node, err := topo.Resolve(ctx, h, e.Device)
	switch {
	case err == nil && node == e.Device:
		return sourceVerdict{ok: true, actual: node + " exists"}
	case err == nil:
		return sourceVerdict{ok: true, actual: e.Device + " is " + node + " (" + d.Name + ")"}
	case errors.Is(err, checks.ErrLoop):
		return undecided("symlink loop: " + err.Error())
	case errors.Is(err, fs.ErrNotExist):
		if e.Has("nofail") || e.Has("noauto") {
			return sourceVerdict{ok: true, actual: e.Device + " absent, allowed for a noauto/nofail volume"}
		}
		return sourceVerdict{actual: e.Device + " does not exist"}
	case errors.Is(err, blockdev.ErrUnknownDevice):
		if !strings.HasPrefix(node, "/dev/") {
			// crypttab may name an image file, opened through a loop device.
			return sourceVerdict{ok: true, actual: e.Device + " is the file " + node}
		}
		return sourceVerdict{actual: err.Error()}
	}
	return undecided(err.Error())
}

// mappingMatchesEntry judges whether an open mapping sits on the device its
// crypttab entry names, so that the next boot opens the same volume.
func mappingMatchesEntry(ctx context.Context, h checks.Host, topo *blockdev.Topology, d *blockdev.Device, e crypttab.Entry) sourceVerdict {
	backing, err := backingDevice(topo, d)
	if err != nil {
		return undecided(err.Error())
	}
	want, _, err := topo.Resolve(ctx, h, e.Device)
	if err != nil {
		// entryDevice reports the missing device; the declaration itself is there.
		return sourceVerdict{ok: true, actual: "declared; open on " + backing.Name}
	}
	if want.Name != backing.Name {
		return sourceVerdict{actual: fmt.Sprintf("open on %s but /etc/crypttab names %s (%s)", backing.Name, e.Device, want.Name)}
	}
	return sourceVerdict{ok: true, actual: "declared, open on " + backing.Name + " = " + e.Device}
}

// backingDevice returns the device a dm-crypt mapping reads from: its one
// slave, below the dm-integrity layer (CRYPT-SUBDEV) of an authenticated
// LUKS2 volume.
func backingDevice(topo *blockdev.Topology, d *blockdev.Device) (*blockdev.Device, error) {
	cur := d
	for range maxDepth {
		if len(cur.Slaves) != 1 {
			return nil, fmt.Errorf("mapping %s is built on %d devices, want 1", d.DMName, len(cur.Slaves))
		}
		next, ok := topo.Device(cur.Slaves[0])
		if !ok {
			return nil, fmt.Errorf("mapping %s is built on %s, which /sys/block does not list", d.DMName, cur.Slaves[0])
		}
		if next.CryptType() != "SUBDEV" {
			return next, nil
		}
		cur = next
	}
	return nil, fmt.Errorf("mapping %s: integrity layers nest too deep", d.DMName)
}
