package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
