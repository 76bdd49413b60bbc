package facts

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks/hostfs"
)

func TestIdentity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		machineID string // "" means no file
		override  string
		wantID    string
		wantSrc   string
		wantErr   string
	}{
		{"machine-id", "0123456789abcdef0123456789abcdef\n", "", "0123456789abcdef0123456789abcdef", "machine-id", ""},
		{"override wins", "0123456789abcdef0123456789abcdef\n", "web-1", "web-1", "config", ""},
		{"missing", "", "", "", "", "/etc/machine-id"},
		{"uninitialized", "uninitialized\n", "", "", "", "not a 32-digit hex id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(root, "etc/hostname"), []byte("img-host\n"), 0o644)
			if tt.machineID != "" {
				os.WriteFile(filepath.Join(root, "etc/machine-id"), []byte(tt.machineID), 0o644)
			}
			h, err := hostfs.New(hostfs.Options{Root: root})
			if err != nil {
				t.Fatal(err)
			}
			id, err := Identity(context.Background(), h, tt.override)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.ID != tt.wantID || id.IDSource != tt.wantSrc || id.Hostname != "img-host" {
				t.Errorf("Identity = %+v", id)
			}
		})
	}
}

func TestCollectOfflineUsesOSReleaseOnly(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/os-release"), []byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"), 0o644)
	h, err := hostfs.New(hostfs.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Collect(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	// An image's kernel and memory are not the scanning machine's: leave them empty.
	if f.Platform != "debian:12" || f.OS != "Debian GNU/Linux 12 (bookworm)" || f.Kernel != "" || f.MemoryBytes != 0 {
		t.Errorf("Collect = %+v", f)
	}
}

func TestCollectLive(t *testing.T) {
	t.Parallel()
	h, err := hostfs.New(hostfs.Options{Root: "/"})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := Collect(context.Background(), h)
	if f.CPUs < 1 || f.MemoryBytes == 0 || f.Kernel == "" {
		t.Errorf("live facts incomplete: %+v", f)
	}
}
