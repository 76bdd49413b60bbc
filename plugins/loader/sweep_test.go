package loader

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSweep plays the aftermath of a killed agent: a plugin's process group
// survived with its record in the run directory. Sweep must kill every
// process carrying the recorded run token, in the group or moved to a
// session of its own, and nothing else: not a member without the token (the
// pid may have been recycled), not a process with another launch's token,
// not an unrelated process.
func TestSweep(t *testing.T) {
	t.Parallel()
	runDir := shortTempDir(t)
	const token = "0123456789abcdef01234567"
	withToken := []string{EnvRunToken + "=" + token}

	// A group of the test's own session, so that other processes can join
	// it (a plugin's group is a session of its own; Sweep goes by group).
	leader := startSleep(t, withToken, &syscall.SysProcAttr{Setpgid: true})
	pgid := leader.Process.Pid
	member := startSleep(t, withToken, &syscall.SysProcAttr{Setpgid: true, Pgid: pgid})
	stranger := startSleep(t, nil, &syscall.SysProcAttr{Setpgid: true, Pgid: pgid})
	escaped := startSleep(t, withToken, &syscall.SysProcAttr{Setsid: true})
	foreign := startSleep(t, []string{EnvRunToken + "=ffffffffffffffffffffffff"}, &syscall.SysProcAttr{Setsid: true})
	unrelated := startSleep(t, nil, &syscall.SysProcAttr{Setsid: true})

	writeGroupRecord(runDir, pgid, token)
	// A record of a group that is long gone, and go-plugin's socket
	// directory of the dead agent.
	writeGroupRecord(runDir, 1<<22+1, token)
	if err := os.MkdirAll(filepath.Join(runDir, "plugin-dir123", "plugin456"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runDir, "keep"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	var log bytes.Buffer
	if err := Sweep(runDir, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
		t.Fatalf("Sweep: %v", err)
	}

	for name, p := range map[string]*sleeper{"group leader": leader, "group member with the token": member, "process with the token in a session of its own": escaped} {
		if !p.killed(reapWait) {
			t.Errorf("%s (pid %d) survived Sweep", name, p.Process.Pid)
		}
	}
	for name, p := range map[string]*sleeper{
		"group member without the token":   stranger,
		"process with an unrecorded token": foreign,
		"unrelated process":                unrelated,
	} {
		// The members above are gone by now; a wrongly killed process
		// would be too.
		if p.killed(100 * time.Millisecond) {
			t.Errorf("Sweep killed the %s (pid %d)", name, p.Process.Pid)
		}
	}
	wantLog := "processes=3"
	if !strings.Contains(log.String(), "killed processes left by plugins of a previous agent run") || !strings.Contains(log.String(), wantLog) {
		t.Errorf("log = %q, want the kill reported with %s", log.String(), wantLog)
	}
	entries, err := os.ReadDir(runDir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if strings.Join(left, " ") != "keep" {
		t.Errorf("run directory after Sweep holds %v, want only keep: records and sockets removed, nothing else touched", left)
	}
}

// TestSweepMissingRunDir checks that a first start (no run directory yet)
// is not an error.
func TestSweepMissingRunDir(t *testing.T) {
	t.Parallel()
	if err := Sweep(filepath.Join(t.TempDir(), "absent"), slog.New(slog.DiscardHandler)); err != nil {
		t.Errorf("Sweep of a missing run directory: %v", err)
	}
}

// sleeper is a `sleep 300` the test started, and its end.
type sleeper struct {
	*exec.Cmd
	done chan error
}

// startSleep starts `sleep 300` with env and attr, killed and reaped when
// the test ends.
func startSleep(t *testing.T, env []string, attr *syscall.SysProcAttr) *sleeper {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	cmd.Env, cmd.SysProcAttr = env, attr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &sleeper{Cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
	})
	return s
}

// killed reports whether the process ended by SIGKILL within d.
func (s *sleeper) killed(d time.Duration) bool {
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		var exit *exec.ExitError
		return errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL
	case <-time.After(d):
		return false
	}
}
