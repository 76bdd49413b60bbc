package main

import (
	"github.com/plumbline/plumbline/checks/checktest"

	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestGolden runs the built binary on fixture host trees and diffs its JSON
// with testdata/golden; "make golden" (-update) rewrites the files after an
// intended change, and the diff then shows in review.
func TestGolden(t *testing.T) {
	if os.Getuid() != 0 {
		// Ownership is part of what the checks judge; as non-root the
		// copied fixture would be owned by the test user.
		t.Skip("golden fixtures need root, so that copied files are owned by root as on a real host (CI runs as root)")
	}
	t.Parallel()
	tests := []struct {
		host     string
		baseline string
		wantExit int
	}{
		{"debian12-server", "debian-12", 2},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			t.Parallel()
			root := checktest.Materialize(t, filepath.Join("testdata/hosts", tt.host))
			stdout, stderr, code := runAgent(t, "scan", "--root", root, "--baseline", pinnedClock(t, tt.baseline), "--format", "json")
			if code != tt.wantExit {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantExit, stderr)
			}
			got := normalize(t, []byte(stdout))
			golden := filepath.Join("testdata/golden", tt.host+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run \"make golden\" to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s; run \"make golden\" if the change is intended.\n%s", golden, lineDiff(string(want), string(got)))
			}
		})
	}
}

// pinnedClock writes a copy of a built-in baseline whose root_rotation check
// judges against a fixed date, so that the golden output does not change with
// the calendar. It is derived from the built-in file each run rather than
// kept as a copy that would miss checks added later.
func pinnedClock(t *testing.T, builtin string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("../../../checks/baseline/builtin", builtin+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const entry = "  - password.root_rotation\n"
	if !bytes.Contains(data, []byte(entry)) {
		t.Fatalf("built-in %s no longer selects %q; update pinnedClock", builtin, entry)
	}
	pinned := bytes.Replace(data, []byte(entry),
		[]byte("  - id: password.root_rotation\n    params:\n      now: \"2026-11-23T00:00:00Z\"\n"), 1)
	file := filepath.Join(t.TempDir(), builtin+".yaml")
	if err := os.WriteFile(file, pinned, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestAutoBaselineMatchesGolden scans the same tree letting the agent pick
// the baseline from os-release: it must pick debian-12 and reach the same
// statuses as the pinned-clock golden run.
func TestAutoBaselineMatchesGolden(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("golden fixtures need root, so that copied files are owned by root as on a real host (CI runs as root)")
	}
	t.Parallel()
	root := checktest.Materialize(t, "testdata/hosts/debian12-server")
	stdout, stderr, _ := runAgent(t, "scan", "--root", root, "--format", "json")
	var got, want struct {
		Baseline struct{ Name string }
		Results  []struct{ ID, Status string }
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	data, err := os.ReadFile("testdata/golden/debian12-server.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if got.Baseline.Name != "debian-12" {
		t.Errorf("picked baseline %q, want debian-12", got.Baseline.Name)
	}
	if len(got.Results) != len(want.Results) {
		t.Fatalf("%d results, want %d", len(got.Results), len(want.Results))
	}
	for i := range want.Results {
		if got.Results[i] != want.Results[i] {
			t.Errorf("result %d: %+v, want %+v", i, got.Results[i], want.Results[i])
		}
	}
}

// TestTableShowsWhatFailed checks the people-facing output on the same tree.
func TestTableShowsWhatFailed(t *testing.T) {
	t.Parallel()
	root := checktest.Materialize(t, "testdata/hosts/debian12-server")
	stdout, _, code := runAgent(t, "scan", "--root", root, "--only", "password.pass_max_days,sudo.use_pty")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{
		"FAIL            medium    password.pass_max_days",
		"- PASS_MAX_DAYS: found 99999, expected 1..365 (/etc/login.defs:9)",
		"PASS            medium    sudo.use_pty",
		"1 pass, 1 fail, 0 error, 0 not applicable, 0 skipped",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
}

// lineDiff shows the lines that differ, enough to see what changed.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)) && b.Len() < 4000; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  - " + wl + "\n  + " + gl + "\n")
		}
	}
	return b.String()
}
