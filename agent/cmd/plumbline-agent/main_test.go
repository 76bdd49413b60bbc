package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
