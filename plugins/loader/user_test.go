package loader

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/hostfs"
)

// A plugin started as another user reads the host through the agent, but
// cannot reach the agent itself: not its environment directly, not its
// /proc entry or denied files through the host service (even by a link),
// and not a command through an allow-listed program's arguments.
func TestPluginRunsAsAnotherUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("starting a plugin as another user needs root (not root here)")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody on this machine: %v", err)
	}
	dir := newPluginDir(t)
	install(t, dir, "good", "good")
	live, err := hostfs.New(hostfs.Options{Root: "/"})
	if err != nil {
		t.Fatal(err)
	}
	secrets := t.TempDir()
	if err := os.WriteFile(filepath.Join(secrets, "agent.creds"), []byte("seed"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "innocent")
	if err := os.Symlink(filepath.Join(secrets, "agent.creds"), link); err != nil {
		t.Fatal(err)
	}

	s := open(t, Config{Dir: dir, Pins: pinAll(t, dir, "good"), User: "nobody", Deny: []string{secrets}}, live)
	rs := run(live, 10*time.Second, entry(t, s, "good.identity", nil), entry(t, s, "good.pass", nil))
	if r := rs["good.pass"]; r.Status != checks.StatusPass {
		t.Errorf("good.pass as nobody = %s %q, want PASS: the host service still serves the host", r.Status, r.Message)
	}
	msg := rs["good.identity"].Message
	for _, want := range []string{
		"uid=" + nobody.Uid + "\n",
		"direct: open /proc/", "permission denied",
		"host: read /proc/self/environ: the agent's own files are not served to plugins",
		`exec: exec rpm --eval %(id): only "rpm --root {root} -qa --qf FORMAT"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("identity report lacks %q:\n%s", want, msg)
		}
	}

	g := newGuardedHost(live, []string{secrets})
	ctx := context.Background()
	for _, p := range []string{filepath.Join(secrets, "agent.creds"), link, "/proc/self/environ", "/proc/thread-self/environ"} {
		if _, err := g.ReadFile(ctx, p); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("guarded read of %s: %v, want permission refused", p, err)
		}
	}
	if _, err := g.ReadFile(ctx, "/etc/os-release"); err != nil {
		t.Errorf("guarded read of /etc/os-release: %v", err)
	}
	for _, args := range [][]string{{"--root", checks.ExecRoot, "-qa", "--qf", "%{NAME}\\n"}, {"luksDump", "/dev/vda2"}} {
		name := map[bool]string{true: "rpm", false: "cryptsetup"}[args[0] == "--root"]
		if !allowedArgs(name, args) {
			t.Errorf("%s %v refused; the built-in checks use it", name, args)
		}
	}
	for _, c := range [][]string{{"rpm", "-e", "bash"}, {"rpm", "--root", checks.ExecRoot, "-qa", "--qf", "%(id)"}, {"cryptsetup", "erase", "/dev/vda2"}, {"cryptsetup", "luksDump", "/dev/../etc/shadow"}} {
		if allowedArgs(c[0], c[1:]) {
			t.Errorf("%v allowed", c)
		}
	}
}

// A binary only its owner (root) may run cannot start as plugins.user;
// the agent says so instead of a bare "permission denied" from exec.
func TestPluginUserNeedsExecutableBinary(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("starting a plugin as another user needs root (not root here)")
	}
	if _, err := user.Lookup("nobody"); err != nil {
		t.Skipf("no user nobody on this machine: %v", err)
	}
	dir := newPluginDir(t)
	exe := install(t, dir, "good", "good")
	if err := os.Chmod(exe, 0o750); err != nil {
		t.Fatal(err)
	}
	s := open(t, Config{Dir: dir, Pins: pinAll(t, dir, "good"), User: "nobody"}, fixtureHost(t))
	want := exe + " is not executable by others (mode 0750), so not by plugins.user nobody; run chmod 0755 " + exe
	if got := refOf(t, s, "good").Error; got != want {
		t.Errorf("plugin error %q, want %q", got, want)
	}
}
