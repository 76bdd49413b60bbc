package diskcrypt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/blockdev"
	"github.com/plumbline/plumbline/checks/parse/fstab"
)

// noBlockDevices is the NOT_APPLICABLE reason when sysfs shows no disks.
const noBlockDevices = "no block devices visible in /sys/block: container or image scan"

// encryptingTypes are the cryptsetup device types whose dm target encrypts.
// Others that cryptsetup also marks "CRYPT-" do not: VERITY and INTEGRITY
// only authenticate, SUBDEV is the integrity layer below a LUKS2 volume,
// TEMP a short-lived helper.
var encryptingTypes = map[string]bool{
	"LUKS1": true, "LUKS2": true, "PLAIN": true, "LOOPAES": true,
	"TCRYPT": true, "BITLK": true, "FVAULT2": true,
}

// isCryptMapping reports whether d is an open dm-crypt mapping.
func isCryptMapping(d *blockdev.Device) bool { return encryptingTypes[d.CryptType()] }

// state is what a device stack means for data at rest. Larger is worse,
// so that a stack takes the worst state of its members.
type state int

const (
	stateEncrypted state = iota
	// stateRAM: zram and brd devices, whose contents do not outlive power.
	stateRAM
	// stateFile: loop devices; their data lives in a file on another
	// filesystem, which is judged on its own.
	stateFile
	statePlain
)

// maxDepth bounds a device stack; real ones are a handful deep.
const maxDepth = 16

// judgeDevice walks down from d until every path ends in a dm-crypt
// mapping or a device with nothing below it, and describes the stack:
// "dm-1 (vg0-root) -> dm-0 (luks-x) [LUKS2] -> vda3".
func judgeDevice(t *blockdev.Topology, d *blockdev.Device) (state, string, error) {
	return walk(t, d, 0, map[string]bool{})
}

func walk(t *blockdev.Topology, d *blockdev.Device, depth int, onPath map[string]bool) (state, string, error) {
	if depth > maxDepth || onPath[d.Name] {
		return 0, "", fmt.Errorf("device stack below %s is cyclic or deeper than %d in /sys/block", d.Name, maxDepth)
	}
	onPath[d.Name] = true
	defer delete(onPath, d.Name)
	label := d.Label()
	if isCryptMapping(d) {
		label += " [" + d.CryptType() + "]"
		if len(d.Slaves) > 0 {
			label += " -> " + strings.Join(d.Slaves, ", ")
		}
		return stateEncrypted, label, nil
	}
	below := d.Slaves
	if d.IsPartition() {
		// A partition is as encrypted as the disk it is cut from.
		parent, ok := t.Device(d.Parent)
		if !ok || len(parent.Slaves) == 0 && !isCryptMapping(parent) {
			return leafState(d.Parent), label, nil
		}
		below = []string{d.Parent}
	}
	if len(below) == 0 {
		st := leafState(d.Name)
		if st == stateFile && d.BackingFile != "" {
			label += " (file " + d.BackingFile + ")"
		}
		return st, label, nil
	}
	worst := stateEncrypted
	var chains []string
	for _, name := range below {
		child, ok := t.Device(name)
		if !ok {
			return 0, "", fmt.Errorf("%s is built on %s, which /sys/block does not list", d.Name, name)
		}
		st, chain, err := walk(t, child, depth+1, onPath)
		if err != nil {
			return 0, "", err
		}
		worst = max(worst, st)
		chains = append(chains, chain)
	}
	if len(chains) == 1 {
		return worst, label + " -> " + chains[0], nil
	}
	return worst, label + " -> [" + strings.Join(chains, "; ") + "]", nil
}

func leafState(name string) state {
	switch {
	case strings.HasPrefix(name, "zram"), strings.HasPrefix(name, "ram"):
		return stateRAM
	case strings.HasPrefix(name, "loop"):
		return stateFile
	}
	return statePlain
}

// describe renders a judged stack as evidence text.
func describe(st state, chain string) string {
	switch st {
	case stateEncrypted:
		return "encrypted: " + chain
	case stateRAM:
		return "in RAM, not at rest: " + chain
	case stateFile:
		return "loop device, judged with the filesystem holding its file: " + chain
	}
	return "not encrypted: " + chain
}

// sourceVerdict is the judgement of one mount source or swap device.
type sourceVerdict struct {
	ok     bool
	actual string
	// undecided is set when the source could not be judged, with why.
	undecided string
}

