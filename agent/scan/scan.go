// Package scan runs one scan: it opens the host, resolves the baseline,
// evaluates it, and assembles the report.
package scan

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/plumbline/plumbline/agent/facts"
	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/baseline"
	"github.com/plumbline/plumbline/checks/engine"
	"github.com/plumbline/plumbline/checks/hostfs"
	"github.com/plumbline/plumbline/checks/osrelease"
	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/plugins/loader"
)

// Version is the agent version stamped into reports; set by the linker.
var Version = "dev"

// Options say what to scan and against what.
type Options struct {
	// Root, Proc and Sys locate the scanned system (see hostfs.Options).
	Root, Proc, Sys string
	// Baseline is a built-in baseline name or a file path; empty picks the
	// built-in baseline for the host's os-release.
	Baseline string
	// ChecksDir holds the operator's declarative check files (see
	// LoadLocalChecks); they join the baseline. Empty or missing: none.
	ChecksDir string
	// Only restricts the scan to these check ids.
	Only []string
	// HostID overrides the host identity.
	HostID string
	// Identity, when set, is used as is (the daemon resolves it once, from
	// config, the ECS metadata service or machine-id).
	Identity *report.Identity
	// Group and Interval are stamped into the report by the daemon.
	Group    string
	Interval time.Duration
	// Sequence numbers the report for this host (the daemon increments it).
	Sequence     uint64
	CheckTimeout time.Duration
	// Plugins, when set, are launched for this scan: their checks run with
	// the baseline's (a pinned plugin whose name is a built-in family's
	// replaces it), and the report lists them.
	Plugins *loader.Config
	// Catalog, when non-nil, receives the metadata of every check of the
	// scan, plugins' included, for renderers that need more than results.
	Catalog map[string]checks.Meta
}

// Notes are things the user should know about a scan that are not results,
// e.g. that the generic baseline was used.
type Notes []string

// Run performs one scan.
func Run(ctx context.Context, opts Options) (*report.Report, Notes, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("scan interrupted: %w", err)
	}
	started := time.Now()
	h, err := hostfs.New(hostfs.Options{Root: opts.Root, Proc: opts.Proc, Sys: opts.Sys})
	if err != nil {
		return nil, nil, err
	}
	var notes Notes
	local, err := LoadLocalChecks(opts.ChecksDir)
	if err != nil {
		return nil, nil, err
	}
	lookup := LocalLookup(local, checks.Lookup)
	var sess *loader.Session
	if opts.Plugins != nil {
		cfg := *opts.Plugins
		if cfg.CheckTimeout <= 0 {
			cfg.CheckTimeout = opts.CheckTimeout
		}
		if sess, err = loader.Open(ctx, cfg, h); err != nil {
			return nil, nil, err
		}
		defer sess.Close()
		if err := OwnedByPlugins(local, sess.Owns); err != nil {
			return nil, nil, err
		}
		lookup = LocalLookup(local, PluginLookup(sess))
	}
	b, note, err := ResolveBaseline(ctx, h, opts.Baseline, lookup)
	if err != nil {
		return nil, nil, err
	}
	if note != "" {
		notes = append(notes, note)
	}
	if sess != nil {
		b = withChecks(b, sess.Checks())
	}
	b = withChecks(b, local)
	entries, err := engine.Select(b, opts.Only)
	if err != nil {
		return nil, nil, err
	}
	if opts.Catalog != nil {
		for _, e := range entries {
			opts.Catalog[e.Check.Meta().ID] = e.Check.Meta()
		}
	}
	var id report.Identity
	if opts.Identity != nil {
		id = *opts.Identity
	} else if id, err = facts.Identity(ctx, h, opts.HostID); err != nil {
		return nil, nil, err
	}
	if h.RootDir() != "/" {
		id.Root = h.RootDir()
	}
	// Facts and checks are independent: collect facts while checks run.
	type factsResult struct {
		f   report.Facts
		err error
	}
	fc := make(chan factsResult, 1)
	go func() {
		f, err := facts.Collect(ctx, h)
		fc <- factsResult{f, err}
	}()
	results := engine.Run(ctx, h, entries, engine.Options{CheckTimeout: opts.CheckTimeout})
	fr := <-fc
	if err := ctx.Err(); err != nil {
		// An interrupted scan is not a report: its "cancelled" ERRORs
		// would read as findings.
		return nil, nil, fmt.Errorf("scan interrupted: %w", err)
	}
	if fr.err != nil {
		notes = append(notes, fmt.Sprintf("facts: %v", fr.err))
	}
	r := &report.Report{
		Schema:     report.Schema,
		ScanID:     newScanID(),
		Sequence:   opts.Sequence,
		Host:       id,
		Facts:      fr.f,
		Baseline:   report.BaselineRef{Name: b.Name, Version: b.Version, SHA256: b.SHA256, Source: b.Source},
		Plugins:    pluginRefs(sess),
		StartedAt:  started.UTC(),
		FinishedAt: time.Now().UTC(),
		Summary:    report.Summarize(results),
		Results:    results,
		Agent:      Version,
		Group:      opts.Group,
	}
	if opts.Interval > 0 {
		r.ScanIntervalSeconds = int64(opts.Interval / time.Second)
	}
	return r, notes, nil
}

// PluginLookup resolves check ids to the session's plugin checks first (a
// plugin owns its name's id namespace, replacing a built-in family of that
// name), then to the built-in checks.
func PluginLookup(sess *loader.Session) baseline.Lookup {
	return func(id string) (checks.Check, bool) {
		if c, ok := sess.Lookup(id); ok {
			return c, true
		}
		if sess.Owns(id) {
			return nil, false
		}
		return checks.Lookup(id)
	}
}

func pluginRefs(s *loader.Session) []report.PluginRef {
	if s == nil {
		return []report.PluginRef{}
	}
	return s.Refs()
}

// ResolveBaseline loads the baseline named by spec: a file when spec names
// an existing file or ends in .yaml/.yml, a built-in name otherwise, or the
// built-in for the host's os-release when spec is empty. lookup resolves
// check ids (nil: the built-in checks).
func ResolveBaseline(ctx context.Context, h checks.Host, spec string, lookup baseline.Lookup) (*baseline.Baseline, string, error) {
	if spec == "" {
		info, err := osrelease.Read(ctx, h)
		if err != nil {
			return nil, "", fmt.Errorf("pick a baseline: %w (name one with --baseline)", err)
		}
		name, note := baseline.ForPlatform(info.ID, info.IDLike, info.VersionID)
		b, err := baseline.BuiltinWith(name, lookup)
		return b, note, err
	}
	if _, err := os.Stat(spec); err == nil || strings.HasSuffix(spec, ".yaml") || strings.HasSuffix(spec, ".yml") || strings.Contains(spec, "/") {
		b, err := baseline.LoadFile(spec, lookup)
		return b, "", err
	}
	b, err := baseline.BuiltinWith(spec, lookup)
	return b, "", err
}

func newScanID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b[:])
}
