package cis

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

var controlIDPattern = regexp.MustCompile(`^[1-9][0-9]*(\.[1-9][0-9]*)*$`)

// compareControlIDs orders dotted control numbers numerically: 1.2 < 1.10 < 2.
func compareControlIDs(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return len(as) - len(bs)
}

func TestCatalogsPlatforms(t *testing.T) {
	want := []string{"alinux:3", "debian:12", "rhel:9", "ubuntu:22.04", "ubuntu:24.04"}
	var got []string
	for _, c := range Catalogs() {
		got = append(got, c.Platform)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("Catalogs() platforms = %v, want %v (sorted)", got, want)
	}
}

func TestCatalogControls(t *testing.T) {
	for _, c := range Catalogs() {
		t.Run(c.Platform, func(t *testing.T) {
			if !strings.HasPrefix(c.Benchmark, "CIS ") {
				t.Errorf("benchmark %q does not name a CIS benchmark", c.Benchmark)
			}
			seen := map[string]bool{}
			prev := ""
			for _, ctl := range c.Controls {
				if !controlIDPattern.MatchString(ctl.ID) {
					t.Errorf("control id %q is not dotted numeric", ctl.ID)
				}
				if seen[ctl.ID] {
					t.Errorf("control %s: duplicate id", ctl.ID)
				}
				seen[ctl.ID] = true
				if prev != "" && compareControlIDs(prev, ctl.ID) >= 0 {
					t.Errorf("control %s follows %s: not in ascending order", ctl.ID, prev)
				}
				prev = ctl.ID
				if strings.TrimSpace(ctl.Title) == "" || ctl.Title != strings.TrimSpace(ctl.Title) {
					t.Errorf("control %s: empty or untrimmed title %q", ctl.ID, ctl.Title)
				}
				if strings.Contains(ctl.Title, "(Automated)") || strings.Contains(ctl.Title, "(Manual)") {
					t.Errorf("control %s: title %q keeps the assessment suffix", ctl.ID, ctl.Title)
				}
				if ctl.Level < 0 || ctl.Level > 2 {
					t.Errorf("control %s: level %d not in {0,1,2}", ctl.ID, ctl.Level)
				}
				if ctl.Assessment != AssessmentAutomated && ctl.Assessment != AssessmentManual {
					t.Errorf("control %s: assessment %q", ctl.ID, ctl.Assessment)
				}
				if ctl.Automated() != (ctl.Assessment == AssessmentAutomated) {
					t.Errorf("control %s: Automated() disagrees with assessment %q", ctl.ID, ctl.Assessment)
				}
				if got, ok := c.Lookup(ctl.ID); !ok || got != ctl {
					t.Errorf("Lookup(%q) = %+v, %v", ctl.ID, got, ok)
				}
			}
			if _, ok := c.Lookup("99.99"); ok {
				t.Error("Lookup of an unknown id succeeded")
			}
		})
	}
}

