// Package scaffold writes a new plugin project: a Go module whose main
// serves one example check through the SDK, with fixture hosts, tests that
// run the check in process and as the built binary (sdktest), a Makefile
// that builds, pins and installs it, and a README. It is what
// `plumbline-agent plugin new` runs; the project builds and its tests pass
// as generated.
package scaffold

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"go/format"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/plumbline/plumbline/plugins/sdk"
)

// PlumblineModule is the module a generated project depends on.
const PlumblineModule = "github.com/plumbline/plumbline"

// localVersion is the version a project requires when a replace directive
// points the module at a local checkout, where any version would do.
const localVersion = "v0.0.0-00010101000000-000000000000"

// fallbackGoVersion is the go directive when neither a checkout nor this
// binary's toolchain says better.
const fallbackGoVersion = "1.26"

//go:embed templates
var templates embed.FS

// Options describe the project to generate.
type Options struct {
	// Name is the plugin's name (sdk.ValidName): its binary's file name in
	// the agent's plugin directory and the prefix of its check ids.
	Name string
	// Module is the Go module path; default
	// "example.com/plumbline-plugin-<Name>".
	Module string
	// PlumblineSrc, when set, is a plumbline checkout to build against: the
	// project gets a replace directive to its absolute path, plumbline's
	// requirements and a copy of its go.sum, so it builds from the module
	// cache without network. Without it the project requires no version of
	// plumbline yet; `go mod tidy` adds the latest.
	PlumblineSrc string
}

// Generate writes a plugin project for opts.Name into dir, which must not
// exist or be empty. Nothing is written unless every file renders.
func Generate(dir string, opts Options) error {
	if !sdk.ValidName(opts.Name) {
		return fmt.Errorf("plugin name %q: want lower case letters, digits and _ (at most 64), starting with a letter or digit", opts.Name)
	}
	d := data{Name: opts.Name, Module: opts.Module, GoVersion: toolchainGoVersion()}
	if d.Module == "" {
		d.Module = "example.com/plumbline-plugin-" + opts.Name
	}
	if err := checkModulePath(d.Module); err != nil {
		return err
	}
	var goSum []byte
	if opts.PlumblineSrc != "" {
		src, err := readCheckout(opts.PlumblineSrc)
		if err != nil {
			return err
		}
		d.Replace, d.GoVersion, d.Requires, goSum = src.dir, src.goVersion, src.requires, src.goSum
		d.PlumblineVersion = localVersion
	}
	files, err := render(d)
	if err != nil {
		return err
	}
	if goSum != nil {
		files = append(files, file{path: "go.sum", data: goSum})
	}
	if err := prepareDir(dir); err != nil {
		return err
	}
	return write(dir, files)
}

// data is what the templates see.
type data struct {
	Name      string
	Module    string
	GoVersion string
	// PlumblineVersion is required when set; Replace points the module at
	// a local checkout.
	PlumblineVersion string
	Replace          string
	Requires         []requirement
}

type requirement struct{ Path, Version string }

// file is one rendered file, path slash-separated inside the project.
type file struct {
	path string
	data []byte
}

// render executes every template; Go sources come out gofmt'ed.
func render(d data) ([]file, error) {
	funcs := template.FuncMap{"modpath": modPath}
	var files []file
	err := fs.WalkDir(templates, "templates", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		src, err := templates.ReadFile(p)
		if err != nil {
			return err
		}
		tmpl, err := template.New(p).Funcs(funcs).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return fmt.Errorf("template %s: %w", p, err)
		}
		var out bytes.Buffer
		if err := tmpl.Execute(&out, d); err != nil {
			return fmt.Errorf("template %s: %w", p, err)
		}
		name := outputPath(p)
		b := out.Bytes()
		if strings.HasSuffix(name, ".go") {
			if b, err = format.Source(b); err != nil {
				return fmt.Errorf("template %s: generated Go does not parse: %w", p, err)
			}
		}
		files = append(files, file{path: name, data: b})
		return nil
	})
	return files, err
}

