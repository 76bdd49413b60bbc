package systemd

import (
	"context"
	"testing"

	"github.com/plumbline/plumbline/checks/checktest"
)

func TestUnit(t *testing.T) {
	t.Parallel()
	h := checktest.Host(t, "testdata/units")
	tests := []struct {
		name, unit string
		want       State
		summary    string
	}{
		{
			name: "enabled via multi-user.target.wants in /etc",
			unit: "enabled-etc.service",
			want: State{
				Unit:      "enabled-etc.service",
				Path:      "/lib/systemd/system/enabled-etc.service",
				Enabled:   true,
				EnabledBy: "/etc/systemd/system/multi-user.target.wants/enabled-etc.service",
			},
			summary: "enabled",
		},
		{
			name: "name without suffix is a service",
			unit: "enabled-etc",
			want: State{
				Unit:      "enabled-etc.service",
				Path:      "/lib/systemd/system/enabled-etc.service",
				Enabled:   true,
				EnabledBy: "/etc/systemd/system/multi-user.target.wants/enabled-etc.service",
			},
			summary: "enabled",
		},
		{
			name: "dotted name without suffix is a service",
			unit: "dbus-org.example.agent",
			want: State{
				Unit:      "dbus-org.example.agent.service",
				Path:      "/lib/systemd/system/dbus-org.example.agent.service",
				Enabled:   true,
				EnabledBy: "/etc/systemd/system/multi-user.target.wants/dbus-org.example.agent.service",
			},
			summary: "enabled",
		},
		{
			name: "escaped name is matched literally",
			unit: `agent\x2dfoo.service`,
			want: State{
				Unit:      `agent\x2dfoo.service`,
				Path:      `/lib/systemd/system/agent\x2dfoo.service`,
				Enabled:   true,
				EnabledBy: `/etc/systemd/system/multi-user.target.wants/agent\x2dfoo.service`,
			},
			summary: "enabled",
		},
		{
			name: "enabled statically via vendor wants in /usr/lib",
			unit: "vendor-wanted.service",
			want: State{
				Unit:      "vendor-wanted.service",
				Path:      "/usr/lib/systemd/system/vendor-wanted.service",
				Enabled:   true,
				EnabledBy: "/usr/lib/systemd/system/multi-user.target.wants/vendor-wanted.service",
			},
			summary: "enabled",
		},
		{
			name: "enabled via requires",
			unit: "required.service",
			want: State{
				Unit:      "required.service",
				Path:      "/lib/systemd/system/required.service",
				Enabled:   true,
				EnabledBy: "/etc/systemd/system/graphical.target.requires/required.service",
			},
			summary: "enabled",
		},
		{
			name: "first link: /etc before /usr/lib, wants before requires",
			unit: "both.service",
			want: State{
				Unit:      "both.service",
				Path:      "/lib/systemd/system/both.service",
				Enabled:   true,
				EnabledBy: "/etc/systemd/system/multi-user.target.wants/both.service",
			},
			summary: "enabled",
		},
		{
			name: "non-service unit keeps its suffix",
			unit: "listener.socket",
			want: State{
				Unit:      "listener.socket",
				Path:      "/lib/systemd/system/listener.socket",
				Enabled:   true,
				EnabledBy: "/usr/lib/systemd/system/sockets.target.wants/listener.socket",
			},
			summary: "enabled",
		},
		{
			name: "masked by link to /dev/null wins over a wants link",
			unit: "masked-link.service",
			want: State{
				Unit:   "masked-link.service",
				Path:   "/etc/systemd/system/masked-link.service",
				Masked: true,
			},
			summary: "masked",
		},
		{
			name: "masked by empty file in /etc",
			unit: "masked-empty.service",
			want: State{
				Unit:   "masked-empty.service",
				Path:   "/etc/systemd/system/masked-empty.service",
				Masked: true,
			},
			summary: "masked",
		},
		{
			name: "empty vendor unit file is masked too",
			unit: "empty-vendor.service",
			want: State{
				Unit:   "empty-vendor.service",
				Path:   "/usr/lib/systemd/system/empty-vendor.service",
				Masked: true,
			},
			summary: "masked",
		},
		{
			name:    "disabled: unit file, no links",
			unit:    "disabled.service",
			want:    State{Unit: "disabled.service", Path: "/lib/systemd/system/disabled.service"},
			summary: "disabled",
		},
		{
			name:    "/etc copy takes precedence over /lib",
			unit:    "overridden.service",
			want:    State{Unit: "overridden.service", Path: "/etc/systemd/system/overridden.service"},
			summary: "disabled",
		},
		{
			name:    "not installed",
			unit:    "absent.service",
			want:    State{Unit: "absent.service"},
			summary: "not installed",
		},
		{
			name: "SysV start link in rc2.d",
			unit: "legacy",
			want: State{
				Unit:      "legacy.service",
				Enabled:   true,
				EnabledBy: "/etc/rc2.d/S01legacy",
			},
			summary: "enabled",
		},
		{
			name:    "SysV kill link only is not enabled",
			unit:    "killed.service",
			want:    State{Unit: "killed.service"},
			summary: "not installed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Unit(context.Background(), h, tt.unit)
			if err != nil {
				t.Fatalf("Unit(%q): %v", tt.unit, err)
			}
			if got != tt.want {
				t.Errorf("Unit(%q) =\n  %#v\nwant\n  %#v", tt.unit, got, tt.want)
			}
			if s := got.String(); s != tt.summary {
				t.Errorf("Unit(%q).String() = %q, want %q", tt.unit, s, tt.summary)
			}
			if got.Exists() != (tt.want.Path != "") {
				t.Errorf("Unit(%q).Exists() = %v", tt.unit, got.Exists())
			}
		})
	}
}

func TestUnitEmptyRoot(t *testing.T) {
	t.Parallel()
	// A root with no unit directories at all, as in a minimal container image.
	h := checktest.Host(t, t.TempDir())
	got, err := Unit(context.Background(), h, "sshd")
	if err != nil {
		t.Fatal(err)
	}
	if got != (State{Unit: "sshd.service"}) || got.String() != "not installed" {
		t.Errorf("got %#v (%s), want sshd.service not installed", got, got)
	}
}

func TestUnitCanceled(t *testing.T) {
	t.Parallel()
	h := checktest.Host(t, "testdata/units")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Unit(ctx, h, "enabled-etc.service"); err == nil {
		t.Error("canceled context: want an error, got none")
	}
}
