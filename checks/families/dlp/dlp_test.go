package dlp

import (
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/checktest"
)

// acme is the product the fixture trees install: package acme-dlp 2.3.1-1,
// unit acme-dlp.service, process acme-dlpd.
func acme(extra map[string]any) map[string]any {
	m := map[string]any{
		"name":      "Acme DLP",
		"packages":  []any{"acme-dlp"},
		"services":  []any{"acme-dlp"},
		"processes": []any{"acme-dlpd"},
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// other is a product none of the fixture trees have (other-dlp is only in
// config-files state in the dpkg database).
var other = map[string]any{
	"name":     "Other DLP",
	"packages": []any{"other-dlp"},
	"services": []any{"other-dlp.service"},
}

func products(ps ...any) []any { return ps }

// wantEvidence is one evidence item a result must hold.
type wantEvidence struct {
	key, actual string // actual is a substring
	ok          bool
	path        string // exact, when set
}

func TestAgentPresent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		root   string
		params map[string]any
		want   checks.Status
		// msg are substrings the message must contain, notMsg ones it must not.
		msg, notMsg []string
		evidence    []wantEvidence
	}{
		{
			name:   "installed, enabled and running, require_running always",
			root:   "testdata/running",
			params: map[string]any{"products": products(acme(nil)), "require_running": "always"},
			want:   checks.StatusPass,
			msg:    []string{"Acme DLP", "acme-dlp 2.3.1-1 installed", "acme-dlp.service enabled", "acme-dlpd (pid 812) running"},
			notMsg: []string{"not judged"},
			evidence: []wantEvidence{
				{key: "Acme DLP: package", actual: "acme-dlp 2.3.1-1", ok: true, path: "/var/lib/dpkg/status"},
				{key: "Acme DLP: service", actual: "acme-dlp.service enabled", ok: true, path: "/etc/systemd/system/multi-user.target.wants/acme-dlp.service"},
				{key: "Acme DLP: running", actual: "acme-dlpd (pid 812)", ok: true, path: "/proc"},
			},
		},
		{
			name:   "installed and enabled but not running, require_running always",
			root:   "testdata/not_running",
			params: map[string]any{"products": products(acme(nil)), "require_running": "always"},
			want:   checks.StatusFail,
			msg:    []string{"no configured DLP product is present", "Acme DLP: acme-dlpd not running"},
			evidence: []wantEvidence{
				{key: "Acme DLP: package", ok: true},
				{key: "Acme DLP: service", ok: true},
				{key: "Acme DLP: running", actual: "not running", ok: false},
			},
		},
		{
			name:   "not running, but the tree is offline and require_running auto",
			root:   "testdata/not_running",
			params: map[string]any{"products": products(acme(nil))},
			want:   checks.StatusPass,
			msg:    []string{"running: not judged on an offline image"},
		},
		{
			name:   "offline tree without /proc, require_running auto",
			root:   "testdata/installed",
			params: map[string]any{"products": products(acme(nil)), "require_running": "auto"},
			want:   checks.StatusPass,
			msg:    []string{"Acme DLP (acme-dlp 2.3.1-1 installed, acme-dlp.service enabled); running: not judged on an offline image"},
			evidence: []wantEvidence{
				{key: "Acme DLP: running", actual: "not judged on an offline image", ok: true},
			},
		},
		{
			name:   "offline tree without /proc, require_running always",
			root:   "testdata/installed",
			params: map[string]any{"products": products(acme(nil)), "require_running": "always"},
			want:   checks.StatusError,
			msg:    []string{"cannot decide", "Acme DLP", "require_running is always", "no processes visible in /proc"},
		},
		{
			name:   "offline tree without /proc, require_running never",
			root:   "testdata/installed",
			params: map[string]any{"products": products(acme(nil)), "require_running": "never"},
			want:   checks.StatusPass,
			msg:    []string{"running: not judged (require_running is never)"},
		},
		{
			name:   "not installed",
			root:   "testdata/not_installed",
			params: map[string]any{"products": products(acme(nil))},
			want:   checks.StatusFail,
			msg:    []string{"Acme DLP: acme-dlp not installed, acme-dlp.service not installed"},
			evidence: []wantEvidence{
				{key: "Acme DLP: package", actual: "not installed", ok: false, path: "/var/lib/dpkg/status"},
				{key: "Acme DLP: service", actual: "acme-dlp.service not installed", ok: false},
			},
		},
		{
			name:   "config-files state is not installed",
			root:   "testdata/installed",
			params: map[string]any{"products": products(other)},
			want:   checks.StatusFail,
			msg:    []string{"Other DLP: other-dlp not installed"},
		},
		{
			name:   "version below min_version",
			root:   "testdata/installed",
			params: map[string]any{"products": products(acme(map[string]any{"min_version": "2.4"}))},
			want:   checks.StatusFail,
			msg:    []string{"acme-dlp 2.3.1-1 installed, older than min_version 2.4"},
			evidence: []wantEvidence{
				{key: "Acme DLP: package", actual: "acme-dlp 2.3.1-1 (older than 2.4)", ok: false},
			},
		},
		{
			name:   "version below min_version by epoch",
			root:   "testdata/installed",
			params: map[string]any{"products": products(acme(map[string]any{"min_version": "1:1.0"}))},
			want:   checks.StatusFail,
			msg:    []string{"older than min_version 1:1.0"},
		},
		{
			name:   "version at min_version",
			root:   "testdata/installed",
			params: map[string]any{"products": products(acme(map[string]any{"min_version": "2.3.1-1"}))},
			want:   checks.StatusPass,
		},
		{
			name:   "version above min_version by dpkg ordering (2.3.1 > 2.3~rc1)",
			root:   "testdata/installed",
			params: map[string]any{"products": products(acme(map[string]any{"min_version": "2.3.1~rc1"}))},
			want:   checks.StatusPass,
		},
		{
			name:   "service masked",
			root:   "testdata/masked",
			params: map[string]any{"products": products(acme(nil))},
			want:   checks.StatusFail,
			msg:    []string{"Acme DLP: acme-dlp.service masked"},
			evidence: []wantEvidence{
				{key: "Acme DLP: package", ok: true},
				{key: "Acme DLP: service", actual: "acme-dlp.service masked", ok: false, path: "/etc/systemd/system/acme-dlp.service"},
			},
		},
		{
			name:   "service disabled",
			root:   "testdata/disabled",
			params: map[string]any{"products": products(acme(nil))},
			want:   checks.StatusFail,
			msg:    []string{"Acme DLP: acme-dlp.service disabled"},
			evidence: []wantEvidence{
				{key: "Acme DLP: service", actual: "acme-dlp.service disabled", ok: false, path: "/lib/systemd/system/acme-dlp.service"},
			},
		},
		{
			name:   "one of two products present",
			root:   "testdata/running",
			params: map[string]any{"products": products(other, acme(nil)), "require_running": "always"},
			want:   checks.StatusPass,
			msg:    []string{"DLP product present: Acme DLP"},
			notMsg: []string{"Other DLP"},
			evidence: []wantEvidence{
				{key: "Other DLP: package", actual: "not installed", ok: false},
				{key: "Other DLP: service", actual: "other-dlp.service not installed", ok: false},
				{key: "Acme DLP: running", actual: "acme-dlpd (pid 812)", ok: true},
			},
		},
		{
			name:   "neither of two products present names both",
			root:   "testdata/not_installed",
			params: map[string]any{"products": products(other, acme(nil))},
			want:   checks.StatusFail,
			msg:    []string{"Other DLP: other-dlp not installed", "Acme DLP: acme-dlp not installed"},
		},
		{
			name:   "empty product list",
			root:   "testdata/running",
			params: map[string]any{"products": []any{}},
			want:   checks.StatusError,
			msg:    []string{"no DLP products configured"},
		},
		{
			name:   "no package database",
			root:   "testdata/no_pkgdb",
			params: map[string]any{"products": products(map[string]any{"name": "Acme DLP", "packages": []any{"acme-dlp", "acme-dlp-agent"}})},
			want:   checks.StatusError,
			msg:    []string{"cannot decide", "Acme DLP", "one of acme-dlp, acme-dlp-agent", "/var/lib/dpkg/status", "/var/lib/rpm"},
		},
		{
			name:   "no package database, but another part already rules the product out",
			root:   "testdata/no_pkgdb",
			params: map[string]any{"products": products(other)},
			want:   checks.StatusFail,
			msg:    []string{"Other DLP: other-dlp.service not installed"},
		},
		{
			name:   "no package database, another product present",
			root:   "testdata/aegis",
			params: map[string]any{"products": products(other, map[string]any{"name": "aegis", "services": []any{"aegis"}})},
			want:   checks.StatusPass,
			msg:    []string{"DLP product present: aegis (aegis.service enabled)"},
		},
		{
			name:   "malformed package database",
			root:   "testdata/bad_pkgdb",
			params: map[string]any{"products": products(map[string]any{"name": "Acme DLP", "packages": []any{"acme-dlp"}})},
			want:   checks.StatusError,
			msg:    []string{"/var/lib/dpkg/status:4"},
		},
		{
			name:   "processes only, offline: cannot decide",
			root:   "testdata/installed",
			params: map[string]any{"products": products(map[string]any{"name": "Acme DLP", "processes": []any{"acme-dlpd"}})},
			want:   checks.StatusError,
			msg:    []string{"only processes are configured, and running: not judged on an offline image"},
		},
		{
			name: "default products, aegis via SysV links, running",
			root: "testdata/aegis",
			params: map[string]any{
				"require_running": "always",
			},
			want: checks.StatusPass,
			msg:  []string{"Alibaba Cloud Security Center agent (aegis) (aegis.service enabled, AliYunDun (pid 1490), AliYunDunMonitor (pid 1512) running)"},
			evidence: []wantEvidence{
				{key: "Alibaba Cloud Security Center agent (aegis): service", ok: true, path: "/etc/rc2.d/S50aegis"},
				{key: "Forcepoint DLP Endpoint: service", actual: "wsdlpd.service not installed", ok: false},
			},
		},
		{
			name:   "default products on a host with none of them",
			root:   "testdata/not_running",
			params: map[string]any{"require_running": "always"},
			want:   checks.StatusFail,
			msg: []string{
				"Forcepoint DLP Endpoint: wsdlpd.service not installed, wsdlpd not running",
				"Symantec DLP Agent (Broadcom): edpa.service not installed, one of edpa, wdp not running",
				"Trellix DLP Endpoint (McAfee DLP):",
				"Digital Guardian Agent:",
				"Alibaba Cloud Security Center agent (aegis): aegis.service not installed",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := checktest.Expect(t, agentPresent{}, tt.root, tt.params, tt.want)
			for _, s := range tt.msg {
				if !strings.Contains(r.Message, s) {
					t.Errorf("message %q does not contain %q", r.Message, s)
				}
			}
			for _, s := range tt.notMsg {
				if strings.Contains(r.Message, s) {
					t.Errorf("message %q contains %q", r.Message, s)
				}
			}
			for _, w := range tt.evidence {
				e, ok := findEvidence(r.Evidence, w.key)
				if !ok {
					t.Errorf("no evidence %q in %+v", w.key, r.Evidence)
					continue
				}
				if !strings.Contains(e.Actual, w.actual) || e.OK != w.ok || (w.path != "" && e.Path != w.path) {
					t.Errorf("evidence %q = %+v, want actual containing %q, ok %v, path %q", w.key, e, w.actual, w.ok, w.path)
				}
			}
		})
	}
}

