package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plumbline/plumbline/agent/config"
	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/plugins/loader"
	"github.com/plumbline/plumbline/plugins/scaffold"
)

// pluginConfig turns the agent's plugin settings into the loader's, or nil
// when plugins are not set up at all (neither the directory nor the lock
// file exists). A lock file that cannot be read or parsed is an error: the
// agent must not run with pins it does not understand.
func pluginConfig(p config.Plugins, checkTimeout time.Duration, runDir string, deny []string, log *slog.Logger) (*loader.Config, error) {
	if p.Dir == "" {
		return nil, nil
	}
	_, dirErr := os.Stat(p.Dir)
	var pins map[string]string
	if p.LockFile != "" {
		data, err := os.ReadFile(p.LockFile)
		switch {
		case err == nil:
			if pins, err = loader.ParseLockFile(p.LockFile, data); err != nil {
				return nil, fmt.Errorf("plugins.lock_file: %w", err)
			}
		case errors.Is(err, fs.ErrNotExist):
			if errors.Is(dirErr, fs.ErrNotExist) {
				return nil, nil
			}
		default:
			return nil, fmt.Errorf("plugins.lock_file: %w", err)
		}
	} else if errors.Is(dirErr, fs.ErrNotExist) {
		return nil, nil
	}
	return &loader.Config{
		Dir: p.Dir, Pins: pins, CheckTimeout: checkTimeout, User: p.User, Deny: deny,
		Budget: p.Budget, StartTimeout: p.StartTimeout, OutputBytes: int(p.OutputBytes),
		RunDir: runDir, AgentVersion: agentVersion(), Logger: log,
	}, nil
}

// reloadPins re-reads the lock file before a scan, so that re-pinning an
// upgraded plugin takes effect at the next scan without a restart. A lock
// file that has become unreadable or invalid keeps the pins the agent has
// (logged every scan): a bad edit must not unpin every plugin.
func reloadPins(pc *loader.Config, lockFile string, log *slog.Logger) *loader.Config {
	if pc == nil || lockFile == "" {
		return pc
	}
	data, err := os.ReadFile(lockFile)
	if err == nil {
		var pins map[string]string
		if pins, err = loader.ParseLockFile(lockFile, data); err == nil {
			pc.Pins = pins
			return pc
		}
	}
	if errors.Is(err, fs.ErrNotExist) && len(pc.Pins) == 0 {
		return pc
	}
	log.Error("plugin pins not reloaded; keeping the previous ones", "lock_file", lockFile, "err", err)
	return pc
}

const pluginUsage = `Usage:
  plumbline-agent plugin new NAME [--dir DIR] [--module PATH] [--plumbline-src DIR]
      write a working plugin project (main, an example check with its test and
      fixtures, a Makefile) into DIR (default ./NAME)
  plumbline-agent plugin describe PATH [--json]
      launch the plugin binary at PATH, print what it provides and its pin line

Writing a plugin: see plugins/README.md.
`

func cmdPlugin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, pluginUsage)
		return errUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, pluginUsage)
		return nil
	case "describe":
		return cmdPluginDescribe(ctx, args[1:], stdout, stderr)
	case "new":
		return cmdPluginNew(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "plumbline-agent plugin: unknown command %q\n\n%s", args[0], pluginUsage)
	return errUsage
}

// oneArg parses flags given before or after the one positional argument a
// plugin command takes, and returns that argument.
func oneArg(fs *flag.FlagSet, args []string, stderr io.Writer) (string, error) {
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, pluginUsage) }
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return "", err
			}
			return "", errUsage // the flag package has printed the problem
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) != 1 {
		fmt.Fprint(stderr, pluginUsage)
		return "", errUsage
	}
	return positional[0], nil
}

func cmdPluginDescribe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plugin describe", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	arg, err := oneArg(fs, args, stderr)
	if err != nil {
		return err
	}
	runDir, err := os.MkdirTemp("", "plumbline-describe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(runDir)
	d, err := loader.DescribeFile(ctx, arg, loader.Config{RunDir: runDir, AgentVersion: agentVersion(), Logger: slog.New(slog.DiscardHandler)})
	if d == nil {
		return err
	}
	if *asJSON {
		if werr := writeJSON(stdout, d); werr != nil {
			return werr
		}
		return err
	}
	fmt.Fprintf(stdout, "plugin   %s %s (SDK %s)\nsha256   %s\npin      %s  %s   (add this line to the agent's plugins.lock_file)\n\n", d.Name, d.Version, d.SDKVersion, d.SHA256, d.SHA256, filepath.Base(arg))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSEVERITY\tPARAMS\tTITLE")
	for _, m := range d.Checks {
		var params []string
		for _, p := range m.Params {
			params = append(params, fmt.Sprintf("%s=%v", p.Name, p.Default))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.ID, m.Severity, strings.Join(params, " "), m.Title)
	}
	if ferr := tw.Flush(); ferr != nil {
		return ferr
	}
	return err
}

func cmdPluginNew(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plugin new", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory to write the project into; must not exist or be empty (default ./NAME)")
	module := fs.String("module", "", "Go module path of the project (default example.com/plumbline-plugin-NAME)")
	src := fs.String("plumbline-src", "", "a plumbline source checkout to build against (go.mod replace), until the module is published")
	arg, err := oneArg(fs, args, stderr)
	if err != nil {
		return err
	}
	name := arg
	if *dir == "" {
		*dir = name
	}
	if err := scaffold.Generate(*dir, scaffold.Options{Name: name, Module: *module, PlumblineSrc: *src}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote plugin %s into %s\n\nNext:\n  cd %s && make test && make\n  plumbline-agent plugin describe %s/bin/%s\n  see %s/README.md for installing and pinning it\n", name, *dir, *dir, *dir, name, *dir)
	return nil
}

// scanPluginConfig is the plugin setup of a one-off scan: the plugins of
// dir, pinned by lock (default dir/plugins.lock), with a run directory of
// its own that cleanup removes.
func scanPluginConfig(dir, lock, user string, stderr io.Writer) (*loader.Config, func(), error) {
	if lock == "" {
		lock = filepath.Join(dir, "plugins.lock")
	}
	data, err := os.ReadFile(lock)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("--plugin-dir %s: no pins in %s; pin each plugin with: cd %s && sha256sum NAME >> %s (or give --plugin-lock)", dir, lock, dir, lock)
		}
		return nil, nil, fmt.Errorf("--plugin-lock: %w", err)
	}
	pins, err := loader.ParseLockFile(lock, data)
	if err != nil {
		return nil, nil, err
	}
	runDir, err := os.MkdirTemp("", "plumbline-scan-")
	if err != nil {
		return nil, nil, err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return &loader.Config{Dir: dir, Pins: pins, RunDir: runDir, User: user, AgentVersion: agentVersion(), Logger: log},
		func() { os.RemoveAll(runDir) }, nil
}

// metaOnly presents a plugin check's metadata to renderers after its
// plugin is gone; renderers never run it.
type metaOnly checks.Meta

func (m metaOnly) Meta() checks.Meta { return checks.Meta(m) }

func (m metaOnly) Run(context.Context, checks.Host, checks.Params) checks.Result {
	return checks.Errorf("%s: the plugin providing it is no longer running", m.ID)
}
