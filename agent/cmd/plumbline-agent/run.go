package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/plumbline/plumbline/agent/config"
	"github.com/plumbline/plumbline/agent/daemon"
	"github.com/plumbline/plumbline/agent/ecs"
	"github.com/plumbline/plumbline/agent/identity"
	"github.com/plumbline/plumbline/agent/scan"
	"github.com/plumbline/plumbline/checks/baseline"
	"github.com/plumbline/plumbline/checks/hostfs"
	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/checks/settings"
	"github.com/plumbline/plumbline/plugins/loader"
)

const runUsage = `Usage: plumbline-agent run [--config FILE]

Runs the agent daemon: scans on a schedule and on request from the server,
and publishes every report over NATS (spooling it on disk while NATS is
unreachable). Configuration: /etc/plumbline/agent.yaml, or --config, or
PLUMBLINE_CONFIG; PLUMBLINE_* variables override single keys. Stops
cleanly on SIGTERM or Ctrl-C, finishing or abandoning the scan in flight.
`

// loadConfig reads the agent configuration named by --config (or
// PLUMBLINE_CONFIG, or the default path).
func loadConfig(flagPath string) (*config.Agent, string, error) {
	env := os.Environ()
	path, explicit := config.Path(flagPath, env)
	cfg, err := config.Load(path, explicit, env)
	return cfg, path, err
}

// prepared is what the daemon needs, resolved and validated before it
// starts, so that a bad baseline or root stops the agent at once.
type prepared struct {
	cfg      *config.Agent
	id       report.Identity
	baseline string
	note     string
	// plugins is nil when no plugins are set up.
	plugins *loader.Config
	// pluginProblems are the plugins that were refused or failed to start,
	// one line each.
	pluginProblems []string
}

// pluginRunDir holds the daemon's plugin sockets and process records.
func pluginRunDir(cfg *config.Agent) string { return filepath.Join(cfg.DataDir, "plugins-run") }

// prepare resolves and checks what a scan needs. Plugins are launched once
// (in runDir) so that a baseline naming their checks resolves and a broken
// plugin is reported before the first scan.
func prepare(ctx context.Context, cfg *config.Agent, runDir string, log *slog.Logger) (*prepared, error) {
	h, err := hostfs.New(hostfs.Options{Root: cfg.Scan.Root})
	if err != nil {
		return nil, fmt.Errorf("scan.root: %w", err)
	}
	// What plugins must never be served: the agent's state and credentials.
	deny := []string{cfg.DataDir, cfg.NATS.Credentials}
	pc, err := pluginConfig(cfg.Plugins, cfg.Scan.CheckTimeout, runDir, deny, log)
	if err != nil {
		return nil, err
	}
	// Check files and the baseline are both read, so that one run shows
	// every problem in either.
	local, checksErr := scan.LoadLocalChecks(cfg.Scan.ChecksDir)
	if checksErr != nil {
		checksErr = fmt.Errorf("scan.checks_dir: %w", checksErr)
	}
	var lookup baseline.Lookup
	var problems []string
	if pc != nil {
		sess, err := loader.Open(ctx, *pc, h)
		if err != nil {
			return nil, fmt.Errorf("plugins: %w", err)
		}
		defer sess.Close()
		for _, ref := range sess.Refs() {
			if ref.Error != "" {
				problems = append(problems, fmt.Sprintf("plugin %s: %s", ref.Name, ref.Error))
			}
		}
		lookup = scan.PluginLookup(sess)
		if err := scan.OwnedByPlugins(local, sess.Owns); err != nil {
			checksErr = errors.Join(checksErr, fmt.Errorf("scan.checks_dir: %w", err))
		}
	}
	b, note, err := scan.ResolveBaseline(ctx, h, cfg.Scan.Baseline, scan.LocalLookup(local, lookup))
	if err != nil {
		err = fmt.Errorf("scan.baseline: %w", err)
	}
	if err := errors.Join(checksErr, err); err != nil {
		return nil, err
	}
	var client *ecs.Client
	if cfg.Identity.ECSMetadata {
		client = &ecs.Client{BaseURL: cfg.Identity.ECSMetadataURL, Timeout: cfg.Identity.ECSMetadataTimeout}
	}
	id, err := identity.Resolve(ctx, identity.Options{Override: cfg.HostID, ECS: client, Host: h, Logger: log})
	if err != nil {
		return nil, err
	}
	return &prepared{cfg: cfg, id: id, baseline: b.Name, note: note, plugins: pc, pluginProblems: problems}, nil
}

