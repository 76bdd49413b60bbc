// Package cli implements the operator commands of the plumbline binary
// (hosts, host, checks, deviations, drift, scan, waive, unwaive, waivers).
// They talk to a running plumbline server over its HTTP API: tables for
// people by default, the API's own JSON with --json for scripts.
//
// Exit status: 0 success; 1 error (bad usage, server unreachable, an
// error answer); 2 from "hosts --failing" when it lists at least one host,
// so that a script can ask "is anything failing?" as it asks
// plumbline-agent scan.
package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Exit codes.
const (
	// ExitOK: the command did what was asked.
	ExitOK = 0
	// ExitError: bad usage, server unreachable, an error answer, or a
	// scan no agent accepted.
	ExitError = 1
	// ExitFailing: "hosts --failing" listed at least one host.
	ExitFailing = 2
)

// requestTimeout bounds one API call; scans add their reply window.
const requestTimeout = 30 * time.Second

// Runner runs operator commands with injected I/O, environment and clock.
type Runner struct {
	Stdout, Stderr io.Writer
	// Env is the environment as os.Environ returns it; PLUMBLINE_SERVER
	// sets the default of --server.
	Env []string
	// HTTP [http.DefaultClient] sends the API requests.
	HTTP *http.Client
	// Now [time.Now] is the clock that relative times ("3m ago") are
	// measured from.
	Now func() time.Time
}

// Run runs the operator command in args ("hosts", "--failing") and returns
// the exit status.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) int {
	return (&Runner{Stdout: stdout, Stderr: stderr, Env: env}).Run(ctx, args)
}

// command is one operator command.
type command struct {
	name, synopsis, usage string
	// setup declares the command's own flags on fs (--server and --json
	// are added to every command) and returns what runs it.
	setup func(fs *flag.FlagSet) runFunc
	// args says how many positional arguments the command takes.
	args int
	// fields maps API parameter names to the flags that set them, so that
	// an API complaint about "since" reads "--since".
	fields map[string]string
}

// commands lists the operator commands in usage order.
func commands() []*command {
	return []*command{
		hostsCommand(), hostCommand(), checksCommand(), deviationsCommand(), driftCommand(),
		scanCommand(), waiveCommand(), unwaiveCommand(), waiversCommand(),
	}
}

// Commands lists the names of the operator commands, so that the plumbline
// binary can route them here.
func Commands() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return names
}

// IsCommand reports whether name is an operator command Run handles.
func IsCommand(name string) bool { return lookup(name) != nil }

// Usage writes the operator commands' summary, for the binary's own usage
// text.
func Usage(w io.Writer) {
	fmt.Fprintln(w, "Operator commands (they talk to a running server's API):")
	for _, c := range commands() {
		fmt.Fprintf(w, "  plumbline %-11s %s\n", c.name, c.synopsis)
	}
	fmt.Fprintf(w, `
Every operator command takes:
  --server URL   the server's API [$PLUMBLINE_SERVER, else %s]
  --json         print the API's JSON answer instead of a table

Run "plumbline help COMMAND" or "plumbline COMMAND -h" for a command's flags.
Exit status: 0 ok, 1 error, 2 from "hosts --failing" when a host is failing.
`, DefaultServer)
}

// runFunc runs a command whose flags are parsed and returns its exit
// status.
type runFunc func(ctx context.Context, inv *invocation) (int, error)

// invocation is one run of a command: the common flags, the positional
// arguments, and where to send requests and output.
type invocation struct {
	server string
	json   bool
	args   []string
	client *Client
	stdout io.Writer
	stderr io.Writer
	now    time.Time
}

// Run runs the operator command in args and returns the exit status.
func (r *Runner) Run(ctx context.Context, args []string) int {
	stdout, stderr := orDiscard(r.Stdout), orDiscard(r.Stderr)
	if len(args) == 0 {
		Usage(stderr)
		return ExitError
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" {
		if len(args) > 1 {
			if c := lookup(args[1]); c != nil {
				fmt.Fprint(stdout, c.usage)
				return ExitOK
			}
			fmt.Fprintf(stderr, "plumbline: unknown command %q\n\n", args[1])
			Usage(stderr)
			return ExitError
		}
		Usage(stdout)
		return ExitOK
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "plumbline: unknown command %q\n\n", name)
		Usage(stderr)
		return ExitError
	}
	inv, run, err := r.parse(c, args[1:], stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		fmt.Fprintf(stderr, "plumbline %s: %v\n\n%s", c.name, err, c.usage)
		return ExitError
	}
	inv.stdout, inv.stderr = stdout, stderr
	code, err := run(ctx, inv)
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "plumbline %s: %v\n\n%s", c.name, err, c.usage)
		return ExitError
	case err != nil:
		explain(stderr, c, err)
		return ExitError
	}
	return code
}

