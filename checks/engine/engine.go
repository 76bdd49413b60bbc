// Package engine evaluates a baseline on a host: it runs every selected
// check in parallel, each under its own deadline, and turns whatever goes
// wrong inside a check (a panic, a timeout, an invalid status) into an ERROR
// result for that check alone.
package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/baseline"
	"github.com/plumbline/plumbline/checks/osrelease"
)

// DefaultCheckTimeout bounds each check.
const DefaultCheckTimeout = 10 * time.Second

// Options tune a run.
type Options struct {
	// CheckTimeout bounds each check; default DefaultCheckTimeout.
	CheckTimeout time.Duration
	// Parallelism is how many checks run at once; default 2×GOMAXPROCS
	// (checks mostly wait on the filesystem).
	Parallelism int
	// Only, when non-empty, restricts the run to these check ids.
	Only []string
}

// Select returns the baseline entries to run: all, or those named in only.
// An id in only that the baseline does not select is an error, so a typo
// never yields an empty, all-green scan.
func Select(b *baseline.Baseline, only []string) ([]baseline.Entry, error) {
	if len(only) == 0 {
		return b.Entries, nil
	}
	var out []baseline.Entry
	found := map[string]bool{}
	for _, e := range b.Entries {
		if id := e.Check.Meta().ID; slices.Contains(only, id) {
			out = append(out, e)
			found[id] = true
		}
	}
	var missing []string
	for _, id := range only {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("--only: %s not in baseline %s", strings.Join(missing, ", "), b.Name)
	}
	return out, nil
}

// Run evaluates entries on h and returns one result per entry, in entry order.
func Run(ctx context.Context, h checks.Host, entries []baseline.Entry, opts Options) []checks.Result {
	if opts.CheckTimeout <= 0 {
		opts.CheckTimeout = DefaultCheckTimeout
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = 2 * runtime.GOMAXPROCS(0)
	}
	osInfo, osErr := osrelease.Read(ctx, h)

	results := make([]checks.Result, len(entries))
	sem := make(chan struct{}, opts.Parallelism)
	var wg sync.WaitGroup
	for i, e := range entries {
		meta := e.Check.Meta()
		base := checks.Result{ID: meta.ID, Title: meta.Title, Severity: e.Severity}
		if base.Severity == 0 {
			base.Severity = meta.Severity
		}
		switch {
		case e.Skip != "":
			results[i] = fill(base, checks.Result{Status: checks.StatusSkipped, Message: "skipped by baseline: " + e.Skip}, 0)
			continue
		case len(meta.Platforms) > 0 && osErr != nil:
			results[i] = fill(base, checks.Errorf("cannot tell whether the check applies (platforms %s): %v", strings.Join(meta.Platforms, ", "), osErr), 0)
			continue
		case len(meta.Platforms) > 0 && !meta.AppliesTo(osInfo.ID, osInfo.IDLike):
			results[i] = fill(base, checks.NotApplicable(fmt.Sprintf("applies to %s; host is %s", strings.Join(meta.Platforms, ", "), osInfo.ID)), 0)
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = runOne(ctx, h, e, base, opts.CheckTimeout)
		}()
	}
	wg.Wait()
	return results
}

// runOne runs a check under its deadline. A check that ignores its context
// is abandoned at the deadline (its goroutine finishes in the background)
// so that one stuck read cannot hold up the scan.
func runOne(ctx context.Context, h checks.Host, e baseline.Entry, base checks.Result, timeout time.Duration) checks.Result {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	done := make(chan checks.Result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- checks.Errorf("internal error in check: %v\n%s", p, firstFrames(debug.Stack()))
			}
		}()
		done <- e.Check.Run(ctx, h, e.Params)
	}()
	select {
	case r := <-done:
		if errors.Is(ctx.Err(), context.Canceled) {
			r = checks.Errorf("scan cancelled before the check finished")
		} else if ctx.Err() != nil && r.Status != checks.StatusError {
			// Finished, but possibly on partial reads after the deadline.
			r = checks.Errorf("timeout after %s", timeout)
		}
		return fill(base, validate(r), time.Since(start))
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			return fill(base, checks.Errorf("scan cancelled before the check finished"), time.Since(start))
		}
		return fill(base, checks.Errorf("timeout after %s", timeout), time.Since(start))
	}
}

// validate turns results a check should never return into ERROR.
func validate(r checks.Result) checks.Result {
	switch r.Status {
	case checks.StatusPass, checks.StatusFail, checks.StatusError, checks.StatusNotApplicable, checks.StatusSkipped:
	default:
		return checks.Errorf("check returned an invalid status %d", int(r.Status))
	}
	if r.Status == checks.StatusError && r.Message == "" {
		r.Message = "check returned ERROR without a reason"
	}
	return r
}

func fill(base, r checks.Result, d time.Duration) checks.Result {
	base.Status, base.Message, base.Evidence = r.Status, r.Message, r.Evidence
	base.Duration = checks.Duration(d)
	return base
}

// firstFrames keeps the panic site, not the whole goroutine dump.
func firstFrames(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	if len(lines) > 12 {
		lines = lines[:12]
	}
	return strings.Join(lines, "\n")
}
