package diskcrypt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/fstab"
)

func init() { checks.Register(swapCheck{}) }

type swapCheck struct{}

func (swapCheck) Meta() checks.Meta {
	return checks.Meta{
		ID:       "diskcrypt.swap_encrypted",
		Title:    "Swap is on an encrypted (dm-crypt) device",
		Family:   "diskcrypt",
		Severity: checks.SeverityMedium,
		Rationale: "Memory pages written to swap can hold keys, passwords and any data the host processes, " +
			"and stay on disk after shutdown. Encryption at rest is incomplete unless swap is encrypted too, " +
			"ideally with a fresh random key on every boot.",
		Remediation: "Encrypt swap with a random key at each boot: run 'swapoff -a'; add\n" +
			"  cswap /dev/disk/by-partuuid/<partuuid> /dev/urandom swap,cipher=aes-xts-plain64,size=512,sector-size=4096\n" +
			"to /etc/crypttab (always a stable by-partuuid or by-id path: the device is reformatted at every boot); " +
			"replace the swap line in /etc/fstab with '/dev/mapper/cswap none swap defaults 0 0'; then " +
			"'systemctl daemon-reload && systemctl start systemd-cryptsetup@cswap.service && swapon -a' " +
			"(on Debian without systemd: cryptdisks_start cswap). Alternatively put swap on a logical volume " +
			"inside an encrypted volume group. Hibernation needs a persistent LUKS key instead of /dev/urandom.",
		References: []checks.Reference{measure},
	}
}

// swapArea is one line of /proc/swaps.
type swapArea struct {
	file string
	// typ is "partition" or "file".
	typ  string
	line int
}

// parseSwaps parses /proc/swaps: a header line, then
// "Filename Type Size Used Priority" with the file name octal-escaped.
func parseSwaps(path string, data []byte) ([]swapArea, error) {
	var out []swapArea
	for i, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || i == 0 && fields[0] == "Filename" {
			continue
		}
		if len(fields) < 2 {
			return nil, fmt.Errorf("%s:%d: want filename and type, got %q", path, i+1, line)
		}
		name, err := fstab.Unescape(fields[0])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		out = append(out, swapArea{file: strings.TrimSuffix(name, " (deleted)"), typ: fields[1], line: i + 1})
	}
	return out, nil
}

func (swapCheck) Run(ctx context.Context, h checks.Host, _ checks.Params) checks.Result {
	data, err := h.ReadFile(ctx, "/proc/swaps")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !h.Live() {
			return swapFromFstab(ctx, h)
		}
		return checks.Errorf("cannot list active swap: read /proc/swaps: %v", err)
	}
	swaps, err := parseSwaps("/proc/swaps", data)
	if err != nil {
		return checks.Errorf("cannot list active swap: %v", err)
	}
	topo, stop := readTopology(ctx, h)
	if stop != nil {
		return *stop
	}
	if len(swaps) == 0 {
		return checks.Pass("no swap active", checks.Evidence{Key: "active swap", Expected: "none, or on dm-crypt", Actual: "none", OK: true, Path: "/proc/swaps"})
	}
	var t tally
	for _, s := range swaps {
		ev := checks.Evidence{Key: "swap " + s.file, Expected: "on dm-crypt", Path: "/proc/swaps", Line: s.line}
		switch s.typ {
		case "partition":
			t.add(ev, s.file, judgeSource(ctx, h, topo, s.file))
		case "file":
			m, err := containingMount(ctx, h, s.file)
			if err != nil {
				t.add(ev, s.file, undecided(err.Error()))
				continue
			}
			v := judgeSource(ctx, h, topo, m.Spec)
			v.actual = fmt.Sprintf("swap file on %s (%s): %s", m.File, m.Spec, v.actual)
			t.add(ev, s.file, v)
		default:
			t.add(ev, s.file, undecided(fmt.Sprintf("unknown swap type %q", s.typ)))
		}
	}
	return t.result("all active swap is encrypted or in RAM (source: /proc/swaps)", "swap not on dm-crypt: ")
}

// containingMount returns the mount holding file: the longest mount point
// that is a prefix of its path.
func containingMount(ctx context.Context, h checks.Host, file string) (fstab.Entry, error) {
	mounts, err := fstab.Read(ctx, h, "/proc/mounts")
	if err != nil {
		return fstab.Entry{}, fmt.Errorf("cannot find the filesystem holding %s: %w", file, err)
	}
	return longestPrefixMount(lastPerMountpoint(mounts), file)
}

func longestPrefixMount(mounts []fstab.Entry, file string) (fstab.Entry, error) {
	best, found := fstab.Entry{}, false
	for _, m := range mounts {
		if !strings.HasPrefix(m.File, "/") {
			continue
		}
		prefix := strings.TrimSuffix(m.File, "/") + "/"
		if strings.HasPrefix(file, prefix) && (!found || len(m.File) >= len(best.File)) {
			best, found = m, true
		}
	}
	if !found {
		return fstab.Entry{}, fmt.Errorf("no mounted filesystem holds %s", file)
	}
	return best, nil
}

func swapFromFstab(ctx context.Context, h checks.Host) checks.Result {
	sc, stop := readStaticConfig(ctx, h)
	if stop != nil {
		return *stop
	}
	var t tally
	for _, e := range sc.fstab {
		if e.VfsType != "swap" {
			continue
		}
		ev := checks.Evidence{Key: "swap " + e.Spec, Expected: "on dm-crypt", Path: "/etc/fstab", Line: e.Line}
		if strings.HasPrefix(e.Spec, "/") && !strings.HasPrefix(e.Spec, "/dev/") {
			m, err := longestPrefixMount(sc.fstab, e.Spec)
			if err != nil {
				t.add(ev, e.Spec, undecided(err.Error()))
				continue
			}
			v := sc.judgeSpec(ctx, h, m.Spec)
			v.actual = fmt.Sprintf("swap file on %s (%s, /etc/fstab:%d): %s", m.File, m.Spec, m.Line, v.actual)
			t.add(ev, e.Spec, v)
			continue
		}
		t.add(ev, e.Spec, sc.judgeSpec(ctx, h, e.Spec))
	}
	if len(t.ev) == 0 {
		return checks.Pass("no swap configured in /etc/fstab ("+fallbackSource+")",
			checks.Evidence{Key: "configured swap", Expected: "none, or on dm-crypt", Actual: "none", OK: true, Path: "/etc/fstab"})
	}
	return t.result("all swap in /etc/fstab is on crypttab volumes ("+fallbackSource+")", "swap not on dm-crypt ("+fallbackSource+"): ")
}