func findEvidence(ev []checks.Evidence, key string) (checks.Evidence, bool) {
	for _, e := range ev {
		if e.Key == key {
			return e, true
		}
	}
	return checks.Evidence{}, false
}

func TestValidateParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		params map[string]any
		// want is a substring of the error; empty means valid.
		want string
	}{
		{name: "defaults", params: nil},
		{name: "empty list is valid (the run reports ERROR)", params: map[string]any{"products": []any{}}},
		{name: "full product", params: map[string]any{"products": products(acme(map[string]any{"min_version": "2.0"}))}},
		{name: "services only", params: map[string]any{"products": products(map[string]any{"name": "aegis", "services": []any{"aegis"}})}},
		{name: "YAML mapping with any keys", params: map[string]any{"products": products(map[any]any{"name": "X", "processes": []any{"x"}})}},
		{name: "not a list", params: map[string]any{"products": map[string]any{"name": "X"}}, want: "products: want a list of products, got a mapping"},
		{name: "nothing", params: map[string]any{"products": nil}, want: "products: want a list of products, got nothing"},
		{name: "item not a mapping", params: map[string]any{"products": []any{"Forcepoint"}}, want: `products[0]: want a mapping with a name and packages, services or processes, got the string "Forcepoint"`},
		{name: "missing name", params: map[string]any{"products": products(acme(nil), map[string]any{"packages": []any{"x"}})}, want: "products[1]: name is required"},
		{name: "empty name", params: map[string]any{"products": products(map[string]any{"name": " ", "packages": []any{"x"}})}, want: "products[0].name: must not be empty"},
		{name: "name not a string", params: map[string]any{"products": products(map[string]any{"name": 7, "packages": []any{"x"}})}, want: "products[0].name: want a string, got int 7"},
		{name: "neither packages nor services nor processes", params: map[string]any{"products": products(map[string]any{"name": "X"})}, want: `products[0] ("X"): list at least one of packages, services or processes`},
		{name: "empty lists count as none", params: map[string]any{"products": products(map[string]any{"name": "X", "packages": []any{}})}, want: `products[0] ("X"): list at least one of packages, services or processes`},
		{name: "unknown key", params: map[string]any{"products": products(acme(map[string]any{"package": "acme-dlp"}))}, want: `products[0] ("Acme DLP"): unknown field "package" (known: name, packages, services, processes, min_version)`},
		{name: "packages a string", params: map[string]any{"products": products(map[string]any{"name": "X", "packages": "x"})}, want: `products[0] ("X"): packages: want a list of strings, got the string "x" (write [x])`},
		{name: "services a mapping", params: map[string]any{"products": products(map[string]any{"name": "X", "services": map[string]any{"a": 1}})}, want: `products[0] ("X"): services: want a list of strings, got a mapping`},
		{name: "process item not a string", params: map[string]any{"products": products(map[string]any{"name": "X", "processes": []any{"x", 3}})}, want: `products[0] ("X"): processes: item 1: want a string, got int 3`},
		{name: "empty package name", params: map[string]any{"products": products(map[string]any{"name": "X", "packages": []any{""}})}, want: `products[0] ("X"): packages: item 0: must not be empty`},
		{name: "min_version a number", params: map[string]any{"products": products(acme(map[string]any{"min_version": 2.1}))}, want: `products[0] ("Acme DLP"): min_version: want a string, got float64 2.1`},
		{name: "min_version empty", params: map[string]any{"products": products(acme(map[string]any{"min_version": ""}))}, want: `min_version: must not be empty`},
		{name: "min_version without packages", params: map[string]any{"products": products(map[string]any{"name": "X", "services": []any{"x"}, "min_version": "1.0"})}, want: `products[0] ("X"): min_version: needs packages`},
		{name: "duplicate names", params: map[string]any{"products": products(acme(nil), acme(nil))}, want: `products[1] ("Acme DLP"): name is also used by products[0]`},
		{name: "non-string mapping key", params: map[string]any{"products": products(map[any]any{"name": "X", 1: "y"})}, want: "products[0]: field names must be strings, got int 1"},
		{name: "require_running unknown", params: map[string]any{"require_running": "sometimes"}, want: `require_running: want "auto", "always" or "never", got "sometimes"`},
	}
	c := agentPresent{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := checks.Resolve(c.Meta().Params, tt.params)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			err = c.ValidateParams(p)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("ValidateParams: %v, want no error", err)
			case tt.want != "" && err == nil:
				t.Errorf("ValidateParams: no error, want one containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("ValidateParams: %q, want it to contain %q", err, tt.want)
			}
			if tt.want != "" {
				// Run must not trust unvalidated parameters either.
				r := c.Run(t.Context(), checktest.Host(t, "testdata/running"), p)
				if r.Status != checks.StatusError || !strings.Contains(r.Message, tt.want) {
					t.Errorf("Run with bad params: %s %q, want ERROR containing %q", r.Status, r.Message, tt.want)
				}
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	t.Parallel()
	c, ok := checks.Lookup("dlp.agent_present")
	if !ok {
		t.Fatal("dlp.agent_present is not registered")
	}
	if _, ok := c.(checks.ParamValidator); !ok {
		t.Error("dlp.agent_present does not implement checks.ParamValidator")
	}
	m := c.Meta()
	if m.Family != "dlp" || len(m.References) == 0 || m.References[0] != checks.Measure("DLP software is installed on devices") {
		t.Errorf("meta = %+v", m)
	}
}
