package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks/checktest"
)

func TestCLIErrors(t *testing.T) {
	t.Parallel()
	emptyRoot := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  []string
	}{
		{"no command", nil, 1, []string{"Usage:"}},
		{"unknown command", []string{"scna"}, 1, []string{`unknown command "scna"`}},
		{"missing root", []string{"scan", "--root", "/nonexistent/plumbline"}, 1, []string{"root /nonexistent/plumbline", "no such file"}},
		{"unknown format", []string{"scan", "--root", emptyRoot, "--baseline", "linux", "--format", "xml"}, 1, []string{`unknown format "xml"`}},
		{"unknown baseline name", []string{"scan", "--root", emptyRoot, "--baseline", "debian-99"}, 1, []string{`no built-in baseline "debian-99"`, "debian-12"}},
		{"malformed baseline file", []string{"scan", "--root", emptyRoot, "--baseline", "testdata/baselines/broken.yaml"},
			1, []string{"testdata/baselines/broken.yaml:5: unknown check \"sudo.no_such_check\"", "broken.yaml:7: unknown key \"colour\""}},
		{"missing baseline file", []string{"scan", "--root", emptyRoot, "--baseline", "nope.yaml"}, 1, []string{"nope.yaml", "no such file"}},
		{"no os-release to pick a baseline", []string{"scan", "--root", emptyRoot}, 1, []string{"os-release", "--baseline"}},
		{"stray argument", []string{"scan", "--root", emptyRoot, "extra"}, 1, []string{"no arguments"}},
		{"describe unknown", []string{"checks", "describe", "nope.nope"}, 1, []string{`unknown check "nope.nope"`}},
		{"checks bad flag", []string{"checks", "list", "-x"}, 1, []string{"flag provided but not defined: -x"}},
		{"checks help", []string{"checks", "-h"}, 0, []string{"Usage: plumbline-agent checks"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, stderr, code := runAgent(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			if strings.Count(stderr, "flag provided but not defined") > 1 {
				t.Errorf("flag error printed twice:\n%s", stderr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestScanWritesOutputFileAtomically(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/machine-id"), []byte("0123456789abcdef0123456789abcdef\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "report.json")
	_, stderr, code := runAgent(t, "scan", "--root", root, "--baseline", "linux", "--format", "json", "-o", out)
	if code > 2 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"schema": "plumbline.report/v1"`) || !strings.Contains(stderr, "written to "+out) {
		t.Errorf("report file or summary line missing:\n%s\n%s", data, stderr)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(bad, []byte("nats:\n  url: ftp://x\nscan:\n  interval: 10s\n  jiter: 1m\nspool:\n  max_reports: lots\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badBaseline := filepath.Join(dir, "baseline.yaml")
	if err := os.WriteFile(badBaseline, []byte("data_dir: "+dir+"\nhost_id: h1\nscan:\n  root: "+dir+"\n  baseline: testdata/baselines/broken.yaml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := checktest.Materialize(t, "testdata/hosts/debian12-server")
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("data_dir: "+dir+"\nscan:\n  root: "+root+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badChecks := filepath.Join(dir, "checks.yaml")
	if err := os.WriteFile(badChecks, []byte("data_dir: "+dir+"\nhost_id: h1\nscan:\n  root: "+dir+"\n  checks_dir: testdata/checks.d-broken\n  baseline: testdata/baselines/broken.yaml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		// Check files and baseline: every problem of every file at once.
		{"bad check files", []string{"config", "check", "--config", badChecks}, 1, []string{
			"scan.checks_dir",
			`10-site.yaml:9: check site.motd_present: test: no probe`,
			`10-site.yaml:17: check site.no_telnet: test: package: installed: eq: "maybe" is not a boolean`,
			`10-site.yaml:23: check site.banner_regex: unknown key "colour"`,
			`10-site.yaml:26: check site.banner_regex: test: lines: regex: missing closing )`,
			`10-site.yaml:27: check sudo.use_pty is a built-in check`,
			`20-more.yaml:3: check site.motd_owner is already defined at testdata/checks.d-broken/10-site.yaml:35`,
			"scan.baseline", "broken.yaml:5: unknown check"}},
		{"run refuses bad check files", []string{"run", "--config", badChecks}, 1, []string{"10-site.yaml:9"}},
		// Every problem at once, each with its file and line.
		{"bad keys and values", []string{"config", "check", "--config", bad}, 1, []string{
			"agent.yaml:2: nats.url", "agent.yaml:4: scan.interval", "agent.yaml:5", "jiter", "agent.yaml:7: spool.max_reports"}},
		{"bad baseline", []string{"config", "check", "--config", badBaseline}, 1, []string{
			"scan.baseline", "broken.yaml:5: unknown check"}},
		{"missing explicit file", []string{"config", "check", "--config", filepath.Join(dir, "nope.yaml")}, 1, []string{"nope.yaml"}},
		{"valid", []string{"config", "check", "--config", good}, 0, []string{
			"good.yaml: valid (baseline debian-12, host id 4c1d2e3f5a6b7c8d9e0f1a2b3c4d5e6f", "from machine-id", "scan.interval", "PLUMBLINE_SCAN_INTERVAL"}},
		{"defaults", []string{"config", "defaults"}, 0, []string{"nats.url", "nats://127.0.0.1:4222", "PLUMBLINE_NATS_URL"}},
		{"no subcommand", []string{"config"}, 1, []string{"Usage: plumbline-agent config check"}},
		{"run stray argument", []string{"run", "now"}, 1, []string{`unexpected argument "now"`}},
		{"run bad config", []string{"run", "--config", bad}, 1, []string{"agent.yaml:2: nats.url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code := runAgent(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout+stderr, w) {
					t.Errorf("output lacks %q:\n%s%s", w, stdout, stderr)
				}
			}
		})
	}
}

// TestScanLocalChecks: an operator's check file joins the built-in baseline.
func TestScanLocalChecks(t *testing.T) {
	t.Parallel()
	root := checktest.Materialize(t, "testdata/hosts/debian12-server")
	stdout, stderr, code := runAgent(t, "scan", "--root", root, "--checks-dir", "testdata/checks.d", "--only", "site.hostname_permissions,sudo.use_pty,site.max_auth_tries", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	var r struct {
		Results []struct{ ID, Status, Message string }
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 3 || r.Results[1].ID != "site.hostname_permissions" || r.Results[1].Status != "PASS" ||
		r.Results[2].ID != "site.max_auth_tries" || r.Results[2].Status != "NOT_APPLICABLE" {
		t.Fatalf("results %+v, want sudo.use_pty, site.hostname_permissions PASS, site.max_auth_tries NOT_APPLICABLE (no sshd here)", r.Results)
	}
	if err := os.Chmod(filepath.Join(root, "etc/hostname"), 0o666); err != nil {
		t.Fatal(err)
	}
	stdout, _, code = runAgent(t, "scan", "--root", root, "--checks-dir", "testdata/checks.d", "--only", "site.hostname_permissions")
	if code != exitFail || !strings.Contains(stdout, "/etc/hostname mode: 0666 (want mode 0644 or stricter)") {
		t.Errorf("exit %d, want %d with the mode in the table:\n%s", code, exitFail, stdout)
	}
}
