// Package pwquality reads libpwquality's configuration the way pam_pwquality
// sees it: the *.conf files in /etc/security/pwquality.conf.d in byte order,
// then /etc/security/pwquality.conf (so the main file has the last word),
// then the arguments on the pam_pwquality line, which override both.
package pwquality

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"
	"syscall"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/pam"
)

// Paths libpwquality reads.
const (
	ConfPath = "/etc/security/pwquality.conf"
	ConfDir  = ConfPath + ".d"
)

type kind int

const (
	kindInt kind = iota + 1
	kindString
	// kindFlag settings are switched on by their presence; a value is
	// ignored.
	kindFlag
)

type spec struct {
	kind kind
	dflt string
}

// specs are the settings libpwquality 1.4 accepts and their built-in
// defaults; any other name stops libpwquality reading its configuration.
var specs = map[string]spec{
	"difok":            {kindInt, "1"},
	"minlen":           {kindInt, "8"},
	"dcredit":          {kindInt, "0"},
	"ucredit":          {kindInt, "0"},
	"lcredit":          {kindInt, "0"},
	"ocredit":          {kindInt, "0"},
	"minclass":         {kindInt, "0"},
	"maxrepeat":        {kindInt, "0"},
	"maxclassrepeat":   {kindInt, "0"},
	"maxsequence":      {kindInt, "0"},
	"gecoscheck":       {kindInt, "0"},
	"dictcheck":        {kindInt, "1"},
	"usercheck":        {kindInt, "1"},
	"usersubstr":       {kindInt, "0"},
	"enforcing":        {kindInt, "1"},
	"retry":            {kindInt, "1"},
	"badwords":         {kindString, ""},
	"dictpath":         {kindString, ""},
	"enforce_for_root": {kindFlag, ""},
	"local_users_only": {kindFlag, ""},
}

// Setting is one setting and where it was set. Path is empty for a
// built-in default.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Path  string `json:"path,omitempty"`
	Line  int    `json:"line,omitempty"`
}

// IsDefault reports whether the setting is libpwquality's built-in default
// rather than configured.
func (s Setting) IsDefault() bool { return s.Path == "" }

// Source renders where the setting came from: "path:line" or "built-in
// default".
func (s Setting) Source() string {
	if s.IsDefault() {
		return "built-in default"
	}
	return s.Path + ":" + strconv.Itoa(s.Line)
}

// maxLine is the longest line libpwquality reads (PWQSETTINGS_MAX_LINELEN).
const maxLine = 1023