// outputPath maps "templates/testdata/pass/etc/motd.tmpl" to
// "testdata/pass/etc/motd". The embedded tree holds no dot files, so
// "gitignore" stands for ".gitignore".
func outputPath(tmpl string) string {
	p := strings.TrimSuffix(strings.TrimPrefix(tmpl, "templates/"), ".tmpl")
	if p == "gitignore" {
		return ".gitignore"
	}
	return p
}

// modPath quotes a go.mod path or version when it needs quoting.
func modPath(s string) string {
	if strings.ContainsAny(s, " \t\"'`\\") {
		return strconv.Quote(s)
	}
	return s
}

var modulePathPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~/-]*$`)

func checkModulePath(m string) error {
	if !modulePathPattern.MatchString(m) || strings.HasSuffix(m, "/") || strings.Contains(m, "//") || strings.Contains(m, "..") {
		return fmt.Errorf("module path %q: want a path such as example.com/plumbline-plugin-acme", m)
	}
	return nil
}

var releasePattern = regexp.MustCompile(`^[0-9]+\.[0-9]+(\.[0-9]+)?$`)

// toolchainGoVersion is the Go release this binary was built with ("1.26.8"),
// which is at least what plumbline needs.
func toolchainGoVersion() string {
	v := strings.TrimPrefix(runtime.Version(), "go")
	if releasePattern.MatchString(v) {
		return v
	}
	return fallbackGoVersion
}

// checkout is what a generated project takes from a plumbline checkout.
type checkout struct {
	dir       string
	goVersion string
	requires  []requirement
	goSum     []byte
}

// readCheckout reads the go.mod and go.sum of the plumbline checkout at dir.
func readCheckout(dir string) (*checkout, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("plumbline source %s: %w", dir, err)
	}
	gomod, err := os.ReadFile(filepath.Join(abs, "go.mod"))
	if err != nil {
		return nil, fmt.Errorf("plumbline source: %w", err)
	}
	c := &checkout{dir: abs}
	module, err := parseGoMod(gomod, c)
	if err != nil {
		return nil, fmt.Errorf("plumbline source %s: %w", filepath.Join(abs, "go.mod"), err)
	}
	if module != PlumblineModule {
		return nil, fmt.Errorf("plumbline source %s: go.mod is module %q, not %s", abs, module, PlumblineModule)
	}
	if c.goSum, err = os.ReadFile(filepath.Join(abs, "go.sum")); err != nil {
		return nil, fmt.Errorf("plumbline source: %w", err)
	}
	return c, nil
}

// parseGoMod reads the module path, the go directive and the requirements
// of a go.mod: the little of its syntax a project needs to copy.
func parseGoMod(gomod []byte, c *checkout) (module string, err error) {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	inRequire := false
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "//")
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case inRequire && f[0] == ")":
			inRequire = false
		case inRequire && len(f) == 2:
			c.requires = append(c.requires, requirement{Path: unquote(f[0]), Version: unquote(f[1])})
		case inRequire:
			return "", fmt.Errorf("line %d: want \"path version\" in the require block", n)
		case f[0] == "module" && len(f) == 2:
			module = unquote(f[1])
		case f[0] == "go" && len(f) == 2:
			c.goVersion = f[1]
		case f[0] == "require" && len(f) == 2 && f[1] == "(":
			inRequire = true
		case f[0] == "require" && len(f) == 3:
			c.requires = append(c.requires, requirement{Path: unquote(f[1]), Version: unquote(f[2])})
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	if module == "" || c.goVersion == "" {
		return "", errors.New("no module or go directive")
	}
	slices.SortFunc(c.requires, func(a, b requirement) int { return strings.Compare(a.Path, b.Path) })
	return module, nil
}

func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

// prepareDir creates dir, or accepts it if it exists and is empty.
func prepareDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create project directory: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("project directory: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("project directory %s is not empty; choose a new or empty one", dir)
	}
	return nil
}

// write writes the files under dir; on failure it removes what it wrote.
func write(dir string, files []file) error {
	var written []string
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.path))
		top := filepath.Join(dir, strings.Split(f.path, "/")[0])
		err := os.MkdirAll(filepath.Dir(p), 0o755)
		if err == nil {
			err = os.WriteFile(p, f.data, 0o644)
		}
		written = append(written, top)
		if err != nil {
			for _, w := range written {
				os.RemoveAll(w)
			}
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}
