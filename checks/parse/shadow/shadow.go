// Package shadow parses /etc/shadow: one account per line,
// name:password:lastchg:min:max:warn:inactive:expire:reserved, with empty
// numeric fields meaning "not set".
package shadow

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/plumbline/plumbline/checks"
)

// Path is the shadow password file.
const Path = "/etc/shadow"

// Unset is the value of an empty numeric field.
const Unset = -1

// Entry is one account's shadow record. Numeric fields are days (lastchg
// and expire are days since 1970-01-01) or Unset.
type Entry struct {
	Name       string `json:"name"`
	Password   string `json:"-"`
	LastChange int    `json:"lastchg"`
	Min        int    `json:"min"`
	Max        int    `json:"max"`
	Warn       int    `json:"warn"`
	Inactive   int    `json:"inactive"`
	Expire     int    `json:"expire"`
	Line       int    `json:"line"`
}

// State classifies an account's password field.
type State int

// The password states. Only StateHash can be used to log in by password;
// StateEmpty may allow login without one, depending on PAM's nullok.
const (
	StateEmpty State = iota + 1
	// StateLocked: the field starts with "!" (passwd -l, usermod -L, or
	// "!!" / "!*" for an account whose password was never set).
	StateLocked
	// StateNoLogin: "*" or any other value that is not a crypt(3) hash, so
	// no password can match.
	StateNoLogin
	// StateHash: a crypt(3) hash ("$id$..." or a 13-character DES hash).
	StateHash
)

var stateNames = map[State]string{
	StateEmpty:   "empty",
	StateLocked:  "locked",
	StateNoLogin: "no login",
	StateHash:    "password set",
}

// String names the state for evidence ("locked").
func (s State) String() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// State classifies the password field.
func (e Entry) State() State {
	p := e.Password
	switch {
	case p == "":
		return StateEmpty
	case strings.HasPrefix(p, "!"):
		return StateLocked
	case strings.HasPrefix(p, "$") && strings.Count(p, "$") >= 2:
		return StateHash
	case isDESHash(p):
		return StateHash
	}
	return StateNoLogin
}

func isDESHash(p string) bool {
	if len(p) != 13 {
		return false
	}
	for _, c := range []byte(p) {
		if !(c == '.' || c == '/' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// HashMethod names the crypt(3) method of a StateHash password ("yescrypt",
// "sha512", "md5", "des", ...), or "" for other states. A locked password
// ("!" prefix) reports the method of the hash behind the "!".
func (e Entry) HashMethod() string {
	p := strings.TrimLeft(e.Password, "!")
	if p == "" || p[0] != '$' {
		if isDESHash(p) {
			return "des"
		}
		return ""
	}
	id, _, _ := strings.Cut(p[1:], "$")
	switch id {
	case "y":
		return "yescrypt"
	case "gy":
		return "gost-yescrypt"
	case "7":
		return "scrypt"
	case "2a", "2b", "2x", "2y":
		return "bcrypt"
	case "6":
		return "sha512"
	case "5":
		return "sha256"
	case "sha1":
		return "sha1"
	case "md5":
		return "sunmd5"
	case "1":
		return "md5"
	}
	return "unknown ($" + id + "$)"
}

// Date converts a day count (LastChange, Expire) to a UTC date.
func Date(days int) time.Time {
	return time.Unix(int64(days)*86400, 0).UTC()
}

// File is a parsed shadow file.
type File struct {
	Path    string
	Entries []Entry
}

// Lookup returns the first entry for name, as getspnam(3) does.
func (f *File) Lookup(name string) (Entry, bool) {
	for _, e := range f.Entries {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// Parse parses shadow content. Blank lines and "#" comments are skipped, as
// are NIS compat lines ("+" or "-" first), which name no local password. A
// line must have nine fields (or five, the old format); a numeric field must
// be empty or a decimal number. Anything else is an error naming the line,
// since the account's policy cannot be known.
func Parse(path string, data []byte) (*File, error) {
	f := &File{Path: path}
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSuffix(line, "\r")
		trimmed := strings.TrimLeft(line, " \t")
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == '+' || trimmed[0] == '-' {
			continue
		}
		fields := strings.Split(line, ":")
		if len(fields) != 9 && len(fields) != 5 {
			return nil, fmt.Errorf("%s:%d: %d fields, want 9 (name:password:lastchg:min:max:warn:inactive:expire:reserved)", path, n, len(fields))
		}
		if fields[0] == "" {
			return nil, fmt.Errorf("%s:%d: empty user name", path, n)
		}
		for len(fields) < 9 {
			fields = append(fields, "")
		}
		e := Entry{Name: fields[0], Password: fields[1], Line: n}
		nums := []*int{&e.LastChange, &e.Min, &e.Max, &e.Warn, &e.Inactive, &e.Expire}
		names := []string{"lastchg", "min", "max", "warn", "inactive", "expire"}
		for j, dst := range nums {
			v := fields[j+2]
			if v == "" {
				*dst = Unset
				continue
			}
			x, err := strconv.Atoi(v)
			if err != nil || strings.HasPrefix(v, "+") {
				return nil, fmt.Errorf("%s:%d: user %s: %s %q is not a number", path, n, e.Name, names[j], v)
			}
			*dst = x
		}
		f.Entries = append(f.Entries, e)
	}
	return f, nil
}

// Load reads and parses /etc/shadow once per scan. A missing file is
// returned as an error matching fs.ErrNotExist.
func Load(ctx context.Context, h checks.Host) (*File, error) {
	return checks.Memoized(h, "parse/shadow:"+Path, func() (*File, error) {
		data, err := h.ReadFile(ctx, Path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", Path, err)
		}
		return Parse(Path, data)
	})
}
