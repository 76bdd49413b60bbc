package sdktest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/plumbline/plumbline/plugins/loader"
	"github.com/plumbline/plumbline/plugins/protocol"
)

// notAPluginMessage starts what go-plugin's Serve prints to stderr when the
// binary is run without the agent's magic cookie.
const notAPluginMessage = "This binary is a plugin"

// CheckHandshake starts the binary as the agent's go-plugin client does
// (the magic cookie, the protocol versions on offer, a socket directory, a
// scrubbed environment) and requires the first line on its stdout to be
// go-plugin's handshake, "1|1|unix|<socket>|grpc|", with the socket
// listening. Anything a plugin prints to stdout before sdk.Serve comes
// first and breaks the handshake: the agent would refuse the plugin. Before
// that it runs the binary without the cookie, as a person would, and
// requires it to exit non-zero with go-plugin's "This binary is a plugin"
// message.
func CheckHandshake(t testing.TB, binPath string) {
	t.Helper()
	checkRefusesHand(t, binPath)
	checkServes(t, binPath)
}

// pluginEnv is what the loader gives a plugin besides go-plugin's variables.
func pluginEnv() []string {
	return []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "LC_ALL=C", "HOME=/"}
}

// startCommand prepares the binary in its own process group, killed as a
// whole when ctx ends (or the test binary dies).
func startCommand(ctx context.Context, binPath string, env []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, binPath)
	cmd.Env = env
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

func checkServes(t testing.TB, binPath string) {
	t.Helper()
	sockDir := shortTempDir(t)
	env := append(pluginEnv(),
		protocol.Handshake.MagicCookieKey+"="+protocol.Handshake.MagicCookieValue,
		"PLUGIN_PROTOCOL_VERSIONS="+strconv.Itoa(protocol.Version),
		plugin.EnvUnixSocketDir+"="+sockDir,
	)
	ctx, cancel := context.WithTimeout(t.Context(), loader.DefaultStartTimeout)
	defer cancel()
	cmd := startCommand(ctx, binPath, env)
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	defer stdoutR.Close()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdoutW, &stderr
	err = cmd.Start()
	stdoutW.Close()
	if err != nil {
		t.Fatalf("start plugin %s: %v", binPath, err)
	}

	type readResult struct {
		line string
		err  error
	}
	first := make(chan readResult, 1)
	go func() {
		line, err := bufio.NewReader(stdoutR).ReadString('\n')
		first <- readResult{line, err}
	}()
	var got readResult
	select {
	case got = <-first:
	case <-ctx.Done():
		got.err = ctx.Err()
	}
	line := strings.TrimRight(got.line, "\r\n")
	var lineErr error
	if line != "" {
		// While the plugin still runs: the check dials its socket.
		lineErr = checkHandshakeLine(line, sockDir)
	}
	cancel()
	waitErr := cmd.Wait()
	switch {
	case line == "" && errors.Is(got.err, context.DeadlineExceeded):
		t.Errorf("plugin %s printed no handshake line within %s; stderr: %s", binPath, loader.DefaultStartTimeout, stderrText(&stderr))
	case line == "":
		t.Errorf("plugin %s ended without a handshake line (%v); stderr: %s", binPath, waitErr, stderrText(&stderr))
	case lineErr != nil:
		t.Errorf("plugin %s: %v", binPath, lineErr)
	}
}

// checkHandshakeLine checks one line against what go-plugin's Serve prints
// for the agent's client: core version, app protocol version, network,
// address, protocol, and an empty server certificate (no AutoMTLS).
func checkHandshakeLine(line, sockDir string) error {
	parts := strings.Split(line, "|")
	if len(parts) < 6 || parts[0] != strconv.Itoa(plugin.CoreProtocolVersion) {
		return fmt.Errorf("printed %q to stdout before the go-plugin handshake; the agent refuses such a plugin. "+
			"Write nothing to stdout before sdk.Serve (log to stderr)", line)
	}
	var errs []error
	if len(parts) != 6 {
		errs = append(errs, fmt.Errorf("has %d fields, want 6", len(parts)))
	}
	if parts[1] != strconv.Itoa(protocol.Version) {
		errs = append(errs, fmt.Errorf("speaks plugin protocol version %s, want %d", parts[1], protocol.Version))
	}
	if parts[2] != "unix" {
		errs = append(errs, fmt.Errorf("listens on network %q, want unix", parts[2]))
	} else if filepath.Dir(parts[3]) != sockDir {
		errs = append(errs, fmt.Errorf("socket %s is not in PLUGIN_UNIX_SOCKET_DIR %s", parts[3], sockDir))
	} else if conn, err := net.DialTimeout("unix", parts[3], 2*time.Second); err != nil {
		errs = append(errs, fmt.Errorf("socket %s does not accept connections: %w", parts[3], err))
	} else {
		conn.Close()
	}
	if parts[4] != string(plugin.ProtocolGRPC) {
		errs = append(errs, fmt.Errorf("serves protocol %q, want grpc", parts[4]))
	}
	if len(errs) > 0 {
		return fmt.Errorf("handshake line %q: %w", line, errors.Join(errs...))
	}
	return nil
}

func checkRefusesHand(t testing.TB, binPath string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), loader.DefaultStartTimeout)
	defer cancel()
	cmd := startCommand(ctx, binPath, pluginEnv())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Errorf("plugin %s run without the agent's cookie was still running after %s; sdk.Serve should exit at once", binPath, loader.DefaultStartTimeout)
	case err == nil:
		t.Errorf("plugin %s run without the agent's cookie exited 0; want non-zero with %q (is main calling sdk.Serve?)", binPath, notAPluginMessage)
	case !errors.As(err, &exit):
		t.Errorf("run plugin %s: %v", binPath, err)
	case !strings.Contains(stderr.String(), notAPluginMessage):
		t.Errorf("plugin %s run without the agent's cookie: %v, stderr %s; want go-plugin's %q", binPath, err, stderrText(&stderr), notAPluginMessage)
	}
}

func stderrText(b *bytes.Buffer) string {
	s := strings.TrimSpace(b.String())
	if s == "" {
		return "(empty)"
	}
	if len(s) > 2000 {
		s = s[:2000] + "…"
	}
	return s
}
