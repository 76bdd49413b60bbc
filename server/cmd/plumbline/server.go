package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/plumbline/plumbline/checks/settings"
	"github.com/plumbline/plumbline/server/config"
	"github.com/plumbline/plumbline/server/service"
)

const serverUsage = `Usage: plumbline server [--config FILE] [--data DIR] [--listen ADDR]

Runs the plumbline server: an embedded NATS server with JetStream (or the
external cluster in nats.url), the SQLite store, the drift engine and the
HTTP API. Configuration: /etc/plumbline/server.yaml, or --config, or
PLUMBLINE_CONFIG; PLUMBLINE_* variables override single keys; --data and
--listen override data_dir and listen.
`

func loadConfig(flagPath string) (*config.Server, string, error) {
	env := os.Environ()
	path, explicit := config.Path(flagPath, env)
	cfg, err := config.Load(path, explicit, env)
	return cfg, path, err
}

// serviceOptions maps the configuration onto the service.
func serviceOptions(cfg *config.Server, log *slog.Logger) service.Options {
	return service.Options{
		DataDir: cfg.DataDir, Listen: cfg.Listen,
		NATSURL: cfg.NATS.URL, NATSListen: cfg.NATS.Listen, MaxConnections: cfg.NATS.MaxConnections,
		MaxPayload: int32(cfg.NATS.MaxPayload), SyncAlways: cfg.NATS.SyncAlways,
		DuplicateWindow: cfg.NATS.DuplicateWindow,
		Batch:           cfg.Ingest.Batch, MaxWait: cfg.Ingest.MaxWait, MaxReportBytes: int(cfg.Ingest.MaxReportBytes),
		AckWait:         cfg.Ingest.AckWait,
		DefaultInterval: cfg.Drift.DefaultInterval, StaleGrace: cfg.Drift.StaleGrace, SweepEvery: cfg.Drift.SweepEvery,
		Logger: log,
	}
}

func cmdServer(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, serverUsage) }
	cfgPath := fs.String("config", "", "configuration file (default /etc/plumbline/server.yaml)")
	data := fs.String("data", "", "data directory (overrides data_dir)")
	listen := fs.String("listen", "", "HTTP API address (overrides listen)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "plumbline server: unexpected argument %q\n\n%s", fs.Arg(0), serverUsage)
		return errUsage
	}
	cfg, _, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *data != "" {
		cfg.DataDir = *data
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	log := slog.New(cfg.Log.Handler(stderr))
	svc, err := service.Start(ctx, serviceOptions(cfg, log))
	if err != nil {
		return err
	}
	log.Info("serving", "version", serverVersion(), "api", svc.APIURL(), "nats", svc.NATSURL(), "data_dir", cfg.DataDir)
	<-ctx.Done()
	log.Info("shutting down")
	svc.Close()
	return nil
}

const configUsage = `Usage: plumbline config check [--config FILE]
       plumbline config defaults

check     validates the server configuration (file, then PLUMBLINE_* overrides),
          reports every problem at once and prints the effective settings.
defaults  prints every key with its default, environment variable and meaning.
`

func cmdConfig(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "check" && args[0] != "defaults") {
		fmt.Fprint(stderr, configUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("config "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, configUsage) }
	cfgPath := fs.String("config", "", "configuration file (default /etc/plumbline/server.yaml)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "plumbline config: unexpected argument %q\n\n%s", fs.Arg(0), configUsage)
		return errUsage
	}
	if args[0] == "defaults" {
		return settings.WriteTable(stdout, config.Fields())
	}
	cfg, path, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: valid\n\n", path)
	return settings.WriteTable(stdout, settings.Fields(cfg, config.EnvPrefix))
}