func cmdRun(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, runUsage) }
	cfgPath := fs.String("config", "", "configuration file (default /etc/plumbline/agent.yaml)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "plumbline-agent run: unexpected argument %q\n\n%s", fs.Arg(0), runUsage)
		return errUsage
	}
	cfg, _, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := slog.New(cfg.Log.Handler(stderr))
	// Before any plugin is launched: kill what plugins of a previous run
	// (of an agent that was killed) left behind, remove stray sockets.
	if err := loader.Sweep(pluginRunDir(cfg), log); err != nil {
		return err
	}
	p, err := prepare(ctx, cfg, pluginRunDir(cfg), log)
	if err != nil {
		return err
	}
	if p.note != "" {
		log.Info(p.note)
	}
	for _, problem := range p.pluginProblems {
		log.Warn("plugin refused or failed; its checks will report ERROR", "problem", problem)
	}
	if p.plugins != nil {
		// Remembers each plugin's checks, so that a plugin that stops
		// starting still shows its checks as ERROR.
		p.plugins.Memory = &loader.Memory{}
	}
	name := cfg.NATS.Name
	if name == "" {
		name = "plumbline-agent/" + p.id.ID
	}
	nopts := []nats.Option{nats.Name(name)}
	if cfg.NATS.Credentials != "" {
		nopts = append(nopts, nats.UserCredentials(cfg.NATS.Credentials))
	}
	id := p.id
	d, err := daemon.New(daemon.Options{
		HostID: id.ID, Group: cfg.Group, DataDir: cfg.DataDir,
		NATSURL: cfg.NATS.URL, NATSOptions: nopts,
		ReconnectWait: cfg.NATS.ReconnectWait, ReconnectJitter: cfg.NATS.ReconnectJitter,
		PublishTimeout: cfg.NATS.PublishTimeout,
		Interval:       cfg.Scan.Interval, Jitter: cfg.Scan.Jitter, ScanAtStart: cfg.Scan.AtStart,
		HeartbeatInterval: cfg.Heartbeat.Interval,
		SpoolMaxBytes:     int64(cfg.Spool.MaxBytes), SpoolMaxReports: cfg.Spool.MaxReports,
		Version: agentVersion(), Logger: log,
		Scan: func(ctx context.Context, seq uint64) (*report.Report, error) {
			r, notes, err := scan.Run(ctx, scan.Options{
				Root: cfg.Scan.Root, Baseline: cfg.Scan.Baseline, ChecksDir: cfg.Scan.ChecksDir, Identity: &id, Sequence: seq,
				CheckTimeout: cfg.Scan.CheckTimeout, Group: cfg.Group, Interval: cfg.Scan.Interval,
				Plugins: reloadPins(p.plugins, cfg.Plugins.LockFile, log),
			})
			for _, n := range notes {
				log.Info("scan note", "note", n)
			}
			return r, err
		},
	})
	if err != nil {
		return err
	}
	log.Info("plumbline-agent running", "version", agentVersion(), "host_id", id.ID, "id_source", id.IDSource,
		"baseline", p.baseline, "nats", cfg.NATS.URL, "interval", settings.FormatDuration(cfg.Scan.Interval),
		"data_dir", cfg.DataDir)
	return d.Run(ctx)
}

const configUsage = `Usage: plumbline-agent config check [--config FILE]
       plumbline-agent config defaults

check     validates the configuration (file, then PLUMBLINE_* overrides), the
          baseline it names and the host identity, reports every problem at
          once, and prints the effective settings; exit 0 when valid, 1 if not.
defaults  prints every key with its default, environment variable and meaning.
`

func cmdConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "check" && args[0] != "defaults") {
		fmt.Fprint(stderr, configUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("config "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, configUsage) }
	cfgPath := fs.String("config", "", "configuration file (default /etc/plumbline/agent.yaml)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "plumbline-agent config: unexpected argument %q\n\n%s", fs.Arg(0), configUsage)
		return errUsage
	}
	if args[0] == "defaults" {
		return settings.WriteTable(stdout, config.Fields())
	}
	cfg, path, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	// Identity and baseline are checked too: the daemon refuses to start
	// without them. The metadata service is not asked here.
	cfg2 := *cfg
	cfg2.Identity.ECSMetadata = false
	// Plugins are launched to be checked, in a directory of their own so
	// that a running daemon's are not disturbed.
	runDir, err := os.MkdirTemp("", "plumbline-config-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(runDir)
	p, err := prepare(ctx, &cfg2, runDir, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	if len(p.pluginProblems) > 0 {
		return fmt.Errorf("%s: %d plugin problem(s):\n  %s", path, len(p.pluginProblems), strings.Join(p.pluginProblems, "\n  "))
	}
	fmt.Fprintf(stdout, "%s: valid (baseline %s, host id %s from %s)\n\n", path, p.baseline, p.id.ID, p.id.IDSource)
	return settings.WriteTable(stdout, settings.Fields(cfg, "PLUMBLINE_"))
}
