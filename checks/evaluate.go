package checks

import (
	"context"
	"errors"
	"runtime/debug"
	"strings"
	"time"
)

// DefaultTimeout bounds a check when no deadline is given.
const DefaultTimeout = 10 * time.Second

// Evaluate runs one check under its deadline and returns its validated
// result with the duration set. A check that ignores its context is
// abandoned at the deadline (its goroutine finishes in the background) so
// that one stuck read cannot hold up the scan; a panic is ERROR. The plugin
// SDK runs checks through it too, so a check behaves the same in and out of
// process.
func Evaluate(ctx context.Context, h Host, c Check, p Params, timeout time.Duration) Result {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	done := make(chan Result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- Errorf("internal error in check: %v\n%s", p, firstFrames(debug.Stack()))
			}
		}()
		done <- c.Run(ctx, h, p)
	}()
	var r Result
	select {
	case r = <-done:
		if errors.Is(ctx.Err(), context.Canceled) {
			r = Errorf("scan cancelled before the check finished")
		} else if ctx.Err() != nil && r.Status != StatusError {
			// Finished, but possibly on partial reads after the deadline.
			r = Errorf("timeout after %s", timeout)
		}
		r = Validate(r)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			r = Errorf("scan cancelled before the check finished")
		} else {
			r = Errorf("timeout after %s", timeout)
		}
	}
	r.Duration = Duration(time.Since(start))
	return r
}

// Validate turns results a check should never return into ERROR: an
// unknown status, or ERROR without a reason.
func Validate(r Result) Result {
	switch r.Status {
	case StatusPass, StatusFail, StatusError, StatusNotApplicable, StatusSkipped:
	default:
		return Errorf("check returned an invalid status %d", int(r.Status))
	}
	if r.Status == StatusError && r.Message == "" {
		r.Message = "check returned ERROR without a reason"
	}
	return r
}

// firstFrames keeps the panic site, not the whole goroutine dump.
func firstFrames(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	if len(lines) > 12 {
		lines = lines[:12]
	}
	return strings.Join(lines, "\n")
}
