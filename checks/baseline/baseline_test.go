package baseline

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks"
)

type stubCheck struct{ meta checks.Meta }

func (c stubCheck) Meta() checks.Meta { return c.meta }
func (c stubCheck) Run(context.Context, checks.Host, checks.Params) checks.Result {
	return checks.Pass("")
}

type validatingCheck struct{ stubCheck }

func (validatingCheck) ValidateParams(p checks.Params) error {
	if _, ok := p.Object("products").([]any); !ok {
		return errors.New("products: want a list")
	}
	return nil
}

func testLookup() Lookup {
	lo, hi := checks.IntRange(1, 99999)
	byID := map[string]checks.Check{
		"sudo.use_pty": stubCheck{checks.Meta{ID: "sudo.use_pty", Severity: checks.SeverityMedium}},
		"password.pass_max_days": stubCheck{checks.Meta{ID: "password.pass_max_days", Severity: checks.SeverityMedium,
			Params: []checks.ParamSpec{{Name: "max_days", Kind: checks.KindInt, Default: 365, Doc: "d", Min: lo, Max: hi}}}},
		"dlp.agent_present": validatingCheck{stubCheck{checks.Meta{ID: "dlp.agent_present", Severity: checks.SeverityHigh,
			Params: []checks.ParamSpec{{Name: "products", Kind: checks.KindObject, Default: []any{}, Doc: "d"}}}}},
	}
	return func(id string) (checks.Check, bool) { c, ok := byID[id]; return c, ok }
}

