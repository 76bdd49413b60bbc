package checks

import (
	"strings"
	"testing"
)

// TestMetaValidateBounds: a check's id and title travel with every one of
// its results, so a report's size depends on them.
func TestMetaValidateBounds(t *testing.T) {
	t.Parallel()
	ok := Meta{ID: "acme.ok", Title: "ok", Family: "acme", Severity: SeverityLow, Rationale: "r", Remediation: "r"}
	tests := []struct {
		name string
		edit func(*Meta)
		want string
	}{
		{"valid", func(*Meta) {}, ""},
		{"longest id", func(m *Meta) { m.ID = "acme." + strings.Repeat("a", MaxIDLen-5) }, ""},
		{"id too long", func(m *Meta) { m.ID = "acme." + strings.Repeat("a", MaxIDLen-4) }, "129 bytes long; at most 128"},
		{"longest title", func(m *Meta) { m.Title = strings.Repeat("t", MaxTitleLen) }, ""},
		{"title too long", func(m *Meta) { m.Title = strings.Repeat("t", 1<<20) }, "check acme.ok: title is 1048576 bytes long; at most 256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			tt.edit(&m)
			err := m.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			case err != nil && len(err.Error()) > 200:
				t.Errorf("Validate() error is %d bytes long", len(err.Error()))
			}
		})
	}
}
