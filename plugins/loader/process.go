package loader

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"google.golang.org/grpc"

	"github.com/plumbline/plumbline/plugins/protocol"
)

// EnvRunToken marks a plugin's processes (and the children that inherit
// it) so that leftovers of a killed agent can be found and killed.
const EnvRunToken = "PLUMBLINE_PLUGIN_RUN"

// baseEnv is all a plugin inherits: no agent credentials, proxies or
// configuration from the agent's environment.
var baseEnv = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "LC_ALL=C", "HOME=/"}

// process is one launched plugin binary.
type process struct {
	name   string
	client *plugin.Client
	rpc    *protocol.Client
	run    *procRunner
	stderr *tail
	stdout *tail

	killOnce sync.Once
	peakRSS  int64 // bytes, read just before the kill
}

// procRunner is go-plugin's runner for our launches: it executes the
// verified file through /proc/self/fd, in a new session (so its process
// group can be killed as a whole), with a parent-death signal, a scrubbed
// environment and stdin from /dev/null.
type procRunner struct {
	name   string
	file   *os.File
	token  string
	runDir string
	cred   *syscall.Credential

	cmd            *exec.Cmd
	stdout, stderr *os.File
	stderrEOF      *eofReader
	done           chan struct{}
	waitErr        error
}

// eofReader tells when its pipe has been read to the end: every process
// holding the other end has exited, and go-plugin has taken in (and
// written to the stderr tail) every complete line before the end.
type eofReader struct {
	*os.File
	once sync.Once
	eof  chan struct{}
}

func (r *eofReader) Read(b []byte) (int, error) {
	n, err := r.File.Read(b)
	if err != nil {
		r.once.Do(func() { close(r.eof) })
	}
	return n, err
}

// stderrDrain bounds the wait for a dead plugin's last stderr: a child
// that escaped the process group may hold the pipe open.
const stderrDrain = 500 * time.Millisecond

// drainStderr waits until the plugin's stderr has been read to the end,
// or for at most d.
func (r *procRunner) drainStderr(d time.Duration) {
	if r.stderrEOF == nil {
		return
	}
	select {
	case <-r.stderrEOF.eof:
	case <-time.After(d):
	}
}

func (r *procRunner) start(_ hclog.Logger, cmd *exec.Cmd, _ string) (runner.Runner, error) {
	c := &exec.Cmd{
		Path: "/proc/self/fd/" + strconv.Itoa(int(r.file.Fd())),
		Args: []string{r.name},
		Env: append(append(append([]string{}, baseEnv...), cmd.Env...),
			EnvRunToken+"="+r.token, protocol.EnvAgentUID+"="+strconv.Itoa(os.Geteuid())),
		Dir: "/",
		SysProcAttr: &syscall.SysProcAttr{
			Setsid: true,
			// Set after the credentials change (which would clear it).
			Pdeathsig:  syscall.SIGKILL,
			Credential: r.cred,
			// A PID namespace of its own: when the plugin dies, the kernel
			// kills everything it started, even what left its process
			// group and dropped the run token. Start falls back without it
			// where namespaces are not permitted.
			Cloneflags: syscall.CLONE_NEWPID,
		},
	}
	r.cmd = c
	r.done = make(chan struct{})
	return r, nil
}

func (r *procRunner) Start(context.Context) error {
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return err
	}
	r.cmd.Stdout, r.cmd.Stderr = outW, errW
	err = r.cmd.Start()
	if err != nil && r.cmd.SysProcAttr.Cloneflags != 0 && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC)) {
		// Not root, or in a container that forbids namespaces: the
		// process group, the run token and Sweep still apply.
		attr := *r.cmd.SysProcAttr
		attr.Cloneflags = 0
		r.cmd = &exec.Cmd{Path: r.cmd.Path, Args: r.cmd.Args, Env: r.cmd.Env, Dir: r.cmd.Dir,
			Stdout: outW, Stderr: errW, SysProcAttr: &attr}
		err = r.cmd.Start()
	}
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return fmt.Errorf("start plugin %s: %w", r.name, err)
	}
	r.stdout, r.stderr = outR, errR
	r.stderrEOF = &eofReader{File: errR, eof: make(chan struct{})}
	writeGroupRecord(r.runDir, r.cmd.Process.Pid, r.token)
	go func() {
		r.waitErr = r.cmd.Wait()
		close(r.done)
	}()
	return nil
}