func TestParseValid(t *testing.T) {
	t.Parallel()
	src := `schema: plumbline.baseline/v1
name: test
version: "1.2.0"
description: a test baseline
platforms: ["debian:12"]
checks:
  - sudo.use_pty
  - id: password.pass_max_days
    severity: high
    params:
      max_days: 90
  - id: dlp.agent_present
    skip: no DLP mandate here
`
	b, err := Parse("test.yaml", []byte(src), testLookup())
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "test" || b.Version != "1.2.0" || len(b.SHA256) != 64 || len(b.Entries) != 3 {
		t.Fatalf("baseline = %+v", b)
	}
	if got := b.Entries[1].Params.Int("max_days"); got != 90 {
		t.Errorf("max_days = %d, want 90", got)
	}
	if b.Entries[1].Severity != checks.SeverityHigh {
		t.Errorf("severity override = %s, want high", b.Entries[1].Severity)
	}
	if b.Entries[0].Severity != checks.SeverityMedium || b.Entries[0].Line != 7 {
		t.Errorf("shorthand entry = %+v, want medium at line 7", b.Entries[0])
	}
	if b.Entries[2].Skip != "no DLP mandate here" {
		t.Errorf("skip = %q", b.Entries[2].Skip)
	}
	// The digest is of the bytes: one changed byte changes it.
	b2, err := Parse("test.yaml", []byte(strings.Replace(src, "90", "91", 1)), testLookup())
	if err != nil || b2.SHA256 == b.SHA256 {
		t.Errorf("sha256 must change with content: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	head := "schema: plumbline.baseline/v1\nname: t\nversion: \"1\"\n"
	tests := []struct {
		name string
		src  string
		want []string // each must appear in the error
	}{
		{"not yaml", "name: [unclosed\n", []string{"test.yaml:", "not valid YAML"}},
		{"not a mapping", "- a\n- b\n", []string{"test.yaml:1:", "want a mapping"}},
		{"missing keys", "name: t\n", []string{`missing required key "schema"`, `"version"`, `"checks"`}},
		{"wrong schema", "schema: plumbline.baseline/v9\nname: t\nversion: \"1\"\nchecks: []\n", []string{"test.yaml:1:", "not supported"}},
		{"unknown top key", head + "chekcs: []\nchecks: []\n", []string{"test.yaml:4:", `unknown key "chekcs"`}},
		{"unknown check", head + "checks:\n  - id: sudo.use_ptty\n", []string{"test.yaml:5:", `unknown check "sudo.use_ptty"`}},
		{"duplicate check", head + "checks:\n  - sudo.use_pty\n  - id: sudo.use_pty\n", []string{"test.yaml:6:", "listed twice (first at line 5)"}},
		{"unknown entry key", head + "checks:\n  - id: sudo.use_pty\n    parms: {}\n", []string{"test.yaml:6:", `unknown key "parms"`}},
		{"unknown param", head + "checks:\n  - id: password.pass_max_days\n    params:\n      max_dayz: 3\n", []string{"test.yaml:7:", `unknown parameter "max_dayz"`, "known: max_days"}},
		{"wrong param type", head + "checks:\n  - id: password.pass_max_days\n    params:\n      max_days: ninety\n", []string{"test.yaml:7:", "want an integer", `"ninety"`}},
		{"param out of range", head + "checks:\n  - id: password.pass_max_days\n    params:\n      max_days: 0\n", []string{"test.yaml:7:", "below the minimum 1"}},
		{"bad severity", head + "checks:\n  - id: sudo.use_pty\n    severity: urgent\n", []string{"test.yaml:6:", `unknown severity "urgent"`}},
		{"empty skip", head + "checks:\n  - id: sudo.use_pty\n    skip: \"\"\n", []string{"test.yaml:6:", "give the reason"}},
		{"check validator", head + "checks:\n  - id: dlp.agent_present\n    params:\n      products: {a: 1}\n", []string{"test.yaml:7:", "products: want a list"}},
		{"checks not a list", head + "checks: {a: 1}\n", []string{"test.yaml:4:", "want a list of entries"}},
		{"entry without id", head + "checks:\n  - params: {}\n", []string{"test.yaml:5:", "without id"}},
		{"empty file", "# nothing here\n", []string{"test.yaml: file is empty"}},
		{"empty checks", head + "checks: []\n", []string{"test.yaml:4:", "list is empty"}},
		{"two documents", head + "checks:\n  - sudo.use_pty\n---\nname: other\n", []string{"more than one YAML document"}},
		{"duplicate entry key", head + "checks:\n  - id: password.pass_max_days\n    params: {max_days: 1}\n    params: {}\n", []string{"test.yaml:7:", `key "params" given twice`}},
		{"duplicate param", head + "checks:\n  - id: password.pass_max_days\n    params:\n      max_days: 1\n      max_days: 400\n", []string{"test.yaml:8:", "max_days given twice"}},
		{"huge integer", head + "checks:\n  - id: password.pass_max_days\n    params:\n      max_days: 18446744073709551615\n", []string{"test.yaml:7:", "too large"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("test.yaml", []byte(tt.src), testLookup())
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseReportsAllErrorsAtOnce(t *testing.T) {
	t.Parallel()
	src := "schema: plumbline.baseline/v1\nname: t\nversion: \"1\"\nchecks:\n  - id: nope.one\n  - id: nope.two\n  - id: password.pass_max_days\n    params: {max_days: x}\n"
	_, err := Parse("b.yaml", []byte(src), testLookup())
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 3 {
		t.Fatalf("want 3 errors, got %v", err)
	}
}

func TestForPlatform(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id      string
		like    []string
		version string
		want    string
	}{
		{"debian", nil, "12", "debian-12"},
		{"ubuntu", []string{"debian"}, "22.04", "ubuntu-22.04"},
		{"ubuntu", []string{"debian"}, "24.04", "ubuntu-24.04"},
		{"rocky", []string{"rhel", "centos", "fedora"}, "9.4", "rhel-9"},
		{"almalinux", []string{"rhel", "centos", "fedora"}, "9.5", "rhel-9"},
		{"rhel", nil, "9.2", "rhel-9"},
		{"alinux", []string{"rhel", "fedora", "centos", "anolis"}, "3", "alinux-3"},
		{"debian", nil, "11", "linux"},
		{"arch", nil, "", "linux"},
	}
	for _, tt := range tests {
		got, note := ForPlatform(tt.id, tt.like, tt.version)
		if got != tt.want {
			t.Errorf("ForPlatform(%s %s) = %s, want %s", tt.id, tt.version, got, tt.want)
		}
		if (got == "linux") != (note != "") {
			t.Errorf("ForPlatform(%s %s): note %q; want a note exactly for the generic baseline", tt.id, tt.version, note)
		}
	}
}
