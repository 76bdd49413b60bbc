package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/server/service"
	"github.com/plumbline/plumbline/server/store"
)

const demoUsage = `Usage: plumbline demo [--data DIR] [--listen ADDR] [--serve] [--agent PATH] [--timeout D]

Starts a server (embedded NATS with JetStream, SQLite) and a real
plumbline-agent daemon scanning this host, waits for the first report,
and prints what the server flagged and where to look further. The agent
binary is looked for next to this one, then in PATH.

With --data the state is kept, so a second demo run shows the drift
since the first. With --serve the server and agent keep running until
Ctrl-C, so the API and the operator commands can be tried.
`

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, demoUsage) }
	dataFlag := fs.String("data", "", "data directory to keep (default: a temporary one, removed at exit)")
	listen := fs.String("listen", "127.0.0.1:8080", "HTTP API address; a random port when it is taken")
	serve := fs.Bool("serve", false, "keep serving after the summary until Ctrl-C")
	agentPath := fs.String("agent", "", "plumbline-agent binary (default: next to plumbline, then PATH)")
	timeout := fs.Duration("timeout", 2*time.Minute, "how long to wait for the first report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "plumbline demo: unexpected argument %q\n\n%s", fs.Arg(0), demoUsage)
		return errUsage
	}
	agentBin, err := findAgent(*agentPath)
	if err != nil {
		return err
	}
	data := *dataFlag
	if data == "" {
		if data, err = os.MkdirTemp("", "plumbline-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(data)
	}
	if data, err = filepath.Abs(data); err != nil {
		return err
	}
	if err := os.MkdirAll(data, 0o750); err != nil {
		return err
	}
	logPath := filepath.Join(data, "server.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	defer logFile.Close()
	log := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo}))

	addr := *listen
	if l, err := net.Listen("tcp", addr); err != nil {
		addr = "127.0.0.1:0"
	} else {
		l.Close()
	}
	svc, err := service.Start(ctx, service.Options{
		DataDir: filepath.Join(data, "server"), Listen: addr, NATSListen: "127.0.0.1:-1",
		SweepEvery: 10 * time.Second, Logger: log,
	})
	if err != nil {
		return fmt.Errorf("start the server: %w (its log: %s)", err, logPath)
	}
	defer svc.Close()

	agentDir := filepath.Join(data, "agent")
	agentCfg := filepath.Join(data, "agent.yaml")
	cfg := fmt.Sprintf(`# Written by plumbline demo.
data_dir: %q
nats:
  url: %q
scan:
  interval: 1h
  jitter: 0s
  at_start: true
heartbeat:
  interval: 10s
identity:
  ecs_metadata: false
%s`, agentDir, svc.NATSURL(), demoHostID())
	if err := os.WriteFile(agentCfg, []byte(cfg), 0o640); err != nil {
		return err
	}
	agentLogPath := filepath.Join(data, "agent.log")
	agentLog, err := os.OpenFile(agentLogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	defer agentLog.Close()
	started := time.Now()
	agent := exec.Command(agentBin, "run", "--config", agentCfg)
	agent.Stdout, agent.Stderr = agentLog, agentLog
	agent.Env = cleanEnv(os.Environ())
	if err := agent.Start(); err != nil {
		return fmt.Errorf("start %s: %w", agentBin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- agent.Wait() }()
	defer func() {
		_ = agent.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(35 * time.Second):
			_ = agent.Process.Kill()
			<-exited
		}
	}()
	fmt.Fprintf(stdout, "plumbline demo: server at %s (NATS %s), agent scanning this host; waiting for its report...\n\n", svc.APIURL(), svc.NATSURL())

	host, err := waitForReport(ctx, svc.Store(), started, *timeout, exited)
	if err != nil {
		return fmt.Errorf("%w (logs: %s, %s)", err, agentLogPath, logPath)
	}
	if err := printFlagged(ctx, stdout, svc.Store(), host, started); err != nil {
		return err
	}
	self, _ := os.Executable()
	fmt.Fprintf(stdout, `
Where to look:
  API          %[1]s/api/v1/hosts/%[2]s
  drift        %[1]s/api/v1/drift?host=%[2]s
  metrics      %[1]s/metrics
  data         %[3]s (SQLite store: server/plumbline.db)
  logs         %[4]s, %[5]s
`, svc.APIURL(), host, data, logPath, agentLogPath)
	if !*serve {
		fmt.Fprintf(stdout, `
To browse it live:  %[1]s demo --data %[2]s --serve
  then, in another shell:  %[1]s hosts --server %[3]s
                           %[1]s host %[4]s --server %[3]s
`, self, data, svc.APIURL(), host)
		return nil
	}
	fmt.Fprintf(stdout, `
Serving until Ctrl-C. Try:
  %[1]s hosts --server %[2]s
  %[1]s host %[3]s --server %[2]s
  %[1]s drift --server %[2]s
  %[1]s scan --host %[3]s --server %[2]s
`, self, svc.APIURL(), host)
	select {
	case <-ctx.Done():
	case err := <-exited:
		exited <- err
		return fmt.Errorf("the agent exited: %v (log: %s)", err, agentLogPath)
	}
	return nil
}

