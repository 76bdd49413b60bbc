package blockdev

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/plumbline/plumbline/checks"
)

// maxLinks matches Linux's MAXSYMLINKS.
const maxLinks = 40

// ErrUnknownDevice means a device path does not name any block device in
// /sys/block.
var ErrUnknownDevice = errors.New("no such block device in /sys/block")

// specDirs maps fstab and crypttab tags to the udev symlink directories
// that name devices by them.
var specDirs = map[string]string{
	"UUID":      "/dev/disk/by-uuid/",
	"PARTUUID":  "/dev/disk/by-partuuid/",
	"LABEL":     "/dev/disk/by-label/",
	"PARTLABEL": "/dev/disk/by-partlabel/",
	"ID":        "/dev/disk/by-id/",
}

// SpecPath turns a device spec from fstab or crypttab into the /dev path
// udev creates for it: "UUID=abc" becomes "/dev/disk/by-uuid/abc"; paths
// are returned cleaned. It fails for specs that are not device specs
// ("tmpfs", "server:/export").
func SpecPath(spec string) (string, error) {
	if tag, val, ok := strings.Cut(spec, "="); ok {
		dir, known := specDirs[tag]
		if !known {
			return "", fmt.Errorf("device spec %q: unknown tag %s", spec, tag)
		}
		val = strings.Trim(val, `"`)
		if val == "" {
			return "", fmt.Errorf("device spec %q: empty %s", spec, tag)
		}
		if tag == "UUID" || tag == "PARTUUID" {
			val = strings.ToLower(val)
		}
		return dir + udevEncode(val), nil
	}
	if !path.IsAbs(spec) {
		return "", fmt.Errorf("device spec %q: not a path or TAG=value", spec)
	}
	return path.Clean(spec), nil
}

// udevEncode escapes a label as udev does for /dev/disk/by-label names:
// bytes outside a safe set become \xHH.
func udevEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		safe := size > 1 && r != utf8.RuneError ||
			r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("#+-.:=@_", r)
		if safe {
			b.WriteString(s[i : i+size])
		} else {
			for j := range size {
				fmt.Fprintf(&b, `\x%02x`, s[i+j])
			}
		}
		i += size
	}
	return b.String()
}

// FollowLinks resolves the symlinks of a device path's final component
// (/dev/mapper/x -> ../dm-0, /dev/disk/by-uuid/u -> ../../vda2) and returns
// the path of the device node. A cycle fails with an error that wraps
// checks.ErrLoop and names the path; a dangling link wraps fs.ErrNotExist.
func FollowLinks(ctx context.Context, h checks.Host, p string) (string, error) {
	cur := path.Clean(p)
	for range maxLinks {
		fi, err := h.Lstat(ctx, cur)
		if err != nil {
			if errors.Is(err, checks.ErrLoop) {
				return "", fmt.Errorf("resolve %s: %w", p, checks.ErrLoop)
			}
			if cur != p {
				return "", fmt.Errorf("resolve %s: %s: %w", p, cur, err)
			}
			return "", fmt.Errorf("resolve %s: %w", p, err)
		}
		if !fi.IsSymlink() {
			return cur, nil
		}
		target, err := h.Readlink(ctx, cur)
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", p, err)
		}
		if !path.IsAbs(target) {
			target = path.Join(path.Dir(cur), target)
		}
		cur = path.Clean(target)
	}
	return "", fmt.Errorf("resolve %s: %w", p, checks.ErrLoop)
}

// Resolve maps a device path or spec (as in /proc/mounts, fstab or
// crypttab) to its block device, following udev symlinks. It returns the
// device and the device node path it resolved to.
func (t *Topology) Resolve(ctx context.Context, h checks.Host, spec string) (*Device, string, error) {
	p, err := SpecPath(spec)
	if err != nil {
		return nil, "", err
	}
	node, err := FollowLinks(ctx, h, p)
	if err != nil {
		return nil, "", err
	}
	if d, ok := t.nodeDevice(node); ok {
		return d, node, nil
	}
	return nil, node, fmt.Errorf("%s (resolved to %s): %w", spec, node, ErrUnknownDevice)
}

// nodeDevice finds the device for a /dev node path by name: /dev/<kname>,
// /dev/mapper/<dm name> (device nodes on systems without udev symlinks),
// and /dev/a/b for kernel names with '/' (sysfs writes "cciss!c0d0").
func (t *Topology) nodeDevice(node string) (*Device, bool) {
	rel, ok := strings.CutPrefix(node, "/dev/")
	if !ok {
		return nil, false
	}
	if name, ok := strings.CutPrefix(rel, "mapper/"); ok {
		return t.ByDMName(name)
	}
	return t.Device(strings.ReplaceAll(rel, "/", "!"))
}
