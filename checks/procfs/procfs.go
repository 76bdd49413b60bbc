// Package procfs lists the host's processes from /proc.
package procfs

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/plumbline/plumbline/checks"
)

// Process is one running process.
type Process struct {
	PID int `json:"pid"`
	// Comm is the kernel's short name (15 characters at most).
	Comm string `json:"comm"`
	// Exe is the executable's path, when readable (needs privileges for
	// other users' processes); empty otherwise.
	Exe     string   `json:"exe,omitempty"`
	Cmdline []string `json:"cmdline,omitempty"`
}

// Name returns the best available program name: the base of Exe, else of
// argv[0], else Comm.
func (p Process) Name() string {
	if p.Exe != "" {
		return path.Base(strings.TrimSuffix(p.Exe, " (deleted)"))
	}
	if len(p.Cmdline) > 0 && p.Cmdline[0] != "" {
		return path.Base(p.Cmdline[0])
	}
	return p.Comm
}

// ErrNoProc means /proc shows no processes: a mounted image or a tree
// without /proc, where running state cannot be judged.
var ErrNoProc = fmt.Errorf("no processes visible in /proc (not a live host)")

// List returns every process, read once per scan.
func List(ctx context.Context, h checks.Host) ([]Process, error) {
	return checks.Memoized(h, "procfs.list", func() ([]Process, error) { return list(ctx, h) })
}

func list(ctx context.Context, h checks.Host) ([]Process, error) {
	entries, err := h.ReadDir(ctx, "/proc")
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, ErrNoProc
	}
	var out []Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name)
		if err != nil || !e.IsDir() {
			continue
		}
		dir := "/proc/" + e.Name
		comm, err := h.ReadFile(ctx, dir+"/comm")
		if err != nil {
			continue // exited while we looked
		}
		p := Process{PID: pid, Comm: strings.TrimSpace(string(comm))}
		if cmd, err := h.ReadFile(ctx, dir+"/cmdline"); err == nil && len(cmd) > 0 {
			p.Cmdline = strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
		}
		if exe, err := h.Readlink(ctx, dir+"/exe"); err == nil {
			p.Exe = exe
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, ErrNoProc
	}
	return out, nil
}

// Find returns the processes whose Name or Comm equals name.
func Find(ctx context.Context, h checks.Host, name string) ([]Process, error) {
	all, err := List(ctx, h)
	if err != nil {
		return nil, err
	}
	var out []Process
	for _, p := range all {
		if p.Name() == name || p.Comm == name {
			out = append(out, p)
		}
	}
	return out, nil
}
