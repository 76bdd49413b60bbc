package settings

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

const (
	durationWant = `a duration such as "500ms", "90s", "5m" or "1h"`
	sizeWant     = `a size such as 1048576, "512KiB", "64MiB" or "1GB"`
)

// ParseDuration reads a settings duration: Go's duration syntax ("90s",
// "1h30m"), or 0. Negative durations are refused: no setting means
// "before now".
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("want %s, got %q", durationWant, s)
	}
	if d < 0 {
		return 0, fmt.Errorf("want %s, got the negative %q", durationWant, s)
	}
	return d, nil
}

// FormatDuration writes d as a person would: "1h", "5m", "1m30s",
// "500ms", rather than time.Duration's "1h0m0s". ParseDuration reads it
// back unchanged.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	if d < 0 || d%time.Millisecond != 0 {
		return d.String()
	}
	var b strings.Builder
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if n := d / u.unit; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.unit
		}
	}
	return b.String()
}

// Size is a number of bytes. In a settings file or variable it is a whole
// number of bytes or a number with a unit: KiB, MiB, GiB, TiB (powers of
// 1024) or KB, MB, GB, TB (powers of 1000); units ignore case.
type Size int64

var sizeUnits = []struct {
	name string
	n    int64
}{
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3},
	{"B", 1},
}

// ParseSize reads a Size; see Size for the syntax.
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	digits := len(t) - len(strings.TrimLeft(t, "0123456789"))
	num, unit := t[:digits], strings.TrimSpace(t[digits:])
	if num == "" {
		return 0, fmt.Errorf("want %s, got %q", sizeWant, s)
	}
	mult := int64(0)
	if unit == "" {
		mult = 1
	}
	for _, u := range sizeUnits {
		if strings.EqualFold(unit, u.name) {
			mult = u.n
		}
	}
	if mult == 0 {
		return 0, fmt.Errorf("want %s, got %q (units: B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)", sizeWant, s)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return Size(n * mult), nil
}

// String writes s in the largest unit that divides it exactly ("64MiB"),
// or as plain bytes; ParseSize reads it back unchanged.
func (s Size) String() string {
	if s > 0 {
		for _, u := range sizeUnits[:len(sizeUnits)-1] {
			if int64(s)%u.n == 0 {
				return fmt.Sprintf("%d%s", int64(s)/u.n, u.name)
			}
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// MarshalText implements encoding.TextMarshaler.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// UnmarshalYAML lets a Size be decoded by plain yaml.Unmarshal too, from an
// integer or a string with a unit.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return fmt.Errorf("line %d: want %s", n.Line, sizeWant)
	}
	return s.UnmarshalText([]byte(n.Value))
}

// Log is the "log" section both the agent and the server have.
type Log struct {
	Level  string `yaml:"level" doc:"least severe messages logged: debug, info, warn or error"`
	Format string `yaml:"format" doc:"text (logfmt-like key=value lines) or json (one object per line)"`
}

// DefaultLog is info-level text.
func DefaultLog() Log { return Log{Level: "info", Format: "text"} }

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}

// Validate adds l's problems to errs, keyed under section ("log").
func (l Log) Validate(errs *Errors, section string) {
	if _, ok := logLevels[l.Level]; !ok {
		errs.Addf(section+".level", "want debug, info, warn or error, got %q", l.Level)
	}
	if l.Format != "text" && l.Format != "json" {
		errs.Addf(section+".format", "want text or json, got %q", l.Format)
	}
}

// Handler returns the slog handler l describes, writing to w. An invalid
// level means info and an invalid format text; Validate reports both.
func (l Log) Handler(w io.Writer) slog.Handler {
	level, ok := logLevels[l.Level]
	if !ok {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if l.Format == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// CheckURLs reports the first problem with a comma-separated list of URLs
// (as NATS clients take them); see CheckURL.
func CheckURLs(list string, schemes ...string) error {
	if strings.TrimSpace(list) == "" {
		return errors.New("want at least one URL")
	}
	for _, s := range strings.Split(list, ",") {
		if err := CheckURL(strings.TrimSpace(s), schemes...); err != nil {
			return err
		}
	}
	return nil
}

// CheckURL reports a problem with one URL: it needs one of schemes and a
// host.
func CheckURL(s string, schemes ...string) error {
	scheme, _, ok := strings.Cut(s, "://")
	if !ok || !slices.Contains(schemes, scheme) {
		return fmt.Errorf("%q: want a URL starting with %s://", s, strings.Join(schemes, ":// or "))
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL", s)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%q: the URL has no host", s)
	}
	if !hostRE.MatchString(host) {
		// url.Parse takes "http://a,http://b" as host "a,http".
		return fmt.Errorf("%q: %q is not a host name or address", s, host)
	}
	return nil
}

var hostRE = regexp.MustCompile(`^[A-Za-z0-9._:%-]+$`)

// CheckHostPort reports a problem with a listen address: "host:port" or
// ":port", with a port from 0 to 65535 (0 picks a free one).
func CheckHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port such as 127.0.0.1:8080, got %q", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n > 65535 {
		return fmt.Errorf("port %q of %q: want a number from 0 to 65535", port, addr)
	}
	return nil
}
