package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/baseline"
	"github.com/plumbline/plumbline/checks/hostfs"
)

// testCheck is a check whose behaviour the test chooses.
type testCheck struct {
	id        string
	platforms []string
	run       func(ctx context.Context, h checks.Host) checks.Result
}

func (c testCheck) Meta() checks.Meta {
	return checks.Meta{ID: c.id, Title: c.id, Family: "test", Severity: checks.SeverityMedium,
		Rationale: "r", Remediation: "f", Platforms: c.platforms}
}

func (c testCheck) Run(ctx context.Context, h checks.Host, _ checks.Params) checks.Result {
	return c.run(ctx, h)
}

func entry(c checks.Check) baseline.Entry {
	return baseline.Entry{Check: c, Params: checks.Params{}, Severity: c.Meta().Severity}
}

func debianHost(t *testing.T) checks.Host {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/os-release"), []byte("ID=debian\nVERSION_ID=\"12\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := hostfs.New(hostfs.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRunIsolatesMisbehavingChecks(t *testing.T) {
	t.Parallel()
	h := debianHost(t)
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	entries := []baseline.Entry{
		entry(testCheck{id: "t.pass", run: func(context.Context, checks.Host) checks.Result { return checks.Pass("ok") }}),
		entry(testCheck{id: "t.panic", run: func(context.Context, checks.Host) checks.Result { panic("boom") }}),
		entry(testCheck{id: "t.hang", run: func(context.Context, checks.Host) checks.Result { <-block; return checks.Pass("late") }}),
		entry(testCheck{id: "t.slow_ctx", run: func(ctx context.Context, _ checks.Host) checks.Result {
			<-ctx.Done()
			return checks.Pass("finished after the deadline")
		}}),
		entry(testCheck{id: "t.invalid", run: func(context.Context, checks.Host) checks.Result { return checks.Result{Status: 42} }}),
		entry(testCheck{id: "t.silent_error", run: func(context.Context, checks.Host) checks.Result { return checks.Result{Status: checks.StatusError} }}),
		entry(testCheck{id: "t.rhel_only", platforms: []string{"rhel"}, run: func(context.Context, checks.Host) checks.Result { return checks.Fail("must not run") }}),
		entry(testCheck{id: "t.debian_only", platforms: []string{"debian"}, run: func(context.Context, checks.Host) checks.Result { return checks.Fail("ran") }}),
		{Check: testCheck{id: "t.skipped", run: func(context.Context, checks.Host) checks.Result { return checks.Fail("must not run") }}, Skip: "not for build hosts"},
	}
	results := Run(context.Background(), h, entries, Options{CheckTimeout: 100 * time.Millisecond})

	want := []struct {
		status  checks.Status
		message string
	}{
		{checks.StatusPass, "ok"},
		{checks.StatusError, "internal error in check: boom"},
		{checks.StatusError, "timeout after 100ms"},
		{checks.StatusError, "timeout after 100ms"},
		{checks.StatusError, "invalid status 42"},
		{checks.StatusError, "without a reason"},
		{checks.StatusNotApplicable, "applies to rhel; host is debian"},
		{checks.StatusFail, "ran"},
		{checks.StatusSkipped, "not for build hosts"},
	}
	if len(results) != len(want) {
		t.Fatalf("got %d results, want %d", len(results), len(want))
	}
	for i, w := range want {
		r := results[i]
		if r.ID != entries[i].Check.Meta().ID {
			t.Errorf("result %d id %s, want %s (order must follow the baseline)", i, r.ID, entries[i].Check.Meta().ID)
		}
		if r.Status != w.status || !strings.Contains(r.Message, w.message) {
			t.Errorf("%s: %s %q, want %s containing %q", r.ID, r.Status, r.Message, w.status, w.message)
		}
		if r.Severity != checks.SeverityMedium {
			t.Errorf("%s: severity %s, want medium from meta", r.ID, r.Severity)
		}
	}
}

func TestRunCancelledScan(t *testing.T) {
	t.Parallel()
	h := debianHost(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	results := Run(ctx, h, []baseline.Entry{entry(testCheck{id: "t.wait", run: func(ctx context.Context, _ checks.Host) checks.Result {
		<-ctx.Done()
		return checks.Errorf("stopped: %v", ctx.Err())
	}})}, Options{})
	if results[0].Status != checks.StatusError {
		t.Errorf("cancelled scan: %s %q, want ERROR", results[0].Status, results[0].Message)
	}
}

func TestRunPlatformWithoutOSRelease(t *testing.T) {
	t.Parallel()
	h, err := hostfs.New(hostfs.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	results := Run(context.Background(), h, []baseline.Entry{
		entry(testCheck{id: "t.rhel_only", platforms: []string{"rhel"}, run: func(context.Context, checks.Host) checks.Result { return checks.Pass("ran") }}),
		entry(testCheck{id: "t.any", run: func(context.Context, checks.Host) checks.Result { return checks.Pass("ran") }}),
	}, Options{})
	if results[0].Status != checks.StatusError || !strings.Contains(results[0].Message, "os-release") {
		t.Errorf("platform check without os-release: %s %q, want ERROR naming os-release", results[0].Status, results[0].Message)
	}
	if results[1].Status != checks.StatusPass {
		t.Errorf("platform-independent check: %s, want PASS", results[1].Status)
	}
}

func TestSelect(t *testing.T) {
	t.Parallel()
	b := &baseline.Baseline{Name: "b", Entries: []baseline.Entry{
		entry(testCheck{id: "t.a"}), entry(testCheck{id: "t.b"}), entry(testCheck{id: "t.c"}),
	}}
	got, err := Select(b, []string{"t.c", "t.a"})
	if err != nil || len(got) != 2 || got[0].Check.Meta().ID != "t.a" || got[1].Check.Meta().ID != "t.c" {
		t.Errorf("Select = %v, %v; want t.a, t.c in baseline order", got, err)
	}
	if _, err := Select(b, []string{"t.a", "t.typo"}); err == nil || !strings.Contains(err.Error(), "t.typo") {
		t.Errorf("Select with unknown id: error %v, want one naming t.typo", err)
	}
}
