// Package blockdev reads the kernel's block device topology from sysfs:
// which devices exist (/sys/block and the partitions below each disk), their
// device numbers, the device-mapper name and UUID of dm devices, and which
// devices sit on which (slaves and holders). It also maps the device paths
// and specs that fstab, crypttab and /proc/mounts use (/dev/mapper/NAME,
// /dev/VG/LV, UUID=..., /dev/disk/by-uuid/...) to those devices.
package blockdev

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/plumbline/plumbline/checks"
)

// Device is one block device as sysfs shows it.
type Device struct {
	// Name is the kernel name: "vda2", "dm-0", "md0", "nvme0n1p3".
	Name string `json:"name"`
	// Dev is "major:minor".
	Dev string `json:"dev"`
	// Parent is the disk a partition belongs to; empty for disks.
	Parent string `json:"parent,omitempty"`
	// DMName and DMUUID are set for device-mapper devices
	// (/sys/block/dm-N/dm/name and dm/uuid).
	DMName string `json:"dm_name,omitempty"`
	DMUUID string `json:"dm_uuid,omitempty"`
	// Slaves are the devices this one is built on (dm, md); Holders are
	// the devices built on this one.
	Slaves  []string `json:"slaves,omitempty"`
	Holders []string `json:"holders,omitempty"`
	// BackingFile is the file behind a loop device.
	BackingFile string `json:"backing_file,omitempty"`
}

// IsPartition reports whether the device is a partition of a disk.
func (d *Device) IsPartition() bool { return d.Parent != "" }

// CryptType returns the device type cryptsetup recorded in a dm UUID of the
// form "CRYPT-<type>-[<uuid>-]<name>": "LUKS1", "LUKS2", "PLAIN", "VERITY",
// "INTEGRITY", "SUBDEV", "TEMP", ...; empty for other devices.
func (d *Device) CryptType() string {
	rest, ok := strings.CutPrefix(d.DMUUID, "CRYPT-")
	if !ok {
		return ""
	}
	typ, _, _ := strings.Cut(rest, "-")
	return typ
}

// CryptUUID returns the LUKS UUID (32 hex digits, without dashes) recorded in
// a dm UUID "CRYPT-LUKS2-<uuid>-<name>", or "" when there is none.
func (d *Device) CryptUUID() string {
	typ := d.CryptType()
	if typ == "" {
		return ""
	}
	rest := strings.TrimPrefix(d.DMUUID, "CRYPT-"+typ+"-")
	id, _, ok := strings.Cut(rest, "-")
	if !ok || len(id) != 32 || strings.Trim(strings.ToLower(id), "0123456789abcdef") != "" {
		return ""
	}
	return strings.ToLower(id)
}

// Label renders the device for evidence: "dm-1 (vg-root)" or "vda2".
func (d *Device) Label() string {
	if d.DMName != "" {
		return d.Name + " (" + d.DMName + ")"
	}
	return d.Name
}

// Topology is every block device on the host, by kernel name.
type Topology struct {
	byName   map[string]*Device
	byDMName map[string]*Device
}

// Len returns the number of devices, partitions included.
func (t *Topology) Len() int { return len(t.byName) }

// Device returns the device with the kernel name.
func (t *Topology) Device(name string) (*Device, bool) {
	d, ok := t.byName[name]
	return d, ok
}

// ByDMName returns the device-mapper device named name (/dev/mapper/<name>).
func (t *Topology) ByDMName(name string) (*Device, bool) {
	d, ok := t.byDMName[name]
	return d, ok
}

// Devices returns every device sorted by kernel name.
func (t *Topology) Devices() []*Device {
	out := make([]*Device, 0, len(t.byName))
	for _, d := range t.byName {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *Device) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Read reads the topology from /sys/block once per scan. A host without
// /sys/block (a container, an image) yields an empty topology, not an
// error: the caller decides what having no block devices means.
func Read(ctx context.Context, h checks.Host) (*Topology, error) {
	return checks.Memoized(h, "blockdev.Read", func() (*Topology, error) { return read(ctx, h) })
}

func read(ctx context.Context, h checks.Host) (*Topology, error) {
	t := &Topology{byName: map[string]*Device{}, byDMName: map[string]*Device{}}
	disks, err := h.ReadDir(ctx, "/sys/block")
	if errors.Is(err, fs.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list /sys/block: %w", err)
	}
	for _, disk := range disks {
		dir := "/sys/block/" + disk.Name
		d, err := readDevice(ctx, h, dir, disk.Name)
		if err != nil {
			return nil, err
		}
		t.add(d)
		if d.DMName != "" {
			t.byDMName[d.DMName] = d
		}
		parts, err := partitions(ctx, h, dir, disk.Name)
		if err != nil {
			return nil, err
		}
		for _, p := range parts {
			pd, err := readDevice(ctx, h, dir+"/"+p, p)
			if err != nil {
				return nil, err
			}
			pd.Parent = disk.Name
			t.add(pd)
		}
	}
	return t, nil
}

func (t *Topology) add(d *Device) { t.byName[d.Name] = d }

// partitions lists the partitions of a disk: the subdirectories of its
// sysfs directory that have a "partition" attribute.
func partitions(ctx context.Context, h checks.Host, dir, disk string) ([]string, error) {
	entries, err := h.ReadDir(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name, disk) {
			continue
		}
		if _, err := h.Lstat(ctx, e.Path+"/partition"); err == nil {
			out = append(out, e.Name)
		}
	}
	return out, nil
}

func readDevice(ctx context.Context, h checks.Host, dir, name string) (*Device, error) {
	d := &Device{Name: name}
	var err error
	if d.Dev, err = readAttr(ctx, h, dir+"/dev"); err != nil {
		return nil, err
	}
	if d.DMName, err = readAttr(ctx, h, dir+"/dm/name"); err != nil {
		return nil, err
	}
	if d.DMUUID, err = readAttr(ctx, h, dir+"/dm/uuid"); err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, "loop") {
		if d.BackingFile, err = readAttr(ctx, h, dir+"/loop/backing_file"); err != nil {
			return nil, err
		}
	}
	if d.Slaves, err = listNames(ctx, h, dir+"/slaves"); err != nil {
		return nil, err
	}
	if d.Holders, err = listNames(ctx, h, dir+"/holders"); err != nil {
		return nil, err
	}
	return d, nil
}

// readAttr reads a sysfs attribute; a missing one is empty.
func readAttr(ctx context.Context, h checks.Host, p string) (string, error) {
	b, err := h.ReadFile(ctx, p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	return strings.TrimSpace(string(b)), nil
}

func listNames(ctx context.Context, h checks.Host, dir string) ([]string, error) {
	entries, err := h.ReadDir(ctx, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Name)
	}
	return out, nil
}
