// Package firstparty_test holds the conformance test of the first-party
// plugins: each family runs linked into the agent and as its own plugin
// binary, on the same fixture hosts, and must give identical results.
package firstparty_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/checktest"
	"github.com/plumbline/plumbline/checks/engine"
	_ "github.com/plumbline/plumbline/checks/families"
	"github.com/plumbline/plumbline/checks/hostfs"
	"github.com/plumbline/plumbline/plugins/loader"
)

// families maps each first-party plugin to the family package holding its
// fixture hosts.
var families = map[string]string{
	"sudo":      "sudolog",
	"password":  "password",
	"dlp":       "dlp",
	"diskcrypt": "diskcrypt",
}

// pluginDir holds one directory per plugin; allDir holds all four.
var pluginDir, allDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plumbline-firstparty-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = os.Chmod(dir, 0o755)
	pluginDir = dir
	for name := range families {
		// One directory per plugin: a file in the plugin directory that is
		// not pinned is reported as refused.
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name, name), "./"+name).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build plugin %s: %v\n%s", name, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	allDir = filepath.Join(dir, "all")
	if err := os.Mkdir(allDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for name := range families {
		data, err := os.ReadFile(filepath.Join(dir, name, name))
		if err == nil {
			err = os.WriteFile(filepath.Join(allDir, name), data, 0o755)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func pins(t testing.TB, names ...string) map[string]string {
	t.Helper()
	p := map[string]string{}
	for _, n := range names {
		sum, err := loader.FileSHA256(filepath.Join(pluginDir, n, n))
		if err != nil {
			t.Fatal(err)
		}
		p[n] = sum
	}
	return p
}

func allPins(t testing.TB) map[string]string {
	t.Helper()
	p := map[string]string{}
	for n := range families {
		sum, err := loader.FileSHA256(filepath.Join(allDir, n))
		if err != nil {
			t.Fatal(err)
		}
		p[n] = sum
	}
	return p
}

// fixtureRoots returns every fixture host tree (a directory with etc/) of a
// family's tests.
func fixtureRoots(t *testing.T, family string) []string {
	t.Helper()
	var roots []string
	base := filepath.Join("..", "..", "checks", "families", family, "testdata")
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "etc" {
			roots = append(roots, filepath.Dir(p))
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return roots
}

func strip(rs []checks.Result) []checks.Result {
	out := slices.Clone(rs)
	for i := range out {
		out[i].Duration = 0
	}
	return out
}

func TestFirstPartyPluginsMatchLinkedFamilies(t *testing.T) {
	for name, family := range families {
		t.Run(name, func(t *testing.T) {
			roots := fixtureRoots(t, family)
			if len(roots) < 3 {
				t.Fatalf("%s: only %d fixture hosts", family, len(roots))
			}
			seen := map[checks.Status]int{}
			for _, fixture := range roots {
				root := checktest.Materialize(t, fixture)
				h, err := hostfs.New(hostfs.Options{Root: root})
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				linked := engine.Run(ctx, h, entriesFor(t, checks.Lookup, name), engine.Options{})

				sess, err := loader.Open(ctx, loader.Config{Dir: filepath.Join(pluginDir, name), Pins: pins(t, name), RunDir: t.TempDir()}, h)
				if err != nil {
					t.Fatal(err)
				}
				for _, ref := range sess.Refs() {
					if ref.Name == name && ref.Error != "" {
						t.Fatalf("plugin %s: %s", name, ref.Error)
					}
				}
				remote := engine.Run(ctx, h, entriesFor(t, sess.Lookup, name), engine.Options{})
				sess.Close()
				if !reflect.DeepEqual(strip(linked), strip(remote)) {
					for i := range linked {
						if !reflect.DeepEqual(strip(linked[i:i+1]), strip(remote[i:i+1])) {
							t.Errorf("%s on %s:\nlinked: %+v\nplugin: %+v", linked[i].ID, fixture, linked[i], remote[i])
						}
					}
				}
				for _, r := range linked {
					seen[r.Status]++
				}
			}
			// Guard against comparing two equally broken runs.
			if seen[checks.StatusPass] == 0 || seen[checks.StatusFail] == 0 {
				t.Errorf("%s: fixtures gave no PASS or no FAIL (%v): the comparison proves little", name, seen)
			}
			t.Logf("%s: %d fixture hosts, statuses %v", name, len(roots), seen)
		})
	}
}