// TestCatalogFacts spot-checks facts transcribed from the benchmarks, so an
// accidental edit of a catalogue shows up.
func TestCatalogFacts(t *testing.T) {
	counts := map[string]int{
		"debian:12":    310,
		"ubuntu:22.04": 300,
		"ubuntu:24.04": 312,
		"rhel:9":       298,
		"alinux:3":     260,
	}
	for platform, n := range counts {
		c, ok := CatalogFor(platform)
		if !ok {
			t.Fatalf("CatalogFor(%q) found nothing", platform)
		}
		if len(c.Controls) != n {
			t.Errorf("%s: %d controls, want %d", platform, len(c.Controls), n)
		}
	}

	tests := []struct {
		platform string
		want     Control
	}{
		{"debian:12", Control{"1.1.1.1", "Ensure cramfs kernel module is not available", 1, AssessmentAutomated}},
		{"debian:12", Control{"1.1.1.10", "Ensure unused filesystems kernel modules are not available", 1, AssessmentManual}},
		{"debian:12", Control{"1.7.1", "Ensure GDM is removed", 2, AssessmentAutomated}},
		{"debian:12", Control{"5.1.8", "Ensure sshd DisableForwarding is enabled", 2, AssessmentAutomated}},
		{"debian:12", Control{"5.3.3.2.3", "Ensure password complexity is configured", 1, AssessmentManual}},
		{"debian:12", Control{"7.2.10", "Ensure local interactive user dot files access is configured", 1, AssessmentAutomated}},
		{"ubuntu:22.04", Control{"1.1.1.6", "Ensure squashfs kernel module is not available", 2, AssessmentAutomated}},
		{"ubuntu:22.04", Control{"2.3.2.2", "Ensure systemd-timesyncd is enabled and running", 1, AssessmentManual}},
		{"ubuntu:22.04", Control{"5.4.2.4", "Ensure root password is set", 1, AssessmentAutomated}},
		{"ubuntu:22.04", Control{"6.3.3.21", "Ensure the running and on disk configuration is the same", 2, AssessmentManual}},
		{"ubuntu:24.04", Control{"1.5.5", "Ensure Automatic Error Reporting is not enabled", 1, AssessmentAutomated}},
		{"ubuntu:24.04", Control{"4.1.1", "Ensure a single firewall configuration utility is in use", 1, AssessmentAutomated}},
		{"rhel:9", Control{"1.3.1.6", "Ensure no unconfined services exist", 2, AssessmentManual}},
		{"rhel:9", Control{"1.6.6", "Ensure system wide crypto policy disables chacha20-poly1305 for ssh", 1, AssessmentAutomated}},
		{"rhel:9", Control{"2.2.2", "Ensure ldap client is not installed", 2, AssessmentAutomated}},
		{"rhel:9", Control{"7.1.14", "Audit system file permissions", 2, AssessmentManual}},
		{"alinux:3", Control{"1.8.1", "Ensure GNOME Display Manager is removed", 2, AssessmentManual}},
		{"alinux:3", Control{"3.3.9", "Ensure IPv6 router advertisements are not accepted", 1, AssessmentAutomated}},
		{"alinux:3", Control{"6.2.16", "Ensure all users home directories exist", 1, AssessmentAutomated}},
	}
	for _, tt := range tests {
		c, ok := CatalogFor(tt.platform)
		if !ok {
			t.Fatalf("CatalogFor(%q) found nothing", tt.platform)
		}
		got, ok := c.Lookup(tt.want.ID)
		if !ok {
			t.Errorf("%s: control %s missing", tt.platform, tt.want.ID)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: control %s = %+v, want %+v", tt.platform, tt.want.ID, got, tt.want)
		}
	}
}

func TestCatalogFor(t *testing.T) {
	for platform, want := range map[string]string{
		"debian:12":    "debian:12",
		"rhel:9":       "rhel:9",
		"rhel:9.4":     "rhel:9",
		"ubuntu:24.04": "ubuntu:24.04",
	} {
		c, ok := CatalogFor(platform)
		if !ok || c.Platform != want {
			t.Errorf("CatalogFor(%q) = %v, %v; want %s", platform, c, ok, want)
		}
	}
	for _, platform := range []string{"", "debian", "debian:11", "ubuntu:20.04", "fedora:40"} {
		if c, ok := CatalogFor(platform); ok {
			t.Errorf("CatalogFor(%q) = %s, want none", platform, c.Platform)
		}
	}
}

func TestParseCatalogsRejects(t *testing.T) {
	const good = "platform: \"x:1\"\nbenchmark: \"CIS X\"\ncontrols:\n" +
		"  - id: \"1.1\"\n    title: \"T\"\n    level: 1\n    assessment: automated\n"
	tests := map[string]string{
		"unknown field":     strings.Replace(good, "level: 1", "level: 1\n    profile: server", 1),
		"bad assessment":    strings.Replace(good, "automated", "partial", 1),
		"bad level":         strings.Replace(good, "level: 1", "level: 3", 1),
		"no platform":       strings.Replace(good, `platform: "x:1"`, `platform: ""`, 1),
		"duplicate control": good + "  - id: \"1.1\"\n    title: \"U\"\n    level: 2\n    assessment: manual\n",
		"two documents":     good + "---\nplatform: \"y:1\"\n",
	}
	if _, err := parseCatalogs(fstest.MapFS{"c/a.yaml": {Data: []byte(good)}}, "c"); err != nil {
		t.Fatalf("valid catalogue rejected: %v", err)
	}
	for name, data := range tests {
		if _, err := parseCatalogs(fstest.MapFS{"c/a.yaml": {Data: []byte(data)}}, "c"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	twice := fstest.MapFS{"c/a.yaml": {Data: []byte(good)}, "c/b.yaml": {Data: []byte(good)}}
	if _, err := parseCatalogs(twice, "c"); err == nil {
		t.Error("two files for one platform: accepted")
	}
}
