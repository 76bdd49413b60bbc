package report

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks"
)

func sample() *Report {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	results := []checks.Result{
		{ID: "sudo.use_pty", Title: "sudo runs commands in a pty", Status: checks.StatusPass, Severity: checks.SeverityMedium, Message: "use_pty is set"},
		{ID: "sudo.logfile", Title: "sudo logs to a file", Status: checks.StatusFail, Severity: checks.SeverityHigh, Message: "no logfile",
			Evidence: []checks.Evidence{{Key: "Defaults logfile", Expected: "an absolute path", Actual: "", OK: false, Path: "/etc/sudoers"}}},
		{ID: "password.pass_max_days", Title: "passwords expire", Status: checks.StatusError, Severity: checks.SeverityMedium, Message: "read /etc/login.defs: permission denied\nmore"},
		{ID: "diskcrypt.swap_encrypted", Title: "swap is encrypted", Status: checks.StatusNotApplicable, Severity: checks.SeverityHigh, Message: "no block devices"},
	}
	return &Report{
		Schema: Schema, ScanID: "abc", Sequence: 7,
		Host:      Identity{ID: "0123456789abcdef0123456789abcdef", IDSource: "machine-id", Hostname: "web-1"},
		Facts:     Facts{OS: "Debian GNU/Linux 12 (bookworm)", Platform: "debian:12"},
		Baseline:  BaselineRef{Name: "debian-12", Version: "1.0.0", SHA256: strings.Repeat("a", 64), Source: "builtin:debian-12.yaml"},
		StartedAt: start, FinishedAt: start.Add(12 * time.Millisecond),
		Summary: Summarize(results), Results: results, Agent: "test",
	}
}

func TestRoundTripAndValidate(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Write(&buf, FormatJSON, sample(), nil); err != nil {
		t.Fatal(err)
	}
	r, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if r.Results[1].Status != checks.StatusFail || r.Results[1].Evidence[0].Path != "/etc/sudoers" || r.ExitCode() != 2 {
		t.Errorf("round trip lost data: %+v", r.Results[1])
	}

	bad := []struct {
		name   string
		mutate func(*Report)
		want   string
	}{
		{"schema", func(r *Report) { r.Schema = "plumbline.report/v0" }, "not supported"},
		{"host", func(r *Report) { r.Host.ID = "" }, "host.id"},
		{"duplicate", func(r *Report) { r.Results[1].ID = r.Results[0].ID }, "appears twice"},
		{"summary", func(r *Report) { r.Summary.Pass = 9 }, "does not match"},
	}
	for _, tt := range bad {
		r := sample()
		tt.mutate(r)
		data, _ := json.Marshal(r)
		if _, err := Decode(data); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := Decode([]byte(`{"schema":"plumbline.report/v1","results":[{"id":"a","status":"MAYBE"}]}`)); err == nil || !strings.Contains(err.Error(), "MAYBE") {
		t.Errorf("invalid status: error %v", err)
	}
	if _, err := Decode(make([]byte, MaxSize+1)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized: error %v", err)
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	r := sample()
	if r.ExitCode() != 2 {
		t.Errorf("with a FAIL: %d, want 2", r.ExitCode())
	}
	r.Summary.Fail = 0
	if r.ExitCode() != 1 {
		t.Errorf("with an ERROR and no FAIL: %d, want 1", r.ExitCode())
	}
	r.Summary.Error = 0
	if r.ExitCode() != 0 {
		t.Errorf("all pass or n/a: %d, want 0", r.ExitCode())
	}
}

func TestTable(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteTable(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"web-1 (0123456789abcdef0123456789abcdef)",
		"Defaults logfile: found nothing, expected an absolute path (/etc/sudoers)",
		"read /etc/login.defs: permission denied",
		"1 pass, 1 fail, 1 error, 1 not applicable, 0 skipped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "more") {
		t.Errorf("table shows more than the first line of an error:\n%s", out)
	}
	if strings.Index(out, "FAIL") > strings.Index(out, "PASS") {
		t.Errorf("failures must come first:\n%s", out)
	}
}

func TestJUnit(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	var parsed junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &parsed); err != nil {
		t.Fatalf("JUnit output is not XML: %v\n%s", err, buf.String())
	}
	counts := map[string][4]int{}
	for _, s := range parsed.Suites {
		counts[s.Name] = [4]int{s.Tests, s.Failures, s.Errors, s.Skipped}
	}
	want := map[string][4]int{"sudo": {2, 1, 0, 0}, "password": {1, 0, 1, 0}, "diskcrypt": {1, 0, 0, 1}}
	for name, w := range want {
		if counts[name] != w {
			t.Errorf("suite %s tests/failures/errors/skipped = %v, want %v", name, counts[name], w)
		}
	}
}

type refCheck struct{}

func (refCheck) Meta() checks.Meta {
	return checks.Meta{ID: "sudo.logfile", Rationale: "why", References: append(checks.CIS("debian:12", "5.2.3", "rhel:9", "5.2.3"), checks.Measure("sudo activity is logged"))}
}
func (refCheck) Run(context.Context, checks.Host, checks.Params) checks.Result {
	return checks.Result{}
}

func TestOCSF(t *testing.T) {
	t.Parallel()
	lookup := func(id string) (checks.Check, bool) { return refCheck{}, id == "sudo.logfile" }
	findings := OCSF(sample(), lookup)
	if len(findings) != 4 {
		t.Fatalf("%d findings, want one per result", len(findings))
	}
	f := findings[1]
	if f.ClassUID != 2003 || f.CategoryUID != 2 || f.TypeUID != 200301 || f.SeverityID != 4 {
		t.Errorf("class/category/type/severity = %d/%d/%d/%d", f.ClassUID, f.CategoryUID, f.TypeUID, f.SeverityID)
	}
	if f.Compliance.StatusID != 3 || f.Compliance.Control != "sudo.logfile" {
		t.Errorf("compliance = %+v, want Fail (3) for sudo.logfile", f.Compliance)
	}
	// Only the host's platform's CIS reference, plus platform-independent ones.
	if strings.Join(f.Compliance.Standards, "|") != "CIS Debian Linux 12 Benchmark v1.1.0|security-measure" {
		t.Errorf("standards = %v", f.Compliance.Standards)
	}
	// A Rocky 9.4 host gets the RHEL 9 references through ID_LIKE.
	rocky := sample()
	rocky.Facts = Facts{OS: "Rocky Linux 9.4", Platform: "rocky:9.4", IDLike: []string{"rhel", "centos", "fedora"}}
	if got := OCSF(rocky, lookup)[1].Compliance.Requirements; strings.Join(got, "|") != "5.2.3|sudo activity is logged" {
		t.Errorf("rocky 9.4 requirements = %v, want the rhel:9 control", got)
	}
	if findings[2].Compliance.StatusID != 0 || findings[3].Compliance.StatusID != 99 {
		t.Errorf("ERROR must map to Unknown (0) and NOT_APPLICABLE to Other (99): %d, %d",
			findings[2].Compliance.StatusID, findings[3].Compliance.StatusID)
	}
}
