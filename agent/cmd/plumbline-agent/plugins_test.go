package main

import (
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks/checktest"
	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/plugins/loader"
)

var (
	pluginsOnce  sync.Once
	pluginsBuilt string
	pluginsErr   error
)

// firstPartyPlugins builds the sudo and password plugin binaries once, from
// the same code the agent links in.
func firstPartyPlugins(t *testing.T) string {
	t.Helper()
	pluginsOnce.Do(func() {
		dir, err := os.MkdirTemp("", "plumbline-agent-plugins-")
		if err != nil {
			pluginsErr = err
			return
		}
		for _, name := range []string{"sudo", "password"} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), "../../../plugins/firstparty/"+name).CombinedOutput()
			if err != nil {
				pluginsErr = err
				t.Logf("%s", out)
				return
			}
		}
		pluginsBuilt = dir
	})
	if pluginsErr != nil {
		t.Fatalf("build plugins: %v", pluginsErr)
	}
	return pluginsBuilt
}

// pluginDir copies the named plugins into a fresh 0755 directory with a
// plugins.lock pinning them.
func pluginDir(t *testing.T, names ...string) string {
	t.Helper()
	src := firstPartyPlugins(t)
	dir := filepath.Join(t.TempDir(), "plugins")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var lock strings.Builder
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o755); err != nil {
			t.Fatal(err)
		}
		sum, err := loader.FileSHA256(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		lock.WriteString(sum + "  " + n + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "plugins.lock"), []byte(lock.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func scanJSON(t *testing.T, args ...string) (*report.Report, string) {
	t.Helper()
	stdout, stderr, code := runAgent(t, append([]string{"scan", "--format", "json"}, args...)...)
	if code != 0 && code != 2 {
		t.Fatalf("scan %v: exit %d\n%s", args, code, stderr)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("scan output: %v\n%s", err, stdout)
	}
	return &r, stderr
}

type outcome struct {
	Status   string
	Message  string
	Evidence string
}

func outcomes(t *testing.T, r *report.Report, prefix string) map[string]outcome {
	t.Helper()
	out := map[string]outcome{}
	for _, res := range r.Results {
		if strings.HasPrefix(res.ID, prefix) {
			ev, _ := json.Marshal(res.Evidence)
			out[res.ID] = outcome{res.Status.String(), res.Message, string(ev)}
		}
	}
	return out
}

// The first-party families run out of process give the report exactly the
// results they give linked in, and the report lists the plugins.
func TestScanWithFirstPartyPlugins(t *testing.T) {
	t.Parallel()
	root := checktest.Materialize(t, "testdata/hosts/debian12-server")
	dir := pluginDir(t, "sudo", "password")
	linked, _ := scanJSON(t, "--root", root)
	viaPlugins, stderr := scanJSON(t, "--root", root, "--plugin-dir", dir)

	if len(viaPlugins.Plugins) != 2 {
		t.Fatalf("report lists plugins %+v, want sudo and password\n%s", viaPlugins.Plugins, stderr)
	}
	for _, p := range viaPlugins.Plugins {
		want, _ := loader.FileSHA256(filepath.Join(dir, p.Name))
		if p.SHA256 != want || p.Version == "" || p.Error != "" {
			t.Errorf("plugin ref %+v, want sha256 %s, a version and no error", p, want)
		}
	}
	for _, prefix := range []string{"sudo.", "password.", "dlp.", "diskcrypt."} {
		l, p := outcomes(t, linked, prefix), outcomes(t, viaPlugins, prefix)
		if len(l) == 0 || !reflect.DeepEqual(l, p) {
			t.Errorf("%s results differ between linked and plugin:\nlinked: %+v\nplugin: %+v", prefix, l, p)
		}
	}
	if linked.Summary != viaPlugins.Summary {
		t.Errorf("summary linked %+v, via plugins %+v", linked.Summary, viaPlugins.Summary)
	}
}

// A binary changed after it was pinned is refused; its checks report ERROR
// with the reason and the other plugin is unaffected.
func TestScanRefusesTamperedPlugin(t *testing.T) {
	t.Parallel()
	root := checktest.Materialize(t, "testdata/hosts/debian12-server")
	dir := pluginDir(t, "sudo", "password")
	f, err := os.OpenFile(filepath.Join(dir, "sudo"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0})
	f.Close()
	r, _ := scanJSON(t, "--root", root, "--plugin-dir", dir)
	var sudoRef *report.PluginRef
	for i := range r.Plugins {
		if r.Plugins[i].Name == "sudo" {
			sudoRef = &r.Plugins[i]
		}
	}
	if sudoRef == nil || !strings.Contains(sudoRef.Error, "does not match the pinned") {
		t.Fatalf("sudo plugin ref %+v, want a checksum mismatch error", sudoRef)
	}
	sudo := outcomes(t, r, "sudo.")
	if len(sudo) < 5 {
		t.Fatalf("only %d sudo results", len(sudo))
	}
	for id, o := range sudo {
		if o.Status != "ERROR" || !strings.Contains(o.Message, "does not match the pinned") {
			t.Errorf("%s: %+v, want ERROR naming the checksum mismatch", id, o)
		}
	}
	for id, o := range outcomes(t, r, "password.") {
		if o.Status == "ERROR" {
			t.Errorf("%s: %+v; the password plugin was not tampered with", id, o)
		}
	}
}

func TestPluginCLI(t *testing.T) {
	t.Parallel()
	root := checktest.Materialize(t, "testdata/hosts/debian12-server")
	dir := pluginDir(t, "sudo")
	unpinned := filepath.Join(t.TempDir(), "plugins")
	if err := os.Mkdir(unpinned, 0o755); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "sudo"))
	if err := os.WriteFile(filepath.Join(unpinned, "sudo"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	// A configuration pinning a plugin that is not there, next to one that
	// is there but not pinned.
	cfgDir := t.TempDir()
	lock := filepath.Join(cfgDir, "plugins.lock")
	if err := os.WriteFile(lock, []byte(strings.Repeat("ab", 32)+"  ghost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(cfgDir, "agent.yaml")
	if err := os.WriteFile(cfg, []byte("data_dir: "+cfgDir+"\nscan:\n  root: "+root+"\nplugins:\n  dir: "+unpinned+"\n  lock_file: "+lock+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badLock := filepath.Join(cfgDir, "bad.lock")
	if err := os.WriteFile(badLock, []byte("nothex  sudo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badCfg := filepath.Join(cfgDir, "bad.yaml")
	if err := os.WriteFile(badCfg, []byte("data_dir: "+cfgDir+"\nscan:\n  root: "+root+"\nplugins:\n  dir: "+dir+"\n  lock_file: "+badLock+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sum, _ := loader.FileSHA256(filepath.Join(dir, "sudo"))
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{"describe", []string{"plugin", "describe", filepath.Join(dir, "sudo")}, 0, []string{
			"plugin   sudo", "sha256   " + sum, "pin      " + sum + "  sudo", "sudo.use_pty", "sudo.logfile"}},
		{"describe json", []string{"plugin", "describe", "--json", filepath.Join(dir, "sudo")}, 0, []string{`"name": "sudo"`, `"id": "sudo.use_pty"`}},
		{"describe not a plugin", []string{"plugin", "describe", "/bin/true"}, 1, []string{"/bin/true", "handshake"}},
		{"describe missing", []string{"plugin", "describe", filepath.Join(dir, "nope")}, 1, []string{"nope", "no such file"}},
		{"plugin usage", []string{"plugin"}, 1, []string{"plugin new NAME", "plugin describe PATH"}},
		{"new", []string{"plugin", "new", "acme", "--dir", filepath.Join(cfgDir, "acme")}, 0, []string{"wrote plugin acme", "make test"}},
		{"new bad name", []string{"plugin", "new", "Acme-1", "--dir", filepath.Join(cfgDir, "bad")}, 1, []string{"Acme-1"}},
		{"new into non-empty dir", []string{"plugin", "new", "acme", "--dir", dir}, 1, []string{dir, "not empty"}},
		{"scan without pins", []string{"scan", "--root", root, "--plugin-dir", unpinned}, 1, []string{"no pins", "sha256sum"}},
		{"lock without dir", []string{"scan", "--root", root, "--plugin-lock", lock}, 1, []string{"--plugin-lock needs --plugin-dir"}},
		{"config check lists every plugin problem", []string{"config", "check", "--config", cfg}, 1, []string{
			"2 plugin problem(s)", "plugin ghost: pinned plugin ghost: no such file", "plugin sudo:", "is not pinned"}},
		{"config check bad lock file", []string{"config", "check", "--config", badCfg}, 1, []string{"plugins.lock_file", "bad.lock:1", "not a sha256"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code := runAgent(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout+stderr, w) {
					t.Errorf("output lacks %q:\n%s%s", w, stdout, stderr)
				}
			}
		})
	}
}

// A plugin dies with the agent, even when the agent is killed outright in
// the middle of a scan.
func TestPluginDiesWithAgent(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "plugins")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "hang"), "./testdata/plugins/hang").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sum, _ := loader.FileSHA256(filepath.Join(dir, "hang"))
	os.WriteFile(filepath.Join(dir, "plugins.lock"), []byte(sum+"  hang\n"), 0o644)
	root := checktest.Materialize(t, "testdata/hosts/debian12-server")
	// The plugin runs as nobody: its pid file goes where nobody may write.
	pidDir, err := os.MkdirTemp("", "plumbline-pid-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(pidDir) })
	if err := os.Chmod(pidDir, 0o777); err != nil {
		t.Fatal(err)
	}
	pidfile := filepath.Join(pidDir, "pid")
	bl := filepath.Join(t.TempDir(), "b.yaml")
	os.WriteFile(bl, []byte("schema: plumbline.baseline/v1\nname: b\nversion: \"1\"\nchecks:\n  - id: hang.forever\n    params:\n      pidfile: "+pidfile+"\n"), 0o644)

	cmd := exec.Command(agentBin, "scan", "--root", root, "--plugin-dir", dir, "--baseline", bl, "--check-timeout", "1m")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	for deadline := time.Now().Add(20 * time.Second); pid == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the plugin's check never started")
		}
		data, _ := os.ReadFile(pidfile)
		pid, _ = strconv.Atoi(string(data))
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	for deadline := time.Now().Add(5 * time.Second); syscall.Kill(pid, 0) == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("plugin process %d outlived the killed agent", pid)
		}
	}
}

// The daemon re-reads its pins before every scan; a broken lock file keeps
// the pins it had.
func TestReloadPins(t *testing.T) {
	t.Parallel()
	lock := filepath.Join(t.TempDir(), "plugins.lock")
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	pc := &loader.Config{Pins: map[string]string{"acme": a}}

	os.WriteFile(lock, []byte(b+"  acme\n"+a+"  other\n"), 0o644)
	if got := reloadPins(pc, lock, log).Pins; got["acme"] != b || got["other"] != a {
		t.Errorf("after re-pinning: %v", got)
	}
	os.WriteFile(lock, []byte("garbage\n"), 0o644)
	if got := reloadPins(pc, lock, log).Pins; got["acme"] != b || !strings.Contains(logs.String(), "plugins.lock:1") {
		t.Errorf("broken lock file: pins %v, log %q; want the previous pins and the line named", got, logs.String())
	}
	os.Remove(lock)
	if got := reloadPins(pc, lock, log).Pins; got["acme"] != b {
		t.Errorf("removed lock file: pins %v, want the previous ones", got)
	}
	if reloadPins(nil, lock, log) != nil {
		t.Error("no plugins set up: want nil")
	}
}