// Parse parses one pwquality.conf file: "name = value" or "name value",
// "#" to the end of the line is a comment, names are case-insensitive and
// returned in lower case. Like libpwquality it rejects an unknown name and
// an integer setting whose value is not an integer.
func Parse(path string, data []byte) ([]Setting, error) {
	var out []Setting
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		if len(line) >= maxLine {
			return nil, fmt.Errorf("%s:%d: line of %d bytes or more; libpwquality rejects the file", path, n, maxLine)
		}
		if c := strings.IndexByte(line, '#'); c >= 0 {
			line = line[:c]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value := line, ""
		if end := strings.IndexAny(line, " \t\r\v\f="); end >= 0 {
			name, value = line[:end], line[end:]
			value = strings.TrimLeft(value, " \t\r\v\f")
			value = strings.TrimPrefix(value, "=")
			value = strings.TrimLeft(value, " \t\r\v\f")
		}
		s := Setting{Name: strings.ToLower(name), Value: value, Path: path, Line: n}
		if err := validate(s); err != nil {
			return nil, fmt.Errorf("%s:%d: %w; libpwquality stops reading its configuration here", path, n, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func validate(s Setting) error {
	sp, ok := specs[s.Name]
	if !ok {
		return fmt.Errorf("unknown setting %q", s.Name)
	}
	if sp.kind == kindInt {
		if _, err := atoi(s.Value); err != nil {
			return fmt.Errorf("%s: %q is not an integer", s.Name, s.Value)
		}
	}
	return nil
}

// atoi parses like libpwquality: strtol base 10, the whole value, within
// int range.
func atoi(v string) (int, error) {
	t := strings.TrimLeft(v, " \t\n\r\v\f")
	if t == "" {
		return 0, errors.New("empty")
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, errors.New("not an integer")
	}
	if n >= math.MaxInt32 || n <= math.MinInt32 {
		return 0, errors.New("out of range")
	}
	return int(n), nil
}

// Config is the effective configuration: every file read, later settings
// overriding earlier ones.
type Config struct {
	// Files lists the files read, in reading order.
	Files    []string
	settings map[string]Setting
}

// Lookup returns the configured setting, if any.
func (c *Config) Lookup(name string) (Setting, bool) {
	s, ok := c.settings[name]
	return s, ok
}

// Int returns an integer setting's effective value (as libpwquality clamps
// it: minlen at least 6, minclass at most 4) and the setting it came from,
// the built-in default when unset.
func (c *Config) Int(name string) (int, Setting) {
	s, ok := c.settings[name]
	if !ok {
		s = Setting{Name: name, Value: specs[name].dflt}
	}
	n, err := atoi(s.Value)
	if err != nil {
		// Unreachable for names in specs: values are validated on entry.
		panic(fmt.Sprintf("pwquality: %s: %v", name, err))
	}
	switch name {
	case "minlen":
		n = max(n, 6)
	case "minclass":
		n = min(n, 4)
	}
	return n, s
}

// Flag reports whether a flag setting such as enforce_for_root is on, and
// where it was set.
func (c *Config) Flag(name string) (bool, Setting) {
	s, ok := c.settings[name]
	if !ok {
		return false, Setting{Name: name}
	}
	return true, s
}

func (c *Config) set(s Setting) { c.settings[s.Name] = s }

// pamOnlyArgs are pam_pwquality arguments that configure the PAM module
// itself rather than libpwquality, matched by prefix as pam_pwquality does.
var pamOnlyArgs = []string{"debug", "type=", "difignore=", "reject_username", "authtok_type", "use_authtok", "use_first_pass", "try_first_pass"}

// WithArgs returns the configuration pam_pwquality uses for the rule: c
// overridden by the rule's arguments, each sourced at the rule's line. As
// pam_pwquality does, arguments that are not settings are ignored; an integer
// setting with a non-integer value is an error.
func (c *Config) WithArgs(r pam.Rule) (*Config, error) {
	out := &Config{Files: c.Files, settings: make(map[string]Setting, len(c.settings)+len(r.Args))}
	for k, v := range c.settings {
		out.settings[k] = v
	}
	for _, a := range r.Args {
		raw := a.String()
		if hasAnyPrefix(raw, pamOnlyArgs) {
			continue
		}
		s := Setting{Name: strings.ToLower(a.Name), Value: a.Value, Path: r.Pos.File, Line: r.Pos.Line}
		switch {
		case strings.HasPrefix(raw, "enforce_for_root"):
			s = Setting{Name: "enforce_for_root", Path: r.Pos.File, Line: r.Pos.Line}
		case strings.HasPrefix(raw, "local_users_only"):
			s = Setting{Name: "local_users_only", Path: r.Pos.File, Line: r.Pos.Line}
		case strings.HasPrefix(raw, "retry="):
			// pam_pwquality falls back to 1 for a bad or non-positive
			// retry count rather than failing.
			if n, err := atoi(a.Value); err != nil || n < 1 {
				s.Value = "1"
			}
		}
		sp, known := specs[s.Name]
		if !known {
			continue
		}
		if sp.kind == kindInt {
			if _, err := atoi(s.Value); err != nil {
				return nil, fmt.Errorf("%s: pam_pwquality argument %q: %s is not an integer", r.Pos, raw, s.Name)
			}
		}
		out.set(s)
	}
	return out, nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// Load reads the configuration files libpwquality reads, once per scan. A
// missing main file or directory is not an error (libpwquality then uses
// its defaults); an unreadable one is, since libpwquality running as root
// could read it and the scanner cannot say what it found.
func Load(ctx context.Context, h checks.Host) (*Config, error) {
	return checks.Memoized(h, "parse/pwquality", func() (*Config, error) {
		c := &Config{settings: map[string]Setting{}}
		entries, err := h.ReadDir(ctx, ConfDir)
		if err != nil && !isAbsent(err) {
			return nil, fmt.Errorf("read %s: %w", ConfDir, err)
		}
		for _, e := range entries {
			if !isConfName(e.Name) {
				continue
			}
			p := path.Join(ConfDir, e.Name)
			if fi, err := h.Stat(ctx, p); err != nil || fi.IsDir() {
				// libpwquality silently skips what it cannot open
				// (a dangling link) and reads nothing from a directory.
				if err != nil && !isAbsent(err) {
					return nil, fmt.Errorf("stat %s: %w", p, err)
				}
				continue
			}
			if err := c.readFile(ctx, h, p); err != nil {
				return nil, err
			}
		}
		if err := c.readFile(ctx, h, ConfPath); err != nil && !isAbsent(err) {
			return nil, err
		}
		return c, nil
	})
}

func (c *Config) readFile(ctx context.Context, h checks.Host, p string) error {
	data, err := h.ReadFile(ctx, p)
	if err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	settings, err := Parse(p, data)
	if err != nil {
		return err
	}
	c.Files = append(c.Files, p)
	for _, s := range settings {
		c.set(s)
	}
	return nil
}

// isAbsent reports a file or directory that is not there, including a path
// through a regular file (ENOTDIR).
func isAbsent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// isConfName reports whether libpwquality reads a file of this name from
// the .d directory: the first ".conf" in the name must end it.
func isConfName(name string) bool {
	i := strings.Index(name, ".conf")
	return i >= 0 && i == len(name)-len(".conf")
}
