package syslogconf

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/plumbline/plumbline/checks"
)

// configDirs are where systemd looks for its daemons' configuration files
// and their .d drop-in directories, highest precedence first.
var configDirs = []string{"/etc", "/run", "/usr/local/lib", "/usr/lib"}

// The configuration files of the journal, relative to configDirs.
const (
	JournaldConf      = "systemd/journald.conf"
	JournalUploadConf = "systemd/journal-upload.conf"
)

// Entry is one Key=Value assignment.
type Entry struct {
	Section string
	Key     string
	Value   string
	Path    string
	Line    int
}

// Source renders where the entry was read as "path:line".
func (e Entry) Source() string { return fmt.Sprintf("%s:%d", e.Path, e.Line) }

// SystemdConf is a systemd daemon configuration (journald.conf,
// journal-upload.conf) with its drop-ins applied.
type SystemdConf struct {
	// Files are the files read in the order applied: the main file, then
	// the drop-ins sorted by name.
	Files   []string
	Entries []Entry
	// Ignored are lines systemd would ignore with a warning, as
	// "path:line: reason".
	Ignored []string
}

// Get returns the last assignment of key in section; an empty value means
// the key was reset to its default.
func (c *SystemdConf) Get(section, key string) (Entry, bool) {
	for i := len(c.Entries) - 1; i >= 0; i-- {
		if e := c.Entries[i]; e.Section == section && e.Key == key {
			return e, true
		}
	}
	return Entry{}, false
}

// ReadJournald loads journald.conf and its drop-ins once per scan.
func ReadJournald(ctx context.Context, h checks.Host) (*SystemdConf, error) {
	return checks.Memoized(h, "syslogconf.journald", func() (*SystemdConf, error) {
		return LoadSystemdConf(ctx, h, JournaldConf)
	})
}

// ReadJournalUpload loads journal-upload.conf and its drop-ins once per scan.
func ReadJournalUpload(ctx context.Context, h checks.Host) (*SystemdConf, error) {
	return checks.Memoized(h, "syslogconf.journal-upload", func() (*SystemdConf, error) {
		return LoadSystemdConf(ctx, h, JournalUploadConf)
	})
}

// LoadSystemdConf reads name ("systemd/journald.conf") as systemd does: the
// first main file found in /etc, /run, /usr/local/lib, /usr/lib, then every
// *.conf drop-in of name.d in those directories, a drop-in in a higher
// directory hiding one of the same name in a lower one, applied in order of
// file name. No file at all is not an error: every key has its default.
func LoadSystemdConf(ctx context.Context, h checks.Host, name string) (*SystemdConf, error) {
	var files []string
	for _, dir := range configDirs {
		p := path.Join(dir, name)
		if _, err := h.Stat(ctx, p); err == nil {
			files = append(files, p)
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
	}
	dropins := map[string]string{}
	for i := len(configDirs) - 1; i >= 0; i-- {
		matches, err := h.Glob(ctx, path.Join(configDirs[i], name+".d", "*.conf"))
		if err != nil {
			return nil, fmt.Errorf("list drop-ins of %s: %w", name, err)
		}
		for _, m := range matches {
			dropins[path.Base(m)] = m
		}
	}
	names := make([]string, 0, len(dropins))
	for n := range dropins {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		files = append(files, dropins[n])
	}
	c := &SystemdConf{}
	for _, f := range files {
		data, err := h.ReadFile(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if err := c.parse(f, data); err != nil {
			return nil, err
		}
		c.Files = append(c.Files, f)
	}
	return c, nil
}

// parse applies one file in systemd's INI syntax: [Section] headers,
// Key=Value lines, "#" and ";" comments and backslash continuations.
func (c *SystemdConf) parse(file string, data []byte) error {
	section := ""
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		n := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) {
			i++
			next := strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
			if next != "" && (next[0] == '#' || next[0] == ';') {
				continue // comments inside a continuation are skipped
			}
			line = line[:len(line)-1] + " " + next
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") || len(line) < 3 {
				return fmt.Errorf("%s:%d: invalid section header %q", file, n, line)
			}
			section = line[1 : len(line)-1]
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		switch {
		case !ok:
			c.Ignored = append(c.Ignored, fmt.Sprintf("%s:%d: missing '=', line ignored", file, n))
		case section == "":
			c.Ignored = append(c.Ignored, fmt.Sprintf("%s:%d: assignment outside of a section, ignored", file, n))
		default:
			c.Entries = append(c.Entries, Entry{Section: section, Key: strings.TrimSpace(key), Value: strings.TrimSpace(val), Path: file, Line: n})
		}
	}
	return nil
}
