// Command good is the loader tests' well-behaved plugin, with checks that
// misbehave on demand: each fault is its own check, so a test asks for
// exactly the fault it is about. Its name is set at link time
// (-ldflags "-X main.name=alpha") so that one source gives the several
// plugins a session test needs.
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/plugins/sdk"
)

var name = "good"

// check is a check whose behaviour is a function.
type check struct {
	id     string
	params []checks.ParamSpec
	run    func(ctx context.Context, h checks.Host, p checks.Params) checks.Result
}

func (c check) Meta() checks.Meta {
	return checks.Meta{
		ID: name + "." + c.id, Title: "fault test " + c.id, Family: "faults", Severity: checks.SeverityLow,
		Rationale: "exercises the loader", Remediation: "none", Params: c.params,
	}
}

func (c check) Run(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	return c.run(ctx, h, p)
}

// rawStderr is the stderr the agent gave the process, where the Go
// runtime's crash output goes too. sdk.Serve then points os.Stderr at
// go-plugin's forwarded stream, which a process that exits at once may not
// have flushed.
var rawStderr = os.Stderr

// hostPid is this process's pid as the agent sees it: the plugin runs in a
// PID namespace of its own (where it is 1), but /proc is the host's.
func hostPid() int {
	if s, err := os.Readlink("/proc/self"); err == nil {
		if pid, err := strconv.Atoi(s); err == nil {
			return pid
		}
	}
	return os.Getpid()
}

