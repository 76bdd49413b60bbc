package dlp

import (
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/baseline"
	"github.com/plumbline/plumbline/checks/checktest"
)

// TestBaselineYAML feeds the products parameter through the real baseline
// loader, so the shapes the YAML decoder produces are the ones tested.
func TestBaselineYAML(t *testing.T) {
	t.Parallel()
	const head = "schema: plumbline.baseline/v1\nname: test\nversion: \"1\"\nchecks:\n  - id: dlp.agent_present\n    params:\n"
	tests := []struct {
		name, params string
		// wantErr are substrings of the load error; none means it loads,
		// and then runs on testdata/running with want.
		wantErr []string
		want    checks.Status
	}{
		{
			name: "valid override",
			params: `      require_running: always
      products:
        - name: Other DLP
          packages: [other-dlp]
        - name: Acme DLP
          packages: [acme-dlp]
          services: [acme-dlp.service]
          processes: [acme-dlpd]
          min_version: "2.3"
`,
			want: checks.StatusPass,
		},
		{
			name: "unquoted version",
			params: `      products:
        - name: Acme DLP
          packages: [acme-dlp]
          min_version: 2.10
`,
			wantErr: []string{"test.yaml:7:", `products[0] ("Acme DLP"): min_version: want a string, got float64 2.1`},
		},
		{
			name: "package given as a string",
			params: `      products:
        - name: Acme DLP
          packages: acme-dlp
`,
			wantErr: []string{"test.yaml:7:", `products[0] ("Acme DLP"): packages: want a list of strings, got the string "acme-dlp" (write [acme-dlp])`},
		},
		{
			name: "typo in a field name",
			params: `      products:
        - name: Acme DLP
          service: [acme-dlp]
`,
			wantErr: []string{`products[0] ("Acme DLP"): unknown field "service"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := baseline.Parse("test.yaml", []byte(head+tt.params), checks.Lookup)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Parse: no error, want %q", tt.wantErr)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("Parse error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			e := b.Entries[0]
			r := e.Check.Run(t.Context(), checktest.Host(t, "testdata/running"), e.Params)
			if r.Status != tt.want {
				t.Errorf("status %s, want %s: %s", r.Status, tt.want, r.Message)
			}
		})
	}
}
