package procfs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/plumbline/plumbline/checks/checktest"
)

func pids(ps []Process) []int {
	out := make([]int, len(ps))
	for i, p := range ps {
		out[i] = p.PID
	}
	return out
}

func TestList(t *testing.T) {
	t.Parallel()
	h := checktest.Host(t, "testdata/procs")
	got, err := List(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	// 400 has no comm (exited while listed); sys, 12ab, self and the file
	// 999 are not process directories.
	if want := []int{1, 100, 200, 300, 500}; !slices.Equal(pids(got), want) {
		t.Fatalf("pids = %v, want %v", pids(got), want)
	}
	pid1 := got[0]
	if pid1.Comm != "systemd" || pid1.Exe != "/usr/lib/systemd/systemd" || !slices.Equal(pid1.Cmdline, []string{"/sbin/init", "splash"}) {
		t.Errorf("pid 1 = %+v", pid1)
	}
	if kthread := got[1]; kthread.Cmdline != nil || kthread.Exe != "" || kthread.Name() != "kworker/0:1" {
		t.Errorf("pid 100 (kernel thread) = %+v, Name %q", kthread, kthread.Name())
	}
}

func TestFind(t *testing.T) {
	t.Parallel()
	h := checktest.Host(t, "testdata/procs")
	tests := []struct {
		name, proc string
		want       []int
	}{
		{name: "by comm, no exe or cmdline", proc: "kworker/0:1", want: []int{100}},
		{name: "by exe symlink base", proc: "exe-agent", want: []int{200}},
		{name: "by exe of a deleted binary", proc: "deleted-agent", want: []int{500}},
		{name: "by cmdline argv[0] base", proc: "AliYunDunMonitor", want: []int{300}},
		{name: "by truncated comm", proc: "AliYunDunMonito", want: []int{300}},
		{name: "comm and exe agree", proc: "systemd", want: []int{1}},
		{name: "non-numeric directory is not a process", proc: "not a process", want: nil},
		{name: "no such process", proc: "absent", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Find(context.Background(), h, tt.proc)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pids(got), tt.want) {
				t.Errorf("Find(%q) = pids %v, want %v", tt.proc, pids(got), tt.want)
			}
		})
	}
}

func TestNoProc(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, root string)
	}{
		{name: "no /proc directory", setup: func(*testing.T, string) {}},
		{name: "empty /proc mount point", setup: func(t *testing.T, root string) {
			if err := os.Mkdir(filepath.Join(root, "proc"), 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "/proc without process directories", setup: func(t *testing.T, root string) {
			if err := os.MkdirAll(filepath.Join(root, "proc", "sys", "kernel"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, "proc", "uptime"), []byte("1.00 1.00\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			tt.setup(t, root)
			h := checktest.Host(t, root)
			if _, err := List(context.Background(), h); !errors.Is(err, ErrNoProc) {
				t.Errorf("List: err = %v, want ErrNoProc", err)
			}
			if _, err := Find(context.Background(), h, "sshd"); !errors.Is(err, ErrNoProc) {
				t.Errorf("Find: err = %v, want ErrNoProc", err)
			}
		})
	}
}

func TestProcessName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    Process
		want string
	}{
		{Process{Comm: "sshd", Exe: "/usr/sbin/sshd", Cmdline: []string{"sshd: /usr/sbin/sshd -D"}}, "sshd"},
		{Process{Comm: "x", Exe: "/usr/bin/agent (deleted)"}, "agent"},
		{Process{Comm: "AliYunDunMonito", Cmdline: []string{"/usr/local/aegis/AliYunDunMonitor"}}, "AliYunDunMonitor"},
		{Process{Comm: "kthreadd", Cmdline: []string{""}}, "kthreadd"},
		{Process{Comm: "kthreadd"}, "kthreadd"},
	}
	for _, tt := range tests {
		if got := tt.p.Name(); got != tt.want {
			t.Errorf("%+v.Name() = %q, want %q", tt.p, got, tt.want)
		}
	}
}
