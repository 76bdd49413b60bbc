package loader

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Each launched plugin leaves a record "pg-<pid>" holding its run token in
// the run directory until it is killed. If the agent itself is killed, the
// plugin dies with it (parent-death signal) but children it spawned may not;
// Sweep finds them by the token and kills them.

func writeGroupRecord(dir string, pid int, token string) {
	_ = os.WriteFile(filepath.Join(dir, "pg-"+strconv.Itoa(pid)), []byte(token), 0o600)
}

func removeGroupRecord(dir string, pid int) {
	_ = os.Remove(filepath.Join(dir, "pg-"+strconv.Itoa(pid)))
}

// Sweep cleans up after an agent that did not shut down cleanly: it kills
// every process that carries the run token of a plugin launch it recorded
// (a plugin's children inherit it, including those that moved to a session
// of their own; tokens are random per launch, so no other process has one)
// and removes stray go-plugin socket directories. The agent calls it at
// start, before launching any plugin.
func Sweep(runDir string, log *slog.Logger) error {
	entries, err := os.ReadDir(runDir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("plugin run directory: %w", err)
	}
	tokens := map[string]bool{}
	for _, e := range entries {
		p := filepath.Join(runDir, e.Name())
		switch {
		case strings.HasPrefix(e.Name(), "pg-"):
			if token, err := os.ReadFile(p); err == nil && len(token) > 0 {
				tokens[string(token)] = true
			}
			_ = os.Remove(p)
		case strings.HasPrefix(e.Name(), "plugin"):
			// go-plugin's socket directories ("plugin-dir…", "plugin…").
			if err := os.RemoveAll(p); err != nil {
				log.Warn("remove stray plugin sockets", "path", p, "err", err)
			}
		}
	}
	if n := killTokenHolders(tokens); n > 0 {
		log.Warn("killed processes left by plugins of a previous agent run", "processes", n)
	}
	return nil
}

// killTokenHolders kills every process whose environment holds one of the
// run tokens, and returns how many it signalled.
func killTokenHolders(tokens map[string]bool) int {
	if len(tokens) == 0 {
		return 0
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	prefix := []byte(EnvRunToken + "=")
	self := os.Getpid()
	n := 0
	for _, d := range procs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile("/proc/" + d.Name() + "/environ")
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if tok, ok := bytes.CutPrefix(kv, prefix); ok && tokens[string(tok)] {
				if syscall.Kill(pid, syscall.SIGKILL) == nil {
					n++
				}
				break
			}
		}
	}
	return n
}
