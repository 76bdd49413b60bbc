package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/plumbline/plumbline/agent/scan"
	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/engine"
	"github.com/plumbline/plumbline/checks/report"
)

func agentVersion() string { return scan.Version }

func cmdScan(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		opts    scan.Options
		only    string
		format  string
		outFile string
		plugDir string
		plugLck string
		plugUsr string
	)
	fs.StringVar(&opts.Root, "root", "/", "directory holding the system to scan (a mounted image or chroot)")
	fs.StringVar(&opts.Proc, "proc", "", "directory serving /proc (default ROOT/proc)")
	fs.StringVar(&opts.Sys, "sys", "", "directory serving /sys (default ROOT/sys)")
	fs.StringVar(&opts.ChecksDir, "checks-dir", "", "also run the declarative check files (*.yaml) in this directory")
	fs.StringVar(&opts.Baseline, "baseline", "", "built-in baseline name or baseline file (default: the built-in one for the host's os-release)")
	fs.StringVar(&only, "only", "", "comma-separated check ids to run (default: every check in the baseline)")
	fs.StringVar(&format, "format", "table", "output format: table, json, junit or ocsf")
	fs.StringVar(&outFile, "o", "", "write the output to this file instead of standard output")
	fs.StringVar(&opts.HostID, "host-id", "", "host id to report (default: /etc/machine-id of the scanned root)")
	fs.DurationVar(&opts.CheckTimeout, "check-timeout", engine.DefaultCheckTimeout, "deadline for each check")
	fs.StringVar(&plugDir, "plugin-dir", "", "also run the pinned plugins in this directory (see plumbline-agent plugin)")
	fs.StringVar(&plugLck, "plugin-lock", "", "the pins for --plugin-dir, in sha256sum's format (default DIR/plugins.lock)")
	fs.StringVar(&plugUsr, "plugin-user", "nobody", "user plugins run as when the agent runs as root (empty: root)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: plumbline-agent scan [flags]\n\nExit status: 0 all pass, 2 any FAIL, 1 any ERROR without FAIL or a usage/internal error.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK, err
		}
		return exitError, errUsage
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitError, fmt.Errorf("scan takes no arguments, got %q", strings.Join(fs.Args(), " "))
	}
	f, err := report.ParseFormat(format)
	if err != nil {
		return exitError, fmt.Errorf("--format: %w", err)
	}
	if only != "" {
		for _, id := range strings.Split(only, ",") {
			if id = strings.TrimSpace(id); id != "" {
				opts.Only = append(opts.Only, id)
			}
		}
	}
	if plugLck != "" && plugDir == "" {
		return exitError, fmt.Errorf("--plugin-lock needs --plugin-dir")
	}
	if plugDir != "" {
		pc, cleanup, err := scanPluginConfig(plugDir, plugLck, plugUsr, stderr)
		if err != nil {
			return exitError, err
		}
		defer cleanup()
		opts.Plugins = pc
	}
	opts.Catalog = map[string]checks.Meta{}
	r, notes, err := scan.Run(ctx, opts)
	if err != nil {
		return exitError, err
	}
	for _, n := range notes {
		fmt.Fprintf(stderr, "plumbline-agent: note: %s\n", n)
	}
	var buf bytes.Buffer
	lookup := func(id string) (checks.Check, bool) {
		if m, ok := opts.Catalog[id]; ok {
			return metaOnly(m), true
		}
		return checks.Lookup(id)
	}
	if err := report.Write(&buf, f, r, lookup); err != nil {
		return exitError, fmt.Errorf("render %s: %w", f, err)
	}
	if outFile == "" {
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return exitError, err
		}
		return r.ExitCode(), nil
	}
	if err := writeFileAtomic(outFile, buf.Bytes()); err != nil {
		return exitError, err
	}
	s := r.Summary
	fmt.Fprintf(stderr, "plumbline-agent: %d pass, %d fail, %d error, %d not applicable, %d skipped; %s written to %s\n",
		s.Pass, s.Fail, s.Error, s.NotApplicable, s.Skipped, f, outFile)
	return r.ExitCode(), nil
}

// writeFileAtomic writes via a temp file and rename, so that a reader (or a
// CI job collecting JUnit) never sees half a report.
func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
