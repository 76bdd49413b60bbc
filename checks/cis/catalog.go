// Package cis holds plumbline's CIS benchmark content: the control
// catalogues, the declarative checks and their fixtures.
package cis

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// catalogFS holds one YAML file per benchmark: every control with its
// number, title, Server profile level and CIS assessment status.
//
//go:embed catalog/*.yaml
var catalogFS embed.FS

// Control is one CIS benchmark recommendation.
type Control struct {
	ID         string `yaml:"id"`
	Title      string `yaml:"title"`
	Level      int    `yaml:"level"`      // Server profile level, 0: not in a Server profile
	Assessment string `yaml:"assessment"` // "automated" or "manual"
}

// Assessment values of [Control].
const (
	AssessmentAutomated = "automated"
	AssessmentManual    = "manual"
)

// Automated reports whether CIS assesses the control as Automated.
func (c Control) Automated() bool { return c.Assessment == AssessmentAutomated }

// Catalog is one benchmark's controls.
type Catalog struct {
	Platform  string    `yaml:"platform"` // os-release ID:VERSION_ID, e.g. "debian:12"
	Benchmark string    `yaml:"benchmark"`
	Controls  []Control `yaml:"controls"`

	byID map[string]int
}

// Lookup returns the control with the given number, e.g. "1.1.1.1".
func (c *Catalog) Lookup(id string) (Control, bool) {
	i, ok := c.byID[id]
	if !ok {
		return Control{}, false
	}
	return c.Controls[i], true
}

var (
	catalogsOnce sync.Once
	catalogs     []*Catalog
	catalogIndex map[string]*Catalog
)

// Catalogs returns every embedded catalogue sorted by platform. The files are
// parsed once; a malformed embedded file is a build defect and panics.
func Catalogs() []*Catalog {
	loadCatalogs()
	return append([]*Catalog(nil), catalogs...)
}

// CatalogFor returns the catalogue for a platform such as "debian:12". When
// there is none for the exact version it falls back to the major version, so
// "rhel:9.4" finds "rhel:9".
func CatalogFor(platform string) (*Catalog, bool) {
	loadCatalogs()
	if c, ok := catalogIndex[platform]; ok {
		return c, true
	}
	id, version, ok := strings.Cut(platform, ":")
	if !ok {
		return nil, false
	}
	major, _, ok := strings.Cut(version, ".")
	if !ok {
		return nil, false
	}
	c, ok := catalogIndex[id+":"+major]
	return c, ok
}

func loadCatalogs() {
	catalogsOnce.Do(func() {
		cs, err := parseCatalogs(catalogFS, "catalog")
		if err != nil {
			panic("cis: embedded catalogue: " + err.Error())
		}
		catalogs = cs
		catalogIndex = make(map[string]*Catalog, len(cs))
		for _, c := range cs {
			catalogIndex[c.Platform] = c
		}
	})
}

// parseCatalogs reads every *.yaml file in dir of fsys.
func parseCatalogs(fsys fs.FS, dir string) ([]*Catalog, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var cs []*Catalog
	seen := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".yaml" {
			continue
		}
		name := path.Join(dir, e.Name())
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		c, err := parseCatalog(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if prev, dup := seen[c.Platform]; dup {
			return nil, fmt.Errorf("%s: platform %q already defined by %s", name, c.Platform, prev)
		}
		seen[c.Platform] = name
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Platform < cs[j].Platform })
	return cs, nil
}

// parseCatalog decodes and validates one catalogue file.
func parseCatalog(data []byte) (*Catalog, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Catalog
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document")
	}
	if c.Platform == "" || !strings.Contains(c.Platform, ":") {
		return nil, fmt.Errorf("platform %q is not ID:VERSION_ID", c.Platform)
	}
	if c.Benchmark == "" {
		return nil, errors.New("benchmark is empty")
	}
	if len(c.Controls) == 0 {
		return nil, errors.New("no controls")
	}
	c.byID = make(map[string]int, len(c.Controls))
	for i, ctl := range c.Controls {
		if ctl.ID == "" || ctl.Title == "" {
			return nil, fmt.Errorf("control %d: id and title are required", i)
		}
		if _, dup := c.byID[ctl.ID]; dup {
			return nil, fmt.Errorf("control %s: duplicate id", ctl.ID)
		}
		if ctl.Level < 0 || ctl.Level > 2 {
			return nil, fmt.Errorf("control %s: level %d not in 0..2", ctl.ID, ctl.Level)
		}
		if ctl.Assessment != AssessmentAutomated && ctl.Assessment != AssessmentManual {
			return nil, fmt.Errorf("control %s: assessment %q is neither %q nor %q",
				ctl.ID, ctl.Assessment, AssessmentAutomated, AssessmentManual)
		}
		c.byID[ctl.ID] = i
	}
	return &c, nil
}