func lookup(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// parse reads the command's flags, accepted before and after its
// positional arguments ("host web-1 --json").
func (r *Runner) parse(c *command, args []string, stderr io.Writer) (*invocation, runFunc, error) {
	inv := &invocation{}
	fs := flag.NewFlagSet("plumbline "+c.name, flag.ContinueOnError)
	// Errors are printed once, with the usage text, by Run.
	fs.SetOutput(io.Discard)
	fs.StringVar(&inv.server, "server", r.defaultServer(), "server API `URL`")
	fs.BoolVar(&inv.json, "json", false, "print the API's JSON answer")
	run := c.setup(fs)
	rest := args
	for {
		err := fs.Parse(rest)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, c.usage)
			return nil, nil, err
		}
		if err != nil {
			return nil, nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		// After "--" everything is positional.
		if consumed := len(rest) - fs.NArg(); consumed > 0 && rest[consumed-1] == "--" {
			inv.args = append(inv.args, fs.Args()...)
			break
		}
		inv.args = append(inv.args, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	// A flag given with an empty value ("--group $G" with G unset) would
	// silently widen the listing to the whole fleet.
	var empty string
	fs.Visit(func(f *flag.Flag) {
		if empty == "" && f.Value.String() == "" {
			empty = f.Name
		}
	})
	if empty != "" {
		return nil, nil, fmt.Errorf("--%s is empty", empty)
	}
	if len(inv.args) != c.args {
		switch {
		case c.args == 0:
			return nil, nil, fmt.Errorf("unexpected argument %q", inv.args[0])
		case len(inv.args) < c.args:
			return nil, nil, errors.New("missing argument")
		default:
			return nil, nil, fmt.Errorf("unexpected argument %q", inv.args[c.args])
		}
	}
	client, err := NewClient(inv.server, r.HTTP)
	if err != nil {
		return nil, nil, fmt.Errorf("--server: %w", err)
	}
	inv.client = client
	inv.now = r.now()
	return inv, run, nil
}

func (r *Runner) defaultServer() string {
	for _, kv := range slices.Backward(r.Env) {
		if v, ok := strings.CutPrefix(kv, "PLUMBLINE_SERVER="); ok && v != "" {
			return v
		}
	}
	return DefaultServer
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// explain prints a command's error so that the operator knows what to do
// next: how to reach a server, or which flag the server objected to.
func explain(w io.Writer, c *command, err error) {
	var ue *UnreachableError
	var ae *APIError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(w, "plumbline %s: %v\n"+
			"Is the server running? Start one with \"plumbline server\", or point at a running one\n"+
			"with --server URL or PLUMBLINE_SERVER.\n", c.name, err)
	case errors.As(err, &ae) && ae.Field != "" && c.fields[ae.Field] != "":
		msg := strings.TrimPrefix(ae.Message, ae.Field+": ")
		fmt.Fprintf(w, "plumbline %s: %s: %s\n", c.name, c.fields[ae.Field], msg)
	default:
		fmt.Fprintf(w, "plumbline %s: %v\n", c.name, err)
	}
}

// call sends one API request under requestTimeout plus extra and, with
// --json, prints the answer indented.
func (inv *invocation) call(ctx context.Context, extra time.Duration, method, path string, query map[string]string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout+extra)
	defer cancel()
	q := make(map[string][]string)
	for k, v := range query {
		if v != "" {
			q[k] = []string{v}
		}
	}
	data, err := inv.client.Do(ctx, method, path, q, in, out)
	if err != nil {
		return err
	}
	if inv.json {
		var buf bytes.Buffer
		if err := json.Indent(&buf, data, "", "  "); err != nil {
			return fmt.Errorf("indent answer: %w", err)
		}
		buf.WriteByte('\n')
		if _, err := inv.stdout.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	return nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
