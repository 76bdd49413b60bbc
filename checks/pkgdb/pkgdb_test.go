package pkgdb

import "testing"

func TestCompareDpkg(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0},
		{"1.0", "1.1", -1},
		{"1.10", "1.9", 1},
		{"1:0.1", "2.0", 1},
		{"1.0~rc1", "1.0", -1},
		{"1.0", "1.0+deb12u1", -1},
		{"1.9.13p3-1+deb12u1", "1.9.13p3-1", 1},
		{"1.9.13p3-1", "1.9.13p3-1", 0},
		{"2.36-9+deb12u4", "2.36-9+deb12u10", -1},
		{"1.0a", "1.0", 1},
		{"1.0-1", "1.0-1~bpo1", 1},
		{"007", "7", 0},
	}
	for _, tt := range tests {
		if got := CompareDpkg(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareDpkg(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := CompareDpkg(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareDpkg(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestCompareRPM(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0-1.el9", "1.0-1.el9", 0},
		{"1.9.5p2-9.el9", "1.9.5p2-10.el9", -1},
		{"2.0", "10", -1},
		{"1.0a", "1.0", 1},
		{"1.0~rc1", "1.0", -1},
		{"1.0^git1", "1.0", 1},
		{"1.0^git1", "1.0.1", -1},
		{"1:1.0", "2.0", 1},
		{"1.0", "1.0-5", 0},
		{"1.a", "1.1", -1},
	}
	for _, tt := range tests {
		if got := CompareRPM(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareRPM(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := CompareRPM(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareRPM(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestParseDpkgStatus(t *testing.T) {
	t.Parallel()
	status := `Package: sudo
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 1.9.13p3-1+deb12u1
Description: Provide limited super user privileges
 Sudo is a program designed to allow a sysadmin to give limited root
 .
 privileges to users.

Package: auditd
Status: deinstall ok config-files
Version: 1:3.0.9-1

Package: rsyslog
Status: install ok installed
Version: 8.2302.0-1
`
	db, err := ParseDpkgStatus(DpkgStatusPath, []byte(status))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := db.Lookup("sudo"); !ok || p.Version != "1.9.13p3-1+deb12u1" || p.Arch != "amd64" {
		t.Errorf("sudo = %+v, %v", p, ok)
	}
	if _, ok := db.Lookup("auditd"); ok {
		t.Error("auditd with config-files only must not count as installed")
	}
	if db.Len() != 2 {
		t.Errorf("Len = %d, want 2", db.Len())
	}
	if _, err := ParseDpkgStatus(DpkgStatusPath, []byte("Package: a\nnot a field\n")); err == nil {
		t.Error("malformed line: want error")
	}
}
