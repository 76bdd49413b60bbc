// Package fstab parses fstab(5) and the kernel's /proc/mounts, which share
// one line format: spec, mount point, type, options, dump frequency and fsck
// pass, separated by blanks, with blanks inside a field written as octal
// escapes ("\040").
package fstab

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/plumbline/plumbline/checks"
)

// Entry is one line of fstab or /proc/mounts.
type Entry struct {
	// Spec is the device or remote filesystem, unescaped: "/dev/vda1",
	// "UUID=...", "server:/export", "tmpfs".
	Spec string `json:"spec"`
	// File is the mount point, unescaped.
	File    string `json:"file"`
	VfsType string `json:"vfstype"`
	// Options are the comma-separated mount options as written; fstab
	// lines without options get "defaults", as mount(8) assumes.
	Options []string `json:"options"`
	Freq    int      `json:"freq"`
	PassNo  int      `json:"passno"`
	// Line is the 1-based line number in the file.
	Line int `json:"line"`
}

// HasOption reports whether the flag option name (e.g. "noauto") or an
// option name=value is present.
func (e Entry) HasOption(name string) bool {
	_, ok := e.Option(name)
	return ok
}

// Option returns the value of option name ("" for a flag); when an option
// is repeated the last one wins, as with mount(8).
func (e Entry) Option(name string) (string, bool) {
	val, found := "", false
	for _, o := range e.Options {
		k, v, _ := strings.Cut(o, "=")
		if k == name {
			val, found = v, true
		}
	}
	return val, found
}

// Read reads and parses the file at path on h once per scan; the same
// parser serves /etc/fstab and /proc/mounts.
func Read(ctx context.Context, h checks.Host, path string) ([]Entry, error) {
	return checks.Memoized(h, "fstab.Read "+path, func() ([]Entry, error) {
		data, err := h.ReadFile(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		return Parse(path, data)
	})
}

// Parse parses fstab-format data; path is used in errors. Blank lines and
// lines starting with '#' are skipped. Fields three to six are optional as
// in libmount: options default to "defaults", freq and passno to 0.
func Parse(path string, data []byte) ([]Entry, error) {
	var out []Entry
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			return nil, &checks.SyntaxError{Path: path, Line: n, Msg: fmt.Sprintf("want at least spec, mount point and type, got %d field(s)", len(fields))}
		}
		if len(fields) > 6 {
			return nil, &checks.SyntaxError{Path: path, Line: n, Msg: fmt.Sprintf("want at most 6 fields, got %d", len(fields))}
		}
		e := Entry{Line: n, Options: []string{"defaults"}}
		for j, f := range fields {
			v, err := Unescape(f)
			if err != nil {
				return nil, &checks.SyntaxError{Path: path, Line: n, Msg: fmt.Sprintf("field %d: %v", j+1, err)}
			}
			fields[j] = v
		}
		e.Spec, e.File, e.VfsType = fields[0], fields[1], fields[2]
		if len(fields) > 3 {
			e.Options = strings.Split(fields[3], ",")
		}
		for j, dst := range []*int{&e.Freq, &e.PassNo} {
			if len(fields) <= 4+j {
				break
			}
			v, err := strconv.Atoi(fields[4+j])
			if err != nil || v < 0 {
				return nil, &checks.SyntaxError{Path: path, Line: n, Msg: fmt.Sprintf("field %d: want a number, got %q", 5+j, fields[4+j])}
			}
			*dst = v
		}
		out = append(out, e)
	}
	return out, nil
}

// Unescape decodes the octal escapes ("\040" for a space, "\134" for a
// backslash) that the kernel and fstab use for blanks inside a field. A
// backslash not followed by three octal digits is kept as it is, as libmount
// does.
func Unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			if s[i+1] > '3' {
				return "", fmt.Errorf("octal escape %q is above \\377", s[i:i+4])
			}
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