// judgeSource resolves a device path from /proc/mounts or /proc/swaps and
// judges the stack below it.
func judgeSource(ctx context.Context, h checks.Host, t *blockdev.Topology, src string) sourceVerdict {
	d, _, err := t.Resolve(ctx, h, src)
	if err != nil {
		why := err.Error()
		switch {
		case errors.Is(err, checks.ErrLoop):
			why = "symlink loop: " + why
		case errors.Is(err, fs.ErrNotExist):
			why = "device does not exist: " + why
		}
		return sourceVerdict{actual: "undetermined: " + why, undecided: why}
	}
	st, chain, err := judgeDevice(t, d)
	if err != nil {
		return sourceVerdict{actual: "undetermined: " + err.Error(), undecided: err.Error()}
	}
	if src != "/dev/"+d.Name {
		chain = src + " = " + chain
	}
	return sourceVerdict{ok: st != statePlain, actual: describe(st, chain)}
}

// readTopology reads the block device topology, or says why a check cannot
// go on: a result is returned when the caller should stop.
func readTopology(ctx context.Context, h checks.Host) (*blockdev.Topology, *checks.Result) {
	t, err := blockdev.Read(ctx, h)
	if err != nil {
		r := checks.Errorf("cannot read the block device topology: %v", err)
		return nil, &r
	}
	if t.Len() == 0 {
		r := checks.NotApplicable(noBlockDevices)
		return nil, &r
	}
	return t, nil
}

// pseudoFS are filesystem types that hold no data at rest on a local disk
// of their own: kernel interfaces, memory, unions over other filesystems,
// and read-only images.
var pseudoFS = map[string]bool{
	"proc": true, "sysfs": true, "devtmpfs": true, "devpts": true, "tmpfs": true, "ramfs": true,
	"cgroup": true, "cgroup2": true, "cpuset": true, "securityfs": true, "pstore": true,
	"bpf": true, "debugfs": true, "tracefs": true, "configfs": true, "fusectl": true,
	"mqueue": true, "hugetlbfs": true, "autofs": true, "binfmt_misc": true, "rpc_pipefs": true,
	"nsfs": true, "efivarfs": true, "selinuxfs": true, "rootfs": true, "nfsd": true,
	"overlay": true, "aufs": true, "squashfs": true, "iso9660": true, "udf": true, "erofs": true,
	"fuse.lxcfs": true, "fuse.gvfsd-fuse": true, "fuse.portal": true, "fuse.snapfuse": true,
	"none": true, "swap": true,
}

// networkFS store their data elsewhere; encryption at rest is the
// server's business.
var networkFS = map[string]bool{
	"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "smbfs": true, "ceph": true,
	"glusterfs": true, "9p": true, "virtiofs": true, "lustre": true, "afs": true,
}

// skipMount reports whether a mount is not judged at all.
func skipMount(e fstab.Entry) bool {
	return pseudoFS[e.VfsType] || e.HasOption("bind")
}

// notLocal reports whether a mount's data is not on a local block device.
func notLocal(e fstab.Entry) bool {
	if networkFS[e.VfsType] {
		return true
	}
	return strings.HasPrefix(e.VfsType, "fuse.") && !strings.HasPrefix(e.Spec, "/dev/")
}

// tally collects evidence and ends a check: FAIL when anything failed
// (a definite failure is a decision even when other items are undecided),
// else ERROR when something could not be judged, else PASS.
type tally struct {
	ev        []checks.Evidence
	failed    []string
	undecided []string
}

func (t *tally) add(e checks.Evidence, what string, v sourceVerdict) {
	e.OK = v.ok
	e.Actual = v.actual
	t.ev = append(t.ev, e)
	switch {
	case v.undecided != "":
		t.undecided = append(t.undecided, what+": "+v.undecided)
	case !v.ok:
		t.failed = append(t.failed, what)
	}
}

func (t *tally) result(passMsg, failPrefix string) checks.Result {
	if len(t.failed) > 0 {
		msg := failPrefix + strings.Join(t.failed, ", ")
		if len(t.undecided) > 0 {
			msg += fmt.Sprintf(" (and %d not decided: %s)", len(t.undecided), strings.Join(t.undecided, "; "))
		}
		return checks.Fail(msg, t.ev...)
	}
	if len(t.undecided) > 0 {
		return checks.Result{Status: checks.StatusError, Message: "cannot decide: " + strings.Join(t.undecided, "; "), Evidence: t.ev}
	}
	return checks.Pass(passMsg, t.ev...)
}

// parseErrorResult is the ERROR for a configuration file that does not
// parse, with the file and line as evidence.
func parseErrorResult(what string, err error) checks.Result {
	r := checks.Errorf("%s: %v", what, err)
	var se *checks.SyntaxError
	if errors.As(err, &se) {
		r.Evidence = []checks.Evidence{{Key: se.Path, Expected: "valid " + path.Base(se.Path) + " syntax", Actual: se.Msg, Path: se.Path, Line: se.Line}}
	}
	return r
}