// demoHostID returns a host_id line when this machine has no usable
// /etc/machine-id (common in containers and fresh images), so that the
// demo still runs; the agent otherwise uses machine-id as it would in
// production.
func demoHostID() string {
	if data, err := os.ReadFile("/etc/machine-id"); err == nil {
		id := strings.TrimSpace(string(data))
		if len(id) == 32 && strings.Trim(id, "0123456789abcdef") == "" {
			return ""
		}
	}
	name, _ := os.Hostname()
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, name)
	return fmt.Sprintf("host_id: demo-%.64s\n", clean)
}

// findAgent locates the plumbline-agent binary.
func findAgent(flagPath string) (string, error) {
	if flagPath != "" {
		return flagPath, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "plumbline-agent")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath("plumbline-agent"); err == nil {
		return p, nil
	}
	return "", errors.New("plumbline-agent not found next to plumbline or in PATH (build both with `make build`, or pass --agent PATH)")
}

// cleanEnv keeps the operator's PLUMBLINE_* settings away from the demo
// agent, whose configuration the demo writes.
func cleanEnv(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "PLUMBLINE_") {
			out = append(out, e)
		}
	}
	return out
}

// waitForReport waits until some host has a report newer than since.
func waitForReport(ctx context.Context, st *store.Store, since time.Time, timeout time.Duration, exited chan error) (string, error) {
	deadline := time.After(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		hosts, err := st.Hosts(ctx, store.HostFilter{})
		if err != nil {
			return "", err
		}
		for _, h := range hosts {
			if h.LastReportAt.After(since.Add(-time.Second)) {
				return h.ID, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case err := <-exited:
			exited <- err
			return "", fmt.Errorf("the agent exited before reporting: %v", err)
		case <-deadline:
			return "", fmt.Errorf("no report within %v", timeout)
		case <-tick.C:
		}
	}
}

// printFlagged prints the host's summary, its open deviations with the
// failing evidence, and the drift events since the demo started.
func printFlagged(ctx context.Context, w io.Writer, st *store.Store, hostID string, since time.Time) error {
	h, err := st.Host(ctx, hostID)
	if err != nil {
		return err
	}
	score := "-"
	if h.Score != nil {
		score = fmt.Sprintf("%.1f%%", *h.Score)
	}
	s := h.Summary
	fmt.Fprintf(w, "Host %s (%s, %s), baseline %s\n", h.ID, h.Hostname, h.Facts.OS, h.Baseline.Name)
	fmt.Fprintf(w, "  score %s: %d pass, %d fail, %d error, %d not applicable, %d skipped\n\n",
		score, s.Pass, s.Fail, s.Error, s.NotApplicable, s.Skipped)

	devs, err := st.Deviations(ctx, store.DeviationFilter{HostID: hostID})
	if err != nil {
		return err
	}
	sort.SliceStable(devs, func(i, j int) bool { return devs[i].Severity > devs[j].Severity })
	// The most severe first; a CIS baseline flags dozens on a stock host,
	// and the rest are a command away.
	const maxShown = 15
	fmt.Fprintf(w, "Flagged: %d open deviations\n", len(devs))
	idWidth := 0
	for _, d := range devs[:min(len(devs), maxShown)] {
		idWidth = max(idWidth, len(d.CheckID))
	}
	for i, d := range devs {
		if i == maxShown {
			fmt.Fprintf(w, "  … and %d more: plumbline deviations --host %s\n", len(devs)-maxShown, hostID)
			break
		}
		fmt.Fprintf(w, "  %-8s  %-*s  %s\n", strings.ToUpper(d.Severity.String()), idWidth, d.CheckID, d.Title)
		shown := 0
		for _, e := range d.Evidence {
			if e.OK {
				continue
			}
			if shown == 3 {
				fmt.Fprintf(w, "            … more in plumbline host %s\n", hostID)
				break
			}
			shown++
			where := ""
			if e.Path != "" {
				where = " (" + e.Path
				if e.Line > 0 {
					where += fmt.Sprintf(":%d", e.Line)
				}
				where += ")"
			}
			fmt.Fprintf(w, "            %s: want %s, found %s%s\n", e.Key, e.Expected, e.Actual, where)
		}
	}
	var errs []store.ResultRow
	for _, r := range h.Results {
		if r.Status == checks.StatusError {
			errs = append(errs, r)
		}
	}
	if len(errs) > 0 {
		fmt.Fprintf(w, "\nCould not decide (ERROR, never counted as FAIL): %d\n", len(errs))
		for _, r := range errs {
			fmt.Fprintf(w, "  %s: %s\n", r.CheckID, r.Message)
		}
	}
	events, err := st.Drift(ctx, store.DriftFilter{HostID: hostID, Since: since.Add(-time.Second)})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nDrift events from this run: %d\n", len(events))
	if len(events) == 0 {
		fmt.Fprintln(w, "  none: nothing changed since this host's previous report")
	}
	for i, e := range events {
		if i == maxShown {
			fmt.Fprintf(w, "  … and %d more: plumbline drift --host %s\n", len(events)-maxShown, hostID)
			break
		}
		line := "  " + string(e.Kind)
		if e.CheckID != "" {
			line += " " + e.CheckID
		}
		if e.From != 0 || e.To != 0 {
			line += fmt.Sprintf(" (%s → %s)", statusName(e.From), statusName(e.To))
		}
		fmt.Fprintln(w, line)
	}
	return nil
}

func statusName(s checks.Status) string {
	if s == 0 {
		return "-"
	}
	return s.String()
}
