package cis

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/checktest"
	"github.com/plumbline/plumbline/checks/declarative"
)

// fixtureFile is one testdata/fixtures/*.yaml file.
type fixtureFile struct {
	Bases    map[string]map[string]*fixtureEntry `yaml:"bases"`
	Fixtures map[string][]fixtureCase            `yaml:"fixtures"`
}

type fixtureCase struct {
	Want   string                   `yaml:"want"`
	Base   stringList               `yaml:"base"`
	Params map[string]any           `yaml:"params"`
	Files  map[string]*fixtureEntry `yaml:"files"`
	Line   int                      `yaml:"-"`
}

// UnmarshalYAML records the case's line for messages.
func (c *fixtureCase) UnmarshalYAML(n *yaml.Node) error {
	type plain fixtureCase
	if err := n.Decode((*plain)(c)); err != nil {
		return err
	}
	c.Line = n.Line
	return nil
}

// stringList is a string or a list of strings.
type stringList []string

func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = []string{n.Value}
		return nil
	}
	return n.Decode((*[]string)(l))
}

// fixtureEntry is a file's content, or a mapping with its attributes.
type fixtureEntry struct {
	Content string `yaml:"content"`
	Mode    string `yaml:"mode"`
	UID     *int   `yaml:"uid"`
	GID     *int   `yaml:"gid"`
	Link    string `yaml:"link"`
	Dir     bool   `yaml:"dir"`
}

func (e *fixtureEntry) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		e.Content = n.Value
		return nil
	}
	type plain fixtureEntry
	dec := (*plain)(e)
	return n.Decode(dec)
}

// loadFixtures reads every fixture file, strictly: an unknown key is an error.
func loadFixtures(t *testing.T) map[string][]namedCase {
	t.Helper()
	files, err := filepath.Glob("testdata/fixtures/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixture files: %v", err)
	}
	out := map[string][]namedCase{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ff fixtureFile
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&ff); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for id, cases := range ff.Fixtures {
			if _, dup := out[id]; dup {
				t.Errorf("%s: fixtures for %s also in another file", f, id)
			}
			for _, c := range cases {
				tree := map[string]*fixtureEntry{}
				for _, b := range c.Base {
					base, ok := ff.Bases[b]
					if !ok {
						t.Fatalf("%s:%d: %s: unknown base %q", f, c.Line, id, b)
					}
					for p, e := range base {
						tree[p] = e
					}
				}
				for p, e := range c.Files {
					if e == nil {
						delete(tree, p)
					} else {
						tree[p] = e
					}
				}
				out[id] = append(out[id], namedCase{fixtureCase: c, file: f, tree: tree})
			}
		}
	}
	return out
}

type namedCase struct {
	fixtureCase
	file string
	tree map[string]*fixtureEntry
}

func (c namedCase) String() string { return fmt.Sprintf("%s:%d", c.file, c.Line) }

// materialize writes the tree into a fresh directory.
func materialize(t *testing.T, tree map[string]*fixtureEntry) string {
	t.Helper()
	root := t.TempDir()
	paths := slices.Sorted(func(yield func(string) bool) {
		for p := range tree {
			if !yield(p) {
				return
			}
		}
	})
	for _, p := range paths {
		e := tree[p]
		if !path.IsAbs(p) {
			t.Fatalf("fixture path %q: want an absolute host path", p)
		}
		real := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case e.Link != "":
			if err := os.Symlink(e.Link, real); err != nil {
				t.Fatal(err)
			}
			continue
		case e.Dir:
			if err := os.MkdirAll(real, 0o755); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(real, []byte(e.Content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if e.Mode != "" {
			m, err := strconv.ParseUint(e.Mode, 8, 32)
			if err != nil {
				t.Fatalf("fixture %s: mode %q: want octal", p, e.Mode)
			}
			fm := fs.FileMode(m & 0o777)
			for bit, flag := range map[uint64]fs.FileMode{0o4000: fs.ModeSetuid, 0o2000: fs.ModeSetgid, 0o1000: fs.ModeSticky} {
				if m&bit != 0 {
					fm |= flag
				}
			}
			if err := os.Chmod(real, fm); err != nil {
				t.Fatal(err)
			}
		}
		if e.UID != nil || e.GID != nil {
			uid, gid := -1, -1
			if e.UID != nil {
				uid = *e.UID
			}
			if e.GID != nil {
				gid = *e.GID
			}
			if os.Geteuid() != 0 {
				t.Skipf("fixture %s sets ownership: needs root (CI runs as root)", p)
			}
			if err := os.Lchown(real, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// TestFixtures runs every declarative check on each of its fixture trees;
// a check without both a passing and a failing fixture fails the test.
func TestFixtures(t *testing.T) {
	all := loadFixtures(t)
	ids := map[string]bool{}
	for _, c := range Checks() {
		id := c.Meta().ID
		ids[id] = true
		cases := all[id]
		var pass, fail bool
		for _, fc := range cases {
			pass = pass || fc.Want == "PASS"
			fail = fail || fc.Want == "FAIL"
		}
		if !pass || !fail {
			t.Errorf("%s (%s): needs at least one PASS and one FAIL fixture in testdata/fixtures (has %d cases)", id, c.Source(), len(cases))
		}
		for _, fc := range cases {
			t.Run(id+"/"+fc.Want+"@"+strconv.Itoa(fc.Line), func(t *testing.T) {
				t.Parallel()
				want, err := checks.ParseStatus(fc.Want)
				if err != nil {
					t.Fatalf("%s: want: %v", fc, err)
				}
				root := materialize(t, fc.tree)
				p, err := checks.Resolve(c.Meta().Params, fc.Params)
				if err != nil {
					t.Fatalf("%s: params: %v", fc, err)
				}
				r := checks.Evaluate(context.Background(), checktest.Host(t, root), c, p, checks.DefaultTimeout)
				if r.Status != want {
					t.Errorf("%s: %s: status %s, want %s\nmessage: %s\nevidence:\n%s", fc, id, r.Status, want, r.Message, evidenceText(r.Evidence))
				}
				if r.Status == checks.StatusFail && !slices.ContainsFunc(r.Evidence, func(e checks.Evidence) bool { return !e.OK }) {
					t.Errorf("%s: %s: FAIL without failing evidence", fc, id)
				}
			})
		}
	}
	for id, cases := range all {
		if !ids[id] {
			t.Errorf("%s: fixtures for unknown check %s", cases[0], id)
		}
	}
}

func evidenceText(ev []checks.Evidence) string {
	var b strings.Builder
	for _, e := range ev {
		fmt.Fprintf(&b, "  ok=%v %s: %s (want %s) %s\n", e.OK, e.Key, e.Actual, e.Expected, e.Source())
	}
	return b.String()
}

var _ = declarative.Schema
