package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/plumbline/plumbline/agent/scan"
	"github.com/plumbline/plumbline/checks/baseline"
	"github.com/plumbline/plumbline/checks/checktest"
)

// benchRoot is the debootstrapped Debian 12 root when it has been built
// ("make rootfs-debian12"), else the fixture server tree; the figures name it.
func benchRoot(b *testing.B) (root, name string) {
	b.Helper()
	if r := os.Getenv("PLUMBLINETEST_DEBIAN12_ROOT"); r != "" {
		if _, err := os.Stat(filepath.Join(r, "etc/os-release")); err == nil {
			return r, "debootstrap-debian12"
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		r := filepath.Join(home, ".cache/plumbline/debian12")
		if _, err := os.Stat(filepath.Join(r, "etc/os-release")); err == nil {
			return r, "debootstrap-debian12"
		}
	}
	return checktest.Materialize(b, benchHost), "fixture-debian12"
}

// BenchmarkBaselines: each distribution's whole built-in baseline (its
// Level 1 checks) on one root, in-process; then the real binary doing the
// same, for its wall time and peak RSS. Checks gated to other platforms
// report NOT_APPLICABLE at once, so on the Debian root the RHEL-family
// baselines do less work than on a RHEL host.
func BenchmarkBaselines(b *testing.B) {
	root, rootName := benchRoot(b)
	ctx := context.Background()
	for _, name := range []string{"debian-12", "ubuntu-22.04", "ubuntu-24.04", "rhel-9", "alinux-3"} {
		bl, err := baseline.Builtin(name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/"+rootName+"/in-process", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := scan.Run(ctx, scan.Options{Root: root, Baseline: name, HostID: "bench"}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(bl.Entries)), "checks")
		})
		b.Run(name+"/"+rootName+"/binary", func(b *testing.B) {
			benchBinary(b, "scan", "--root", root, "--baseline", name, "--host-id", "bench", "--format", "json", "-o", "/dev/null")
		})
	}
}
