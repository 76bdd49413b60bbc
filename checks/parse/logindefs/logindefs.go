// Package logindefs parses the shadow-utils configuration files that set
// password ageing and hashing defaults: /etc/login.defs ("NAME value") and
// /etc/default/useradd ("NAME=value"), reading them as shadow-utils does.
package logindefs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/plumbline/plumbline/checks"
)

// Paths of the files this package reads.
const (
	LoginDefsPath = "/etc/login.defs"
	UseraddPath   = "/etc/default/useradd"
)

// Setting is one effective setting and the line that set it.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Path  string `json:"path"`
	Line  int    `json:"line"`
}

// File is a parsed configuration file: the last occurrence of each name wins,
// as it does in shadow-utils.
type File struct {
	Path     string
	settings map[string]Setting
}

// Get returns the effective setting for name (names are case-sensitive).
func (f *File) Get(name string) (Setting, bool) {
	s, ok := f.settings[name]
	return s, ok
}

// Len returns the number of distinct settings.
func (f *File) Len() int { return len(f.settings) }

// Parse parses login.defs content as shadow-utils' getdef.c does: blank and
// "#" lines are skipped, the name is the first word, and the value is the
// rest of the line with leading blanks and quotes skipped and cut at the next
// quote. A comment after a value is part of the value (shadow-utils then
// fails to read it as a number). A name without a value is ignored.
func Parse(path string, data []byte) *File {
	f := &File{Path: path, settings: map[string]Setting{}}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, " \t\r\n\v\f")
		name := strings.TrimLeft(line, " \t")
		if name == "" || name[0] == '#' {
			continue
		}
		end := strings.IndexAny(name, " \t")
		if end < 0 {
			continue
		}
		value := strings.TrimLeft(name[end:], " \t\"")
		if q := strings.IndexByte(value, '"'); q >= 0 {
			value = value[:q]
		}
		name = name[:end]
		f.settings[name] = Setting{Name: name, Value: value, Path: path, Line: i + 1}
	}
	return f
}

// ParseUseradd parses /etc/default/useradd as useradd does: a line is
// "NAME=value" with nothing trimmed, so "INACTIVE = 30" or an indented line
// sets nothing, and lines without "=" (including comments) are skipped.
func ParseUseradd(path string, data []byte) *File {
	f := &File{Path: path, settings: map[string]Setting{}}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		name, value, ok := strings.Cut(line, "=")
		if !ok || name == "" || strings.HasPrefix(name, "#") {
			continue
		}
		f.settings[name] = Setting{Name: name, Value: value, Path: path, Line: i + 1}
	}
	return f
}

// LoadLoginDefs reads and parses /etc/login.defs once per scan. A missing
// file is returned as an error matching fs.ErrNotExist.
func LoadLoginDefs(ctx context.Context, h checks.Host) (*File, error) {
	return checks.Memoized(h, "parse/logindefs:"+LoginDefsPath, func() (*File, error) {
		data, err := h.ReadFile(ctx, LoginDefsPath)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", LoginDefsPath, err)
		}
		return Parse(LoginDefsPath, data), nil
	})
}

// LoadUseradd reads and parses /etc/default/useradd once per scan. A missing
// file is returned as an error matching fs.ErrNotExist.
func LoadUseradd(ctx context.Context, h checks.Host) (*File, error) {
	return checks.Memoized(h, "parse/logindefs:"+UseraddPath, func() (*File, error) {
		data, err := h.ReadFile(ctx, UseraddPath)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", UseraddPath, err)
		}
		return ParseUseradd(UseraddPath, data), nil
	})
}

// Int reads the value as shadow-utils' getdef_num does: strtol with base 0
// (so "0x1f" is hex and "010" is octal), the whole value must be a number,
// and it must lie between -1 and the largest int32. shadow-utils ignores a
// value that fails this and uses its built-in default.
func (s Setting) Int() (int, error) {
	n, err := strtol(s.Value)
	if err != nil {
		return 0, fmt.Errorf("%s:%d: %s %q: %w", s.Path, s.Line, s.Name, s.Value, err)
	}
	if n < -1 || n > math.MaxInt32 {
		return 0, fmt.Errorf("%s:%d: %s %q: %w (want -1..%d)", s.Path, s.Line, s.Name, s.Value, errRange, math.MaxInt32)
	}
	return int(n), nil
}

var (
	errNotNumber = errors.New("not a number")
	errRange     = errors.New("out of range")
)

// strtol parses like C strtol(s, &end, 0) with *end required to be NUL:
// leading white space, an optional sign, then hex (0x), octal (leading 0) or
// decimal digits.
func strtol(s string) (int64, error) {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := int64(10)
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if s == "" {
		return 0, errNotNumber
	}
	var n int64
	for _, c := range []byte(s) {
		var d int64
		switch {
		case c >= '0' && c <= '9':
			d = int64(c - '0')
		case c >= 'a' && c <= 'f':
			d = int64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = int64(c-'A') + 10
		default:
			return 0, errNotNumber
		}
		if d >= base {
			return 0, errNotNumber
		}
		n = n*base + d
		if n > math.MaxInt32+1 {
			return 0, errRange
		}
	}
	if neg {
		n = -n
	}
	return n, nil
}
