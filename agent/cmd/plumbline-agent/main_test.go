package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// agentBin is the real binary, built once in TestMain: the end-to-end tests
// exercise exactly what users run.
var agentBin string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "plumbline-agent-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	agentBin = filepath.Join(dir, "plumbline-agent")
	build := exec.Command("go", "build", "-o", agentBin, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build plumbline-agent:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// materialize copies a fixture host tree into a temp dir with the modes a
// real host has: git keeps neither modes nor ownership, so each tree has a
// MODES file ("octal-mode path" per line) and everything else gets 0644
// files and 0755 directories. Symlinks are copied as symlinks.
func materialize(t testing.TB, fixture string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "root")
	err := filepath.WalkDir(fixture, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(fixture, p)
		if rel == "MODES" {
			return nil
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		}
	})
	if err != nil {
		t.Fatalf("copy fixture %s: %v", fixture, err)
	}
	modes, err := os.Open(filepath.Join(fixture, "MODES"))
	if errors.Is(err, fs.ErrNotExist) {
		return dst
	}
	if err != nil {
		t.Fatal(err)
	}
	defer modes.Close()
	sc := bufio.NewScanner(modes)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		modeStr, rel, ok := strings.Cut(line, " ")
		mode, perr := strconv.ParseUint(modeStr, 8, 32)
		if !ok || perr != nil {
			t.Fatalf("%s/MODES:%d: want \"octal-mode path\", got %q", fixture, n, line)
		}
		fm := fs.FileMode(mode & 0o777)
		if mode&0o4000 != 0 {
			fm |= fs.ModeSetuid
		}
		if mode&0o2000 != 0 {
			fm |= fs.ModeSetgid
		}
		if mode&0o1000 != 0 {
			fm |= fs.ModeSticky
		}
		if err := os.Chmod(filepath.Join(dst, strings.TrimSpace(rel)), fm); err != nil {
			t.Fatalf("%s/MODES:%d: %v", fixture, n, err)
		}
	}
	return dst
}

// runAgent runs the built binary and returns stdout, stderr and exit code.
func runAgent(t testing.TB, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(agentBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// normalize removes what legitimately differs between runs (ids, times,
// durations, the temp root's path) so that the rest can be diffed exactly.
func normalize(t *testing.T, raw []byte) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("scan output is not JSON: %v\n%s", err, raw)
	}
	for _, k := range []string{"scan_id", "started_at", "finished_at", "agent_version"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("report lacks %s", k)
		}
		doc[k] = "<normalized>"
	}
	if host, ok := doc["host"].(map[string]any); ok && host["root"] != nil {
		host["root"] = "<root>"
	}
	if b, ok := doc["baseline"].(map[string]any); ok {
		b["source"] = "<baseline file>" // a temp path
	}
	results, _ := doc["results"].([]any)
	for _, r := range results {
		m := r.(map[string]any)
		if _, ok := m["duration_ms"]; !ok {
			t.Errorf("result %v lacks duration_ms", m["id"])
		}
		m["duration_ms"] = 0
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}
