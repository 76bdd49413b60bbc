package checks

import (
	"fmt"
	"regexp"
	"slices"
)

// Meta describes a check: everything a person needs to understand a result
// and fix a failure, independent of any host.
type Meta struct {
	// ID is stable across releases, dotted lower case: "sudo.use_pty".
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Family      string   `json:"family"`
	Severity    Severity `json:"severity"`
	Rationale   string   `json:"rationale"`
	Remediation string   `json:"remediation"`
	// References tie the check to benchmark controls and to the security
	// measures it evidences.
	References []Reference `json:"references,omitempty"`
	// Platforms lists the distributions the check applies to, as os-release
	// IDs ("debian", "ubuntu", "rhel", ...); empty means every Linux.
	Platforms []string    `json:"platforms,omitempty"`
	Params    []ParamSpec `json:"params,omitempty"`
}

// Reference is one external control a check evidences.
type Reference struct {
	// Framework is e.g. "CIS Debian Linux 12 Benchmark v1.1.0" or
	// "security-measure".
	Framework string `json:"framework"`
	// Control is the control number or name within the framework, e.g. "5.2.2".
	Control string `json:"control"`
	// Platform is the os-release ID:VERSION_ID the reference is for
	// ("debian:12", "ubuntu:22.04", "rhel:9"), empty when it is not
	// distribution-specific.
	Platform string `json:"platform,omitempty"`
}

// CIS builds CIS references for one control across distributions; each pair
// is platform ("debian:12") and control number ("5.2.2"). The benchmark
// version each platform refers to is fixed in CISBenchmarks.
func CIS(pairs ...string) []Reference {
	if len(pairs)%2 != 0 {
		panic("checks.CIS: odd number of arguments")
	}
	refs := make([]Reference, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		bench, ok := CISBenchmarks[pairs[i]]
		if !ok {
			panic("checks.CIS: unknown platform " + pairs[i])
		}
		refs = append(refs, Reference{Framework: bench, Control: pairs[i+1], Platform: pairs[i]})
	}
	return refs
}

// CISBenchmarks names the CIS benchmark release whose numbering the built-in
// references follow, per platform.
var CISBenchmarks = map[string]string{
	"debian:12":    "CIS Debian Linux 12 Benchmark v1.1.0",
	"ubuntu:22.04": "CIS Ubuntu Linux 22.04 LTS Benchmark v2.0.0",
	"ubuntu:24.04": "CIS Ubuntu Linux 24.04 LTS Benchmark v1.0.0",
	"rhel:9":       "CIS Red Hat Enterprise Linux 9 Benchmark v2.0.0",
	"alinux:3":     "CIS Alibaba Cloud Linux 3 Benchmark v1.0.0",
}

// Measure builds a reference to the security measure (the promise made to
// customers and auditors) that a check evidences.
func Measure(name string) Reference {
	return Reference{Framework: "security-measure", Control: name}
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*(\.[a-z0-9][a-z0-9_]*)+$`)

// MaxIDLen and MaxTitleLen bound a check's id and title, which every report
// carries with each of the check's results (a plugin's checks included).
const (
	MaxIDLen    = 128
	MaxTitleLen = 256
)

// Validate reports what is missing or malformed in m; the registry refuses
// checks that do not validate, so every check a user sees is documented.
func (m Meta) Validate() error {
	if len(m.ID) > MaxIDLen {
		return fmt.Errorf("check id %.60q…: %d bytes long; at most %d", m.ID, len(m.ID), MaxIDLen)
	}
	if len(m.Title) > MaxTitleLen {
		return fmt.Errorf("check %s: title is %d bytes long; at most %d", m.ID, len(m.Title), MaxTitleLen)
	}
	if !idPattern.MatchString(m.ID) {
		return fmt.Errorf("check id %q: want dotted lower case such as \"sudo.use_pty\"", m.ID)
	}
	var missing []string
	for name, v := range map[string]string{"title": m.Title, "family": m.Family, "rationale": m.Rationale, "remediation": m.Remediation} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("check %s: missing %v", m.ID, missing)
	}
	if _, ok := severityNames[m.Severity]; !ok {
		return fmt.Errorf("check %s: invalid severity %d", m.ID, int(m.Severity))
	}
	seen := map[string]bool{}
	for _, p := range m.Params {
		if seen[p.Name] {
			return fmt.Errorf("check %s: parameter %q declared twice", m.ID, p.Name)
		}
		seen[p.Name] = true
		if err := p.validateSpec(); err != nil {
			return fmt.Errorf("check %s: %w", m.ID, err)
		}
	}
	return nil
}

// AppliesTo reports whether the check applies to a host whose os-release ID
// and ID_LIKE are given.
func (m Meta) AppliesTo(id string, idLike []string) bool {
	if len(m.Platforms) == 0 {
		return true
	}
	for _, p := range m.Platforms {
		if p == id || slices.Contains(idLike, p) {
			return true
		}
	}
	return false
}
