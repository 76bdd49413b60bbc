// Package osrelease reads os-release(5): which distribution and version a
// host runs, which selects its built-in baseline.
package osrelease

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/plumbline/plumbline/checks"
)

// Info is the subset of os-release that plumbline uses.
type Info struct {
	ID         string   `json:"id"`
	IDLike     []string `json:"id_like,omitempty"`
	VersionID  string   `json:"version_id"`
	PrettyName string   `json:"pretty_name"`
	// Path is the file the values came from.
	Path string `json:"path"`
}

// Platform returns "id:version_id", the key built-in baselines and CIS
// references use ("debian:12", "ubuntu:22.04", "rhel:9").
func (i Info) Platform() string { return i.ID + ":" + i.VersionID }

// MajorVersion returns VERSION_ID up to the first dot ("9.4" -> "9").
func (i Info) MajorVersion() string {
	major, _, _ := strings.Cut(i.VersionID, ".")
	return major
}

// Read reads /etc/os-release, falling back to /usr/lib/os-release as
// os-release(5) prescribes.
func Read(ctx context.Context, h checks.Host) (Info, error) {
	return checks.Memoized(h, "osrelease", func() (Info, error) {
		var firstErr error
		for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
			data, err := h.ReadFile(ctx, p)
			if err != nil {
				if firstErr == nil || !errors.Is(err, fs.ErrNotExist) {
					firstErr = err
				}
				continue
			}
			return Parse(p, data)
		}
		return Info{}, fmt.Errorf("read os-release: %w", firstErr)
	})
}

// Parse parses os-release content; path is used in error messages.
func Parse(path string, data []byte) (Info, error) {
	info := Info{Path: path}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, raw, ok := strings.Cut(line, "=")
		if !ok {
			return Info{}, fmt.Errorf("%s:%d: want KEY=value, got %q", path, n+1, line)
		}
		val, err := unquote(raw)
		if err != nil {
			return Info{}, fmt.Errorf("%s:%d: %s: %w", path, n+1, key, err)
		}
		switch key {
		case "ID":
			info.ID = strings.ToLower(val)
		case "ID_LIKE":
			info.IDLike = strings.Fields(strings.ToLower(val))
		case "VERSION_ID":
			info.VersionID = val
		case "PRETTY_NAME":
			info.PrettyName = val
		}
	}
	if info.ID == "" {
		// os-release(5): "If not set, a default of ID=linux may be used."
		info.ID = "linux"
	}
	return info, nil
}

func unquote(s string) (string, error) {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') {
		if s[len(s)-1] != s[0] {
			return "", fmt.Errorf("unterminated quote in %s", s)
		}
		if s[0] == '\'' {
			return s[1 : len(s)-1], nil
		}
		v, err := strconv.Unquote(s)
		if err != nil {
			// Shell double quotes allow sequences Go's syntax does not
			// (e.g. "\$"); fall back to stripping backslashes.
			return strings.ReplaceAll(s[1:len(s)-1], `\`, ""), nil
		}
		return v, nil
	}
	return s, nil
}
