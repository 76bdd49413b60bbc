package scaffold_test

import (
	"bytes"
	"context"
	"go/format"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/baseline"
	"github.com/plumbline/plumbline/checks/engine"
	"github.com/plumbline/plumbline/checks/hostfs"
	"github.com/plumbline/plumbline/plugins/loader"
	"github.com/plumbline/plumbline/plugins/scaffold"
)

// repoRoot is the plumbline checkout the test runs in.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module "+scaffold.PlumblineModule+"\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no plumbline go.mod above the test's directory")
		}
		dir = parent
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestGenerateRefuses(t *testing.T) {
	t.Parallel()
	nonEmpty := t.TempDir()
	if err := os.WriteFile(filepath.Join(nonEmpty, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	notPlumbline := t.TempDir()
	if err := os.WriteFile(filepath.Join(notPlumbline, "go.mod"), []byte("module example.com/other\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dir     string
		opts    scaffold.Options
		wantErr string
	}{
		{"empty name", "", scaffold.Options{}, `plugin name ""`},
		{"upper case", "", scaffold.Options{Name: "Acme"}, `plugin name "Acme"`},
		{"dot", "", scaffold.Options{Name: "acme.ntp"}, `plugin name "acme.ntp"`},
		{"path", "", scaffold.Options{Name: "../acme"}, `plugin name "../acme"`},
		{"bad module", "", scaffold.Options{Name: "acme", Module: "example.com/my plugin"}, `module path "example.com/my plugin"`},
		{"non-empty directory", nonEmpty, scaffold.Options{Name: "acme"}, "is not empty"},
		{"source without go.mod", "", scaffold.Options{Name: "acme", PlumblineSrc: t.TempDir()}, "go.mod"},
		{"source of another module", "", scaffold.Options{Name: "acme", PlumblineSrc: notPlumbline}, `is module "example.com/other"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := tt.dir
			if dir == "" {
				dir = filepath.Join(t.TempDir(), "project")
			}
			err := scaffold.Generate(dir, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Generate: %v, want an error mentioning %q", err, tt.wantErr)
			}
			if tt.dir == "" {
				if _, err := os.Stat(dir); err == nil {
					t.Errorf("a refused Generate left %s behind", dir)
				}
			}
		})
	}
	if got := readFile(t, filepath.Join(nonEmpty, "keep.txt")); got != "mine" {
		t.Errorf("a refused Generate changed a file in the directory: %q", got)
	}
}

// TestGenerateFiles checks the project's files without building it.
func TestGenerateFiles(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	tests := []struct {
		name       string
		opts       scaffold.Options
		wantGoMod  []string
		avoidGoMod []string
		wantGoSum  bool
	}{
		{
			name:      "local checkout",
			opts:      scaffold.Options{Name: "acme", PlumblineSrc: root},
			wantGoMod: []string{"module example.com/plumbline-plugin-acme\n", "require github.com/plumbline/plumbline v0.0.0-", "replace github.com/plumbline/plumbline => " + root + "\n", "github.com/hashicorp/go-plugin v"},
			wantGoSum: true,
		},
		{
			name:       "release",
			opts:       scaffold.Options{Name: "acme_2", Module: "git.example.org/sec/acme2"},
			wantGoMod:  []string{"module git.example.org/sec/acme2\n", "\ngo 1."},
			avoidGoMod: []string{"replace", "require"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir() // exists and is empty: accepted
			if err := scaffold.Generate(dir, tt.opts); err != nil {
				t.Fatal(err)
			}
			gomod := readFile(t, filepath.Join(dir, "go.mod"))
			for _, w := range tt.wantGoMod {
				if !strings.Contains(gomod, w) {
					t.Errorf("go.mod lacks %q:\n%s", w, gomod)
				}
			}
			for _, a := range tt.avoidGoMod {
				if strings.Contains(gomod, a) {
					t.Errorf("go.mod has %q:\n%s", a, gomod)
				}
			}
			_, err := os.Stat(filepath.Join(dir, "go.sum"))
			if tt.wantGoSum {
				if got, want := readFile(t, filepath.Join(dir, "go.sum")), readFile(t, filepath.Join(root, "go.sum")); got != want {
					t.Error("go.sum is not plumbline's")
				}
			} else if err == nil {
				t.Error("go.sum written without a plumbline source to take it from")
			}

			var files []string
			err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				files = append(files, filepath.ToSlash(rel))
				if strings.HasSuffix(p, ".go") {
					src := readFile(t, p)
					formatted, err := format.Source([]byte(src))
					if err != nil || string(formatted) != src {
						t.Errorf("%s is not gofmt-clean (%v)", rel, err)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{".gitignore", "Makefile", "README.md", "example.go", "go.mod", "main.go", "plugin_test.go", "testdata/fail/etc/motd", "testdata/pass/etc/motd"} {
				if !slices.Contains(files, want) {
					t.Errorf("no %s in %v", want, files)
				}
			}
			name := tt.opts.Name
			if main := readFile(t, filepath.Join(dir, "main.go")); !strings.Contains(main, `Name:    "`+name+`"`) {
				t.Errorf("main.go does not declare the plugin %s:\n%s", name, main)
			}
			if ex := readFile(t, filepath.Join(dir, "example.go")); !strings.Contains(ex, `"`+name+`.example"`) {
				t.Errorf("example.go does not declare %s.example", name)
			}
			if mk := readFile(t, filepath.Join(dir, "Makefile")); !strings.Contains(mk, "\nNAME       := "+name+"\n") || !strings.Contains(mk, "\n\tCGO_ENABLED=0 $(GO) build -trimpath") {
				t.Errorf("Makefile does not build %s with tab-indented recipes:\n%s", name, mk)
			}
		})
	}
}

// goEnv makes the go command use the module cache only: no proxy, no
// checksum database, no toolchain download, no workspace.
func goEnv() []string {
	return append(os.Environ(), "GOPROXY=off", "GOSUMDB=off", "GOTOOLCHAIN=local", "GOWORK=off", "GOFLAGS=-mod=readonly")
}

func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Dir = dir
	cmd.Env = goEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in the generated project: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestGeneratedProjectWorks generates a project against this checkout and
// goes from there to a check in a scan: vet, the project's own tests, make
// build, make pin, make install, describe, and a scan through the loader
// with the pin make printed.
func TestGeneratedProjectWorks(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a generated plugin project and runs its tests, which takes a while; run without -short")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed: the generated Makefile cannot be run")
	}
	t.Parallel()
	const name = "acme"
	dir := filepath.Join(t.TempDir(), "plumbline-plugin-acme")
	if err := scaffold.Generate(dir, scaffold.Options{Name: name, PlumblineSrc: repoRoot(t)}); err != nil {
		t.Fatal(err)
	}
	run(t, dir, "go", "vet", "./...")
	out := run(t, dir, "go", "test", "-count=1", "-v", "./...")
	for _, want := range []string{"--- PASS: TestChecks/fail", "--- PASS: TestBinary/pass"} {
		if !strings.Contains(out, want) {
			t.Errorf("the generated tests did not report %q:\n%s", want, out)
		}
	}

	plugins := filepath.Join(t.TempDir(), "plugins")
	run(t, dir, "make", "install", "VERSION=1.2.3", "PLUGIN_DIR="+plugins)
	bin := filepath.Join(plugins, name)
	if fi, err := os.Stat(bin); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("make install: %v, mode %v; want %s with mode 0755", err, fi, bin)
	}
	pinLine := run(t, dir, "make", "--no-print-directory", "pin", "VERSION=1.2.3")
	pins, err := loader.ParseLockFile("make pin", []byte(pinLine))
	if err != nil || len(pins) != 1 {
		t.Fatalf("make pin printed %q: %v", pinLine, err)
	}
	if sum, _ := loader.FileSHA256(bin); pins[name] != sum {
		t.Errorf("make pin printed %q; the installed binary's sha256 is %s (is the build reproducible?)", pinLine, sum)
	}

	ctx := context.Background()
	d, err := loader.DescribeFile(ctx, bin, loader.Config{RunDir: t.TempDir()})
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	if d.Name != name || d.Version != "1.2.3" || len(d.Checks) != 1 || d.Checks[0].ID != name+".example" {
		t.Errorf("describe: %s %s with %d checks (%+v), want %s 1.2.3 providing %s.example", d.Name, d.Version, len(d.Checks), d.Checks, name, name)
	}

	h, err := hostfs.New(hostfs.Options{Root: filepath.Join(dir, "testdata", "fail")})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := loader.Open(ctx, loader.Config{Dir: plugins, Pins: pins, RunDir: t.TempDir()}, h)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	c, ok := sess.Lookup(name + ".example")
	if !ok {
		t.Fatalf("the agent does not see %s.example: %+v", name, sess.Refs())
	}
	params, err := checks.Resolve(c.Meta().Params, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := engine.Run(ctx, h, []baseline.Entry{{Check: c, Params: params}}, engine.Options{})[0]
	if r.Status != checks.StatusFail || len(r.Evidence) == 0 || r.Evidence[0].Line != 1 {
		t.Errorf("%s.example on the fail fixture: %s %q %+v, want FAIL with evidence at line 1", name, r.Status, r.Message, r.Evidence)
	}
}