func (r *procRunner) Wait(context.Context) error {
	<-r.done
	return r.waitErr
}

// Kill kills the plugin's whole process group (children it spawned
// included) and closes our ends of its pipes, so that a child that escaped
// the group cannot keep go-plugin's readers waiting.
func (r *procRunner) Kill(context.Context) error {
	if r.cmd == nil || r.cmd.Process == nil {
		return nil
	}
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-r.done:
	case <-time.After(2 * time.Second):
	}
	// Closing our end discards what is still in the pipe: let go-plugin
	// read the plugin's last words first.
	r.drainStderr(stderrDrain)
	r.stdout.Close()
	r.stderr.Close()
	removeGroupRecord(r.runDir, r.cmd.Process.Pid)
	return nil
}

func (r *procRunner) Stdout() io.ReadCloser { return r.stdout }
func (r *procRunner) Stderr() io.ReadCloser { return r.stderrEOF }

func (r *procRunner) Diagnose(context.Context) string {
	return "the binary may be for another architecture, not a plumbline plugin, or it printed something before the go-plugin handshake"
}

func (r *procRunner) Name() string { return r.name }

func (r *procRunner) ID() string {
	if r.cmd == nil || r.cmd.Process == nil {
		return ""
	}
	return strconv.Itoa(r.cmd.Process.Pid)
}

func (r *procRunner) PluginToHost(n, a string) (string, string, error) { return n, a, nil }
func (r *procRunner) HostToPlugin(n, a string) (string, string, error) { return n, a, nil }

// exited reports whether the process has ended, and how.
func (r *procRunner) exited() (bool, error) {
	select {
	case <-r.done:
		return true, r.waitErr
	default:
		return false, nil
	}
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
	cut bool
}

func newTail(max int) *tail { return &tail{max: max} }

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.cut = true
	}
	return len(p), nil
}

// lastLines returns up to n last non-empty lines, each at most 300 bytes.
// When a Go crash's first line ("panic: …", "fatal error: …") would be cut
// off by the stack trace after it, it leads the n lines instead of the
// oldest of them: it is the line that says what went wrong.
func (t *tail) lastLines(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lines []string
	crash := -1
	for _, l := range bytes.Split(t.buf, []byte("\n")) {
		if s := strings.TrimSpace(string(l)); s != "" {
			if len(s) > 300 {
				s = s[:300] + "…"
			}
			if strings.HasPrefix(s, "panic: ") || strings.HasPrefix(s, "fatal error: ") {
				crash = len(lines)
			}
			lines = append(lines, s)
		}
	}
	if len(lines) > n {
		if crash >= 0 && crash < len(lines)-n {
			lines = append([]string{lines[crash]}, lines[len(lines)-n+1:]...)
		} else {
			lines = lines[len(lines)-n:]
		}
	}
	return strings.Join(lines, " | ")
}