// recordLaunch appends the process id to .<file name>.launches beside the
// binary, so that a test can tell whether the agent launched it at all and
// find every process it started.
func recordLaunch() {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	f, err := os.OpenFile(filepath.Join(filepath.Dir(exe), "."+filepath.Base(exe)+".launches"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	fmt.Fprintf(f, "%d\n", hostPid())
	f.Close()
}

func main() {
	recordLaunch()
	sdk.Serve(sdk.Plugin{Name: name, Version: "1.2.3", Checks: []sdk.Check{
		// pass reads the scanned host through the agent.
		check{id: "pass", run: func(ctx context.Context, h checks.Host, _ checks.Params) checks.Result {
			data, err := h.ReadFile(ctx, "/etc/os-release")
			if err != nil {
				return checks.Errorf("%v", err)
			}
			return checks.Pass("read os-release", checks.Evidence{Key: "os-release", Actual: strings.TrimSpace(string(data)), OK: true, Path: "/etc/os-release"})
		}},
		// fanout reads /fan/0 to /fan/{n-1} all at once, as a plugin's
		// checks, all run at once, do.
		check{id: "fanout", params: []checks.ParamSpec{{Name: "n", Kind: checks.KindInt, Default: 32, Doc: "how many reads"}},
			run: func(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
				errs := make(chan error, p.Int("n"))
				for i := range p.Int("n") {
					go func() {
						_, err := h.ReadFile(ctx, fmt.Sprintf("/fan/%d", i))
						errs <- err
					}()
				}
				for range p.Int("n") {
					if err := <-errs; err != nil {
						return checks.Errorf("%v", err)
					}
				}
				return checks.Pass(fmt.Sprintf("read %d files", p.Int("n")))
			}},
		// env reports the plugin's whole environment, one evidence item a
		// variable, sorted.
		// identity reports who the plugin runs as and what it can reach of
		// the agent: its environment directly and through the host
		// service, and rpm with an argument that would run a command.
		check{id: "identity", run: func(ctx context.Context, h checks.Host, _ checks.Params) checks.Result {
			errText := func(err error) string {
				if err == nil {
					return "allowed"
				}
				return err.Error()
			}
			_, direct := os.ReadFile(fmt.Sprintf("/proc/%d/environ", os.Getppid()))
			_, viaHost := h.ReadFile(ctx, "/proc/self/environ")
			_, execErr := h.Exec(ctx, "rpm", "--eval", "%(id)")
			return checks.Pass(fmt.Sprintf("uid=%d\ndirect: %s\nhost: %s\nexec: %s", os.Getuid(), errText(direct), errText(viaHost), errText(execErr)))
		}},
		check{id: "env", run: func(context.Context, checks.Host, checks.Params) checks.Result {
			env := os.Environ()
			sort.Strings(env)
			var ev []checks.Evidence
			for _, kv := range env {
				k, v, _ := strings.Cut(kv, "=")
				ev = append(ev, checks.Evidence{Key: k, Actual: v, OK: true})
			}
			return checks.Pass(fmt.Sprintf("%d variables", len(env)), ev...)
		}},
		// sleep waits, honouring its context.
		check{id: "sleep", params: []checks.ParamSpec{{Name: "for", Kind: checks.KindDuration, Default: "1m", Doc: "how long"}},
			run: func(ctx context.Context, _ checks.Host, p checks.Params) checks.Result {
				select {
				case <-time.After(p.Duration("for")):
					return checks.Pass("slept")
				case <-ctx.Done():
					return checks.Errorf("interrupted: %v", ctx.Err())
				}
			}},
		// stuck ignores its context: only the SDK's deadline ends it.
		check{id: "stuck", run: func(context.Context, checks.Host, checks.Params) checks.Result {
			time.Sleep(time.Hour)
			return checks.Pass("woke up")
		}},
		// crash writes its last words to stderr and exits 2 in the middle
		// of the run; crash_noisy writes noise lines first, to overflow
		// the agent's bound.
		check{id: "crash", run: func(context.Context, checks.Host, checks.Params) checks.Result {
			crash(0)
			return checks.Pass("unreachable")
		}},
		check{id: "crash_noisy", params: []checks.ParamSpec{{Name: "noise_lines", Kind: checks.KindInt, Default: 2000, Doc: "lines written before the last words"}},
			run: func(_ context.Context, _ checks.Host, p checks.Params) checks.Result {
				crash(p.Int("noise_lines"))
				return checks.Pass("unreachable")
			}},
		// panic panics in a goroutine of its own, which no recover in the
		// SDK can catch.
		check{id: "panic", run: func(ctx context.Context, _ checks.Host, _ checks.Params) checks.Result {
			go func() { panic(name + ": index out of range in the parser") }()
			<-ctx.Done()
			return checks.Errorf("unreachable")
		}},
		// spawn starts `sleep 300` in the plugin's process group, holding the
		// agent's stderr pipe, writes its pid to pidfile, and then returns
		// (then=return) or exits, orphaning it (then=exit).
		check{id: "spawn", params: []checks.ParamSpec{
			{Name: "pidfile", Kind: checks.KindString, Default: "", Doc: "where to write the child's pid"},
			{Name: "then", Kind: checks.KindString, Default: "return", Doc: "return or exit"},
			{Name: "setsid", Kind: checks.KindBool, Default: false, Doc: "start the child in a session of its own, out of the plugin's process group"},
			{Name: "scrub", Kind: checks.KindBool, Default: false, Doc: "start the child with an empty environment (without the run token)"},
		}, run: func(_ context.Context, _ checks.Host, p checks.Params) checks.Result {
			// The shell writes its own pid as the agent sees it (/proc is
			// the host's even in the plugin's PID namespace), then becomes
			// sleep.
			pidfile := p.String("pidfile")
			child := exec.Command("/bin/sh", "-c", `read s < /proc/self/stat && echo "${s%% *}" > "$0" && exec sleep 300`, pidfile)
			child.Stderr = rawStderr
			if p.Bool("setsid") {
				child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			}
			if p.Bool("scrub") {
				child.Env = []string{}
			}
			if err := child.Start(); err != nil {
				return checks.Errorf("spawn: %v", err)
			}
			var pid string
			for range 500 {
				if data, _ := os.ReadFile(pidfile); len(data) > 0 && data[len(data)-1] == '\n' {
					pid = strings.TrimSpace(string(data))
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if pid == "" {
				return checks.Errorf("spawn: the child did not write %s", pidfile)
			}
			// The test reads the pid without the newline.
			_ = os.WriteFile(pidfile, []byte(pid), 0o600)
			if p.String("then") == "exit" {
				fmt.Fprintf(rawStderr, "%s: exiting, leaving child %s behind\n", name, pid)
				os.Exit(0)
			}
			return checks.Pass("spawned " + pid)
		}},
	}})
}

func crash(noise int) {
	var b bytes.Buffer
	for i := range noise {
		fmt.Fprintf(&b, "%s: noise line %d %s\n", name, i, strings.Repeat("x", 60))
	}
	fmt.Fprintf(&b, "%s: cannot parse /etc/example.conf\n%s: giving up\n", name, name)
	_, _ = rawStderr.Write(b.Bytes())
	os.Exit(2)
}
