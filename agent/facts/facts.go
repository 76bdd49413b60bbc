// Package facts resolves who the scanned host is and what it runs: its
// identity (from /etc/machine-id, through the Host so that an image has its
// own) and its facts (os-release from the Host; kernel, CPUs, memory and
// virtualization from gopsutil, only for the live system).
package facts

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/mem"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/osrelease"
	"github.com/plumbline/plumbline/checks/report"
)

// Identity returns the host's identity from /etc/machine-id (as seen in the
// scanned root) and its hostname. An override, when set, wins.
func Identity(ctx context.Context, h checks.Host, override string) (report.Identity, error) {
	id := report.Identity{Hostname: hostname(ctx, h)}
	if override != "" {
		id.ID, id.IDSource = override, "config"
		return id, nil
	}
	data, err := h.ReadFile(ctx, "/etc/machine-id")
	if err != nil {
		return id, fmt.Errorf("host identity: %w (give one with --host-id)", err)
	}
	mid := strings.TrimSpace(string(data))
	if len(mid) != 32 || strings.Trim(mid, "0123456789abcdef") != "" {
		return id, fmt.Errorf("host identity: /etc/machine-id holds %q, not a 32-digit hex id (give one with --host-id)", mid)
	}
	id.ID, id.IDSource = mid, "machine-id"
	return id, nil
}

func hostname(ctx context.Context, h checks.Host) string {
	if h.Live() {
		if n, err := os.Hostname(); err == nil {
			return n
		}
	}
	if data, err := h.ReadFile(ctx, "/etc/hostname"); err == nil {
		return strings.TrimSpace(string(data))
	}
	return ""
}

// Collect returns the host's facts. os-release problems are returned as an
// error alongside whatever else was learned; gopsutil failures only leave
// fields empty, because facts are context, not findings.
func Collect(ctx context.Context, h checks.Host) (report.Facts, error) {
	var f report.Facts
	info, err := osrelease.Read(ctx, h)
	if err == nil {
		f.OS, f.Platform, f.IDLike = info.PrettyName, info.Platform(), info.IDLike
		if f.OS == "" {
			f.OS = info.ID + " " + info.VersionID
		}
	}
	if !h.Live() {
		return f, err
	}
	f.Arch = runtime.GOARCH
	f.CPUs = runtime.NumCPU()
	// Targeted calls rather than host.Info, which also counts processes and
	// reads platform files and costs ~45 ms where these cost well under 1.
	if k, kerr := host.KernelVersionWithContext(ctx); kerr == nil {
		f.Kernel = k
	}
	if a, aerr := host.KernelArch(); aerr == nil {
		f.Arch = a
	}
	if up, uerr := host.UptimeWithContext(ctx); uerr == nil {
		f.UptimeSeconds = up
	}
	if system, role, verr := host.VirtualizationWithContext(ctx); verr == nil && role == "guest" {
		f.Virtualization = system
	}
	if vm, merr := mem.VirtualMemoryWithContext(ctx); merr == nil {
		f.MemoryBytes = vm.Total
	}
	return f, err
}