// launch starts a verified plugin file and dispenses its client.
func launch(name string, file *os.File, cfg *Config, token string) (*process, error) {
	p := &process{name: name, stderr: newTail(cfg.OutputBytes), stdout: newTail(cfg.OutputBytes)}
	p.run = &procRunner{name: name, file: file, token: token, runDir: cfg.RunDir, cred: cfg.cred}
	sockets := &plugin.UnixSocketConfig{TempDir: cfg.socketDir}
	if cfg.cred != nil {
		// go-plugin makes the socket directory and sockets group-writable
		// for this group, so that the plugin's user can reach the agent's.
		sockets.Group = strconv.Itoa(int(cfg.cred.Gid))
	}
	p.client = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  protocol.Handshake,
		VersionedPlugins: protocol.PluginSets(nil),
		RunnerFunc:       p.run.start,
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     cfg.StartTimeout,
		Stderr:           p.stderr,
		SyncStdout:       p.stdout,
		SyncStderr:       p.stderr,
		Logger:           hclog.NewNullLogger(),
		UnixSocketConfig: sockets,
		GRPCDialOptions:  []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(8 << 20))},
	})
	rpc, err := p.client.Client()
	if err != nil {
		p.kill()
		return nil, p.startError(err, cfg.StartTimeout)
	}
	c, err := protocol.Dispense(rpc)
	if err != nil {
		p.kill()
		return nil, err
	}
	p.rpc = c
	return p, nil
}

// startError explains a failed handshake in the operator's terms. The
// cases match go-plugin's (v1.8) wording.
func (p *process) startError(err error, startTimeout time.Duration) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "incompatible API version"):
		msg = fmt.Sprintf("speaks another plugin protocol version (this agent speaks %d): %s", protocol.Version, firstLine(msg))
	case strings.Contains(msg, "plugin exited before we could connect"),
		// Its stdout closed without a handshake line: it exited (go-plugin
		// reports that as an unrecognized, empty message).
		strings.Contains(msg, "Failed to read any lines from plugin's stdout"):
		msg = "exited before the handshake"
		if exited, werr := p.run.exited(); exited && werr != nil {
			msg += " (" + werr.Error() + ")"
		}
	case strings.Contains(msg, "Unrecognized remote plugin message"):
		msg = "did not complete the go-plugin handshake (it printed something else to stdout first, or is not a plumbline plugin): " + truncate(firstLine(msg), 200)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		msg = fmt.Sprintf("did not complete the go-plugin handshake within %s (timeout)", startTimeout)
	}
	if s := p.stderr.lastLines(5); s != "" {
		msg += "; last stderr: " + s
	}
	return errors.New(msg)
}

// crashNote describes how a plugin ended, if it has.
func (p *process) crashNote() string {
	// The exit status arrives a moment after the broken stream.
	deadline := time.Now().Add(time.Second)
	for {
		exited, werr := p.run.exited()
		if exited {
			// What it wrote just before it died may still be in the pipe.
			p.run.drainStderr(stderrDrain)
			msg := "plugin exited"
			if werr != nil {
				msg = "plugin crashed (" + werr.Error() + ")"
			}
			if s := p.stderr.lastLines(5); s != "" {
				msg += "; last stderr: " + s
			}
			return msg
		}
		if time.Now().After(deadline) {
			return ""
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill ends the plugin: its process group and every process carrying its
// run token are killed, its sockets and record removed.
func (p *process) kill() {
	p.killOnce.Do(func() {
		if pid := p.pid(); pid > 0 {
			p.peakRSS = readPeakRSS(pid)
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			// Descendants that moved to a session of their own left the
			// group but still carry the launch's token.
			killTokenHolders(map[string]bool{p.run.token: true})
		}
		done := make(chan struct{})
		go func() {
			p.client.Kill()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			// go-plugin is still waiting on something of the dead
			// plugin's; the process group is gone, so let it be.
		}
		// The group is dead, so its record is no longer wanted. go-plugin
		// calls the runner's Kill, which removes it too, only when the
		// plugin fails to exit once its connection is closed.
		if pid := p.pid(); pid > 0 {
			removeGroupRecord(p.run.runDir, pid)
		}
	})
}

func (p *process) pid() int {
	if p.run.cmd == nil || p.run.cmd.Process == nil {
		return 0
	}
	return p.run.cmd.Process.Pid
}

// readPeakRSS returns VmHWM of a process in bytes, or 0.
func readPeakRSS(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
