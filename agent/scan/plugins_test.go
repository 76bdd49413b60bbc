package scan

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/plugins/loader"
)

// acmePlugin builds testdata/acme into a fresh 0755 plugin directory and
// returns the directory and the loader configuration pinning it.
func acmePlugin(t *testing.T) (string, *loader.Config) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "plugins")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "acme"), "./testdata/acme").CombinedOutput(); err != nil {
		t.Fatalf("build acme plugin: %v\n%s", err, out)
	}
	sum, err := loader.FileSHA256(filepath.Join(dir, "acme"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, &loader.Config{Dir: dir, Pins: map[string]string{"acme": sum}, RunDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func result(t *testing.T, r *report.Report, id string) (checks.Result, bool) {
	t.Helper()
	for _, res := range r.Results {
		if res.ID == id {
			return res, true
		}
	}
	return checks.Result{}, false
}

func TestRunWithPlugin(t *testing.T) {
	t.Parallel()
	dir, cfg := acmePlugin(t)
	root := fixtureRoot(t)
	ctx := context.Background()

	// Pinned and installed is enough: its check joins the built-in baseline.
	catalog := map[string]checks.Meta{}
	r, _, err := Run(ctx, Options{Root: root, Plugins: cfg, Catalog: catalog})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Plugins) != 1 || r.Plugins[0].Name != "acme" || r.Plugins[0].Version != "0.1.0" || r.Plugins[0].SHA256 != cfg.Pins["acme"] || r.Plugins[0].Error != "" {
		t.Errorf("report plugins %+v", r.Plugins)
	}
	if res, ok := result(t, r, "acme.motd_present"); !ok || res.Status != checks.StatusFail || res.Evidence[0].Path != "/etc/motd" {
		t.Errorf("acme.motd_present = %+v, %v; want FAIL on /etc/motd", res, ok)
	}
	if catalog["acme.motd_present"].Title != "A login banner exists" || catalog["sudo.use_pty"].ID == "" {
		t.Errorf("catalog lacks plugin or built-in checks: %d entries", len(catalog))
	}
	if err := r.Validate(); err != nil {
		t.Errorf("report does not validate: %v", err)
	}

	// A baseline sets the plugin check's parameters like a built-in's.
	os.WriteFile(filepath.Join(root, "etc/issue"), []byte("authorised use only\n"), 0o644)
	bl := filepath.Join(t.TempDir(), "b.yaml")
	os.WriteFile(bl, []byte("schema: plumbline.baseline/v1\nname: b\nversion: \"1\"\nchecks:\n  - sudo.installed\n  - id: acme.motd_present\n    params:\n      path: /etc/issue\n"), 0o644)
	r, _, err = Run(ctx, Options{Root: root, Plugins: cfg, Baseline: bl})
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := result(t, r, "acme.motd_present"); res.Status != checks.StatusPass || len(r.Results) != 2 {
		t.Errorf("with baseline params: %+v (%d results), want PASS on /etc/issue and 2 results", res, len(r.Results))
	}

	// A bad parameter for a plugin check is caught at load, with the line.
	os.WriteFile(bl, []byte("schema: plumbline.baseline/v1\nname: b\nversion: \"1\"\nchecks:\n  - id: acme.motd_present\n    params:\n      path: 3\n"), 0o644)
	if _, _, err := Run(ctx, Options{Root: root, Plugins: cfg, Baseline: bl}); err == nil || !strings.Contains(err.Error(), "b.yaml:7") {
		t.Errorf("bad plugin parameter: %v, want an error at b.yaml:7", err)
	}

	// Tampered after pinning: refused. A baseline naming its check still
	// loads, and the check reports ERROR with the reason.
	f, _ := os.OpenFile(filepath.Join(dir, "acme"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte("x"))
	f.Close()
	os.WriteFile(bl, []byte("schema: plumbline.baseline/v1\nname: b\nversion: \"1\"\nchecks:\n  - id: acme.motd_present\n    params:\n      path: /etc/issue\n"), 0o644)
	r, _, err = Run(ctx, Options{Root: root, Plugins: cfg, Baseline: bl})
	if err != nil {
		t.Fatal(err)
	}
	res, _ := result(t, r, "acme.motd_present")
	if res.Status != checks.StatusError || !strings.Contains(res.Message, "does not match the pinned") || !strings.Contains(r.Plugins[0].Error, "does not match the pinned") {
		t.Errorf("tampered plugin: result %+v, plugin %+v", res, r.Plugins)
	}
}

// The daemon remembers a plugin's checks: when the plugin stops starting,
// its checks stay in the report as ERROR instead of silently leaving it.
func TestRunRemembersPluginChecks(t *testing.T) {
	t.Parallel()
	dir, cfg := acmePlugin(t)
	cfg.Memory = &loader.Memory{}
	root := fixtureRoot(t)
	ctx := context.Background()
	if _, _, err := Run(ctx, Options{Root: root, Plugins: cfg}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "acme")); err != nil {
		t.Fatal(err)
	}
	r, _, err := Run(ctx, Options{Root: root, Plugins: cfg})
	if err != nil {
		t.Fatal(err)
	}
	res, ok := result(t, r, "acme.motd_present")
	if !ok || res.Status != checks.StatusError || !strings.Contains(res.Message, "no such file") || res.Title != "A login banner exists" {
		t.Errorf("missing plugin's check = %+v (present %v); want ERROR naming the missing file, with its title", res, ok)
	}
	// Without the memory (a one-off scan) the check is unknown and absent,
	// but the report still says the plugin failed.
	cfg.Memory = nil
	r, _, err = Run(ctx, Options{Root: root, Plugins: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := result(t, r, "acme.motd_present"); ok || !strings.Contains(r.Plugins[0].Error, "no such file") {
		t.Errorf("one-off scan: check present %v, plugins %+v", ok, r.Plugins)
	}
}
