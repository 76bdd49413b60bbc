// Command plumbline is the plumbline server and the operator's CLI.
//
//	plumbline server [--config FILE] [--data DIR] [--listen ADDR]
//	plumbline demo [--data DIR] [--serve]
//	plumbline config check|defaults [--config FILE]
//	plumbline hosts|host|checks|drift|scan|waive|unwaive ... (talk to the server's API)
//	plumbline version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/plumbline/plumbline/server/cli"
)

// version is set by the linker.
var version = ""

func serverVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// errUsage marks errors whose usage text was already printed.
var errUsage = errors.New("usage")

const usage = `plumbline is the plumbline server and the operator's command line.

Server:
  plumbline server [--config FILE]     run the server: embedded NATS, SQLite store, drift engine, HTTP API
  plumbline demo [--data DIR]          server + an agent scanning this host; prints what it flagged
  plumbline config check|defaults      validate the server configuration, or list every key

Operators (talk to the server's API; --server URL or PLUMBLINE_SERVER, default http://127.0.0.1:8080):
  plumbline hosts [--failing]          the fleet, with compliance scores and open deviations
  plumbline host ID                    one host's latest results with evidence
  plumbline checks                     every check across the fleet, with failing hosts
  plumbline drift [--host ID] [--kind K] [--since 24h]
                                       drift events, newest first
  plumbline scan --host ID | --all     ask agents to scan now
  plumbline waive / unwaive            accept a deviation until a date, or withdraw that
  plumbline version

Add --json to operator commands for machine-readable output. "plumbline CMD -h" shows a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 1
	}
	var err error
	switch args[0] {
	case "server":
		err = cmdServer(ctx, args[1:], stderr)
	case "demo":
		err = cmdDemo(ctx, args[1:], stdout, stderr)
	case "config":
		err = cmdConfig(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "plumbline", serverVersion())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		if cli.IsCommand(args[0]) {
			return cli.Run(ctx, args, stdout, stderr, os.Environ())
		}
		fmt.Fprintf(stderr, "plumbline: unknown command %q\n\n%s", args[0], usage)
		return 1
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if !errors.Is(err, errUsage) {
			fmt.Fprintf(stderr, "plumbline: %v\n", err)
		}
		return 1
	}
	return 0
}
