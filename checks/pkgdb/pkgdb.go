// Package pkgdb reads the host's package database: dpkg's status file on
// Debian and Ubuntu, the rpm database on the RHEL family (through the
// allow-listed rpm command, which also works on a mounted image via --root).
package pkgdb

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/plumbline/plumbline/checks"
)

// Format says which packaging system versions follow.
type Format string

// The package formats.
const (
	FormatDpkg Format = "dpkg"
	FormatRPM  Format = "rpm"
)

// Package is one installed package.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Arch    string `json:"arch,omitempty"`
}

// DB is the set of installed packages.
type DB struct {
	Format Format
	// Source is where the data came from ("/var/lib/dpkg/status" or "rpm -qa").
	Source string
	byName map[string]Package
}

// Lookup returns the installed package with the name.
func (db *DB) Lookup(name string) (Package, bool) {
	p, ok := db.byName[name]
	return p, ok
}

// Len returns how many packages are installed.
func (db *DB) Len() int { return len(db.byName) }

// Compare orders two versions by the database's own rules.
func (db *DB) Compare(a, b string) int {
	if db.Format == FormatRPM {
		return CompareRPM(a, b)
	}
	return CompareDpkg(a, b)
}

// DpkgStatusPath is where dpkg keeps what is installed.
const DpkgStatusPath = "/var/lib/dpkg/status"

// rpmDBDirs hold the rpm database on RHEL 9 (/var/lib/rpm, sqlite) and
// older layouts (/usr/lib/sysimage/rpm).
var rpmDBDirs = []string{"/var/lib/rpm", "/usr/lib/sysimage/rpm"}

// ErrNoDatabase means the host has neither a dpkg nor an rpm database.
var ErrNoDatabase = errors.New("no package database found (looked for " + DpkgStatusPath + " and /var/lib/rpm)")

// Lister is an optional Host capability: a host that lists its packages
// itself. The plugin SDK's host implements it by asking the agent, so a
// plugin gets the agent's parsed list instead of copying the whole dpkg
// status file (or needing rpm) across the process boundary.
type Lister interface {
	Packages(ctx context.Context) (*DB, error)
}

// Read returns the host's installed packages, read once per scan.
func Read(ctx context.Context, h checks.Host) (*DB, error) {
	return checks.Memoized(h, "pkgdb", func() (*DB, error) {
		if l, ok := h.(Lister); ok {
			return l.Packages(ctx)
		}
		return read(ctx, h)
	})
}

// New builds a database from a list, e.g. one received from the agent.
func New(format Format, source string, pkgs []Package) *DB {
	db := &DB{Format: format, Source: source, byName: make(map[string]Package, len(pkgs))}
	for _, p := range pkgs {
		db.byName[p.Name] = p
	}
	return db
}

// All returns every installed package, sorted by name.
func (db *DB) All() []Package {
	out := make([]Package, 0, len(db.byName))
	for _, p := range db.byName {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Package) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func read(ctx context.Context, h checks.Host) (*DB, error) {
	data, err := h.ReadFile(ctx, DpkgStatusPath)
	if err == nil {
		return ParseDpkgStatus(DpkgStatusPath, data)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read package database: %w", err)
	}
	for _, dir := range rpmDBDirs {
		entries, err := h.ReadDir(ctx, dir)
		if err != nil || len(entries) == 0 {
			continue
		}
		return readRPM(ctx, h)
	}
	return nil, ErrNoDatabase
}

func readRPM(ctx context.Context, h checks.Host) (*DB, error) {
	res, err := h.Exec(ctx, "rpm", "--root", checks.ExecRoot, "-qa", "--qf", `%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\n`)
	if err != nil {
		return nil, fmt.Errorf("read rpm database: %w", err)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("read rpm database: rpm exited %d: %s", res.ExitCode, firstLine(res.Stderr))
	}
	db := &DB{Format: FormatRPM, Source: "rpm -qa", byName: map[string]Package{}}
	for n, line := range strings.Split(string(res.Stdout), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("rpm -qa output line %d: want name, version and arch, got %q", n+1, line)
		}
		db.byName[f[0]] = Package{Name: f[0], Version: strings.TrimPrefix(f[1], "0:"), Arch: f[2]}
	}
	return db, nil
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

// ParseDpkgStatus parses dpkg's status file; only packages whose state is
// "installed" count (not "config-files" or half-installed ones).
func ParseDpkgStatus(path string, data []byte) (*DB, error) {
	db := &DB{Format: FormatDpkg, Source: path, byName: map[string]Package{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var cur Package
	var status string
	start, n := 0, 0
	flush := func() error {
		if cur.Name == "" {
			if status != "" || cur.Version != "" {
				return fmt.Errorf("%s:%d: stanza without a Package field", path, start)
			}
			return nil
		}
		if f := strings.Fields(status); len(f) == 3 && f[2] == "installed" {
			db.byName[cur.Name] = cur
		}
		cur, status = Package{}, ""
		return nil
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		if start == 0 || (cur.Name == "" && status == "" && cur.Version == "") {
			start = n
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue // continuation of a multi-line field such as Description
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want \"Field: value\", got %q", path, n, line)
		}
		val = strings.TrimSpace(val)
		switch key {
		case "Package":
			cur.Name = val
		case "Status":
			status = val
		case "Version":
			cur.Version = val
		case "Architecture":
			cur.Arch = val
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", path, n, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return db, nil
}
