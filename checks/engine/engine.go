// Package engine evaluates a baseline on a host: it runs every selected
// check in parallel, each under its own deadline, and turns whatever goes
// wrong inside a check (a panic, a timeout, an invalid status) into an ERROR
// result for that check alone.
package engine

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/baseline"
	"github.com/plumbline/plumbline/checks/osrelease"
)

// DefaultCheckTimeout bounds each check.
const DefaultCheckTimeout = checks.DefaultTimeout

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

// Invocation is one check of a batch handed to a BatchExecutor.
type Invocation struct {
	Check   checks.Check
	Params  checks.Params
	Timeout time.Duration
}

// BatchExecutor evaluates checks somewhere else, such as a plugin process,
// in one batch. RunBatch returns one result per invocation, in order; it
// turns its own failures (the plugin crashed, timed out) into ERROR results
// of the checks concerned.
type BatchExecutor interface {
	RunBatch(ctx context.Context, h checks.Host, invs []Invocation) []checks.Result
}

// Batched is implemented by checks whose evaluation belongs to a
// BatchExecutor: Run gathers them per executor and calls it once, alongside
// the in-process checks.
type Batched interface {
	Executor() BatchExecutor
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
	bases := make([]checks.Result, len(entries))
	batches := map[BatchExecutor][]int{}
	var order []BatchExecutor
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
		if b, ok := e.Check.(Batched); ok {
			x := b.Executor()
			if _, seen := batches[x]; !seen {
				order = append(order, x)
			}
			batches[x] = append(batches[x], i)
			bases[i] = base
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = fill(base, checks.Evaluate(ctx, h, e.Check, e.Params, opts.CheckTimeout), -1)
		}()
	}
	// Each executor (plugin) runs its batch alongside the in-process checks;
	// it does its own waiting, so it takes no parallelism slot.
	for _, x := range order {
		idx := batches[x]
		invs := make([]Invocation, len(idx))
		for j, i := range idx {
			invs[j] = Invocation{Check: entries[i].Check, Params: entries[i].Params, Timeout: opts.CheckTimeout}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs := runBatch(ctx, h, x, invs)
			for j, i := range idx {
				results[i] = fill(bases[i], rs[j], -1)
			}
		}()
	}
	wg.Wait()
	return results
}

// runBatch calls an executor, holding it to its contract: one valid result
// per invocation, and a panic is ERROR for the batch, not a crashed agent.
func runBatch(ctx context.Context, h checks.Host, x BatchExecutor, invs []Invocation) (rs []checks.Result) {
	defer func() {
		if p := recover(); p != nil {
			rs = make([]checks.Result, len(invs))
			for j := range rs {
				rs[j] = checks.Errorf("internal error running the batch: %v", p)
			}
		}
	}()
	rs = x.RunBatch(ctx, h, invs)
	if len(rs) != len(invs) {
		panic(fmt.Sprintf("executor %T returned %d results for %d checks", x, len(rs), len(invs)))
	}
	for j := range rs {
		rs[j] = checks.Validate(rs[j])
	}
	return rs
}

// fill copies an outcome into the entry's result; d < 0 keeps r's duration.
func fill(base, r checks.Result, d time.Duration) checks.Result {
	base.Status, base.Message, base.Evidence = r.Status, r.Message, r.Evidence
	base.Duration = r.Duration
	if d >= 0 {
		base.Duration = checks.Duration(d)
	}
	return base
}
