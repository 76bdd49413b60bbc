// Command plumbline-agent scans a host against a CIS-referenced baseline.
//
//	plumbline-agent scan [--root DIR] [--baseline NAME|FILE] [--only IDS] [--format table|json|junit|ocsf] [-o FILE]
//	plumbline-agent run [--config FILE]
//	plumbline-agent config check|defaults [--config FILE]
//	plumbline-agent checks list [--json]
//	plumbline-agent checks describe ID [--json]
//	plumbline-agent baselines list
//	plumbline-agent plugin new NAME [--dir DIR] [--module PATH] [--plumbline-src DIR]
//	plumbline-agent plugin describe PATH [--json]
//	plumbline-agent version
//
// Exit status of scan, as oscap's: 0 when every check passes (or does not
// apply), 2 when any check fails, 1 when none fails but some could not be
// decided, or on a usage or internal error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitFail  = 2
)

// errUsage marks errors whose message is already a usage text.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `plumbline-agent scans this host (or a mounted image) against a CIS-referenced baseline.

Usage:
  plumbline-agent scan [flags]           run the baseline's checks and print the results
  plumbline-agent run [--config FILE]    run the daemon: scheduled scans published over NATS
  plumbline-agent config check           validate the configuration and print the effective settings
  plumbline-agent config defaults        list every configuration key with its default
  plumbline-agent checks list            list every built-in check
  plumbline-agent checks describe ID     show what a check verifies and how to fix it
  plumbline-agent baselines list         list the built-in baselines
  plumbline-agent plugin new NAME        write a working plugin project to start from
  plumbline-agent plugin describe PATH   show what a plugin binary provides and its pin
  plumbline-agent version                print the version

Run "plumbline-agent scan -h" for the scan flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	var code int
	var err error
	switch args[0] {
	case "scan":
		code, err = cmdScan(ctx, args[1:], stdout, stderr)
	case "run":
		err = cmdRun(ctx, args[1:], stderr)
	case "config":
		err = cmdConfig(ctx, args[1:], stdout, stderr)
	case "checks":
		err = cmdChecks(args[1:], stdout, stderr)
	case "baselines":
		err = cmdBaselines(args[1:], stdout)
	case "plugin":
		err = cmdPlugin(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "plumbline-agent", agentVersion())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "plumbline-agent: unknown command %q\n\n%s", args[0], usage)
		return exitError
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		if !errors.Is(err, errUsage) {
			fmt.Fprintf(stderr, "plumbline-agent: %v\n", err)
		}
		return exitError
	}
	return code
}
