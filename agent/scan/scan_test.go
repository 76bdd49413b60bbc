package scan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/plumbline/plumbline/checks/families"
)

func fixtureRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/os-release"), []byte("ID=debian\nVERSION_ID=\"12\"\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/machine-id"), []byte("0123456789abcdef0123456789abcdef\n"), 0o644)
	return root
}

func TestRunBuildsAValidReport(t *testing.T) {
	t.Parallel()
	r, notes, err := Run(context.Background(), Options{Root: fixtureRoot(t), Sequence: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(); err != nil {
		t.Errorf("report does not validate: %v", err)
	}
	if r.Baseline.Name != "debian-12" || r.Sequence != 3 || len(notes) != 0 || r.Host.Root == "" {
		t.Errorf("report = baseline %s seq %d root %q notes %v", r.Baseline.Name, r.Sequence, r.Host.Root, notes)
	}
}

func TestRunInterruptedIsNotAReport(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, _, err := Run(ctx, Options{Root: fixtureRoot(t)})
	if err == nil || !strings.Contains(err.Error(), "interrupted") || r != nil {
		t.Errorf("cancelled scan: %v, %v; want no report and an \"interrupted\" error", r, err)
	}
}

func TestGenericBaselineNote(t *testing.T) {
	t.Parallel()
	root := fixtureRoot(t)
	os.WriteFile(filepath.Join(root, "etc/os-release"), []byte("ID=gentoo\n"), 0o644)
	r, notes, err := Run(context.Background(), Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if r.Baseline.Name != "linux" || len(notes) != 1 || !strings.Contains(notes[0], "gentoo") {
		t.Errorf("baseline %s, notes %v; want the generic baseline with a note naming the distribution", r.Baseline.Name, notes)
	}
}
