package main

import (
	"github.com/plumbline/plumbline/checks/checktest"

	"context"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/plumbline/plumbline/agent/scan"
)

// The figures the issue asks for: wall time and allocations of a full scan of
// the fixture server tree (in-process), and the peak RSS of the real binary
// doing the same scan. Nothing here fails on timing.

const benchHost = "testdata/hosts/debian12-server"

func BenchmarkFullScan(b *testing.B) {
	root := checktest.Materialize(b, benchHost)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := scan.Run(ctx, scan.Options{Root: root}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFullScanBinary(b *testing.B) {
	root := checktest.Materialize(b, benchHost)
	benchBinary(b, "scan", "--root", root, "--format", "json", "-o", "/dev/null")
}

// benchBinary runs the agent binary with args in a loop and reports its
// peak RSS and wall time per run; exit statuses 0-2 (pass, error, fail)
// are results, anything else is a failure.
func benchBinary(b *testing.B, args ...string) {
	b.Helper()
	var peakKB int64
	var wall time.Duration
	n := 0
	for b.Loop() {
		cmd := exec.Command(agentBin, args...)
		start := time.Now()
		err := cmd.Run()
		wall += time.Since(start)
		n++
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 2) {
			b.Fatalf("scan: %v", err)
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > peakKB {
			peakKB = ru.Maxrss
		}
	}
	b.ReportMetric(float64(peakKB)/1024, "peak-RSS-MB")
	b.ReportMetric(float64(wall.Microseconds())/1000/float64(n), "process-ms")
}
