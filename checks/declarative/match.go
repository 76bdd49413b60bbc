package declarative

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/plumbline/plumbline/checks"
)

// kind is the type of a probe field.
type kind int

const (
	kString kind = iota + 1
	kInt
	kBool
	kList
	kMode
	kVersion
)

func (k kind) String() string {
	switch k {
	case kString:
		return "string"
	case kInt:
		return "integer"
	case kBool:
		return "boolean"
	case kList:
		return "list"
	case kMode:
		return "octal mode"
	case kVersion:
		return "version"
	}
	return "unknown"
}

// value is one observed field. Exactly one of the typed members is used,
// according to the field's kind.
type value struct {
	s    string
	n    int64
	b    bool
	list []string
	mode uint32
	// cmp compares package versions (dpkg or rpm rules).
	cmp func(a, b string) int
}

func strV(s string) value     { return value{s: s} }
func intV(n int64) value      { return value{n: n} }
func boolV(b bool) value      { return value{b: b} }
func listV(l []string) value  { return value{list: l} }
func modeV(m uint32) value    { return value{mode: m} }
func fmtMode(m uint32) string { return fmt.Sprintf("%04o", m) }

// raw is the value as matchers see it: text without display quoting.
func (v value) raw(k kind) string {
	if k == kString || k == kVersion {
		return v.s
	}
	return v.text(k)
}

func (v value) text(k kind) string {
	switch k {
	case kInt:
		return strconv.FormatInt(v.n, 10)
	case kBool:
		return strconv.FormatBool(v.b)
	case kList:
		if len(v.list) == 0 {
			return "(none)"
		}
		return strings.Join(v.list, ",")
	case kMode:
		return fmtMode(v.mode)
	}
	if v.s == "" {
		return `""`
	}
	return v.s
}

// The matcher operators.
var matchOps = []string{"eq", "ne", "lt", "le", "gt", "ge", "regex", "not_regex", "contains", "not_contains", "one_of", "mode_at_most"}

// matcher is one comparison of a field with an expected value.
type matcher struct {
	op string
	// arg is the expected value as written (a string, or a list for
	// one_of); param, when set, names the check parameter giving it, and
	// field another field of the same observation.
	arg   string
	args  []string
	param string
	field string
	// fieldKind is the kind of field.
	fieldKind kind
	re        *lazyRegex
	line      int
}

// expected renders the expectation for evidence, with parameters resolved.
func (m matcher) expected(p checks.Params) string {
	arg, args := m.resolve(p)
	if m.field != "" {
		arg = "its " + m.field
	}
	switch m.op {
	case "eq":
		return arg
	case "ne":
		return "not " + arg
	case "lt":
		return "< " + arg
	case "le":
		return "≤ " + arg
	case "gt":
		return "> " + arg
	case "ge":
		return "≥ " + arg
	case "regex":
		return "matches /" + arg + "/"
	case "not_regex":
		return "does not match /" + arg + "/"
	case "contains":
		return "contains " + arg
	case "not_contains":
		return "does not contain " + arg
	case "one_of":
		return "one of " + strings.Join(args, ", ")
	case "mode_at_most":
		return "mode " + arg + " or stricter"
	}
	return m.op + " " + arg
}

// resolve returns the expected value, from the parameter if the matcher
// names one.
func (m matcher) resolve(p checks.Params) (string, []string) {
	if m.param == "" {
		return m.arg, m.args
	}
	switch v := p[m.param].(type) {
	case []string:
		return strings.Join(v, ","), v
	case nil:
		return "", nil
	default:
		s := fmt.Sprint(v)
		return s, []string{s}
	}
}

// match reports whether the observed value satisfies the matcher.
func (m matcher) match(k kind, v value, p checks.Params) (bool, error) {
	arg, args := m.resolve(p)
	switch m.op {
	case "eq":
		return equal(k, v, arg)
	case "ne":
		eq, err := equal(k, v, arg)
		return !eq, err
	case "one_of":
		for _, a := range args {
			if eq, err := equal(k, v, a); err != nil || eq {
				return eq, err
			}
		}
		return false, nil
	case "lt", "le", "gt", "ge":
		c, err := order(k, v, arg)
		if err != nil {
			return false, err
		}
		switch m.op {
		case "lt":
			return c < 0, nil
		case "le":
			return c <= 0, nil
		case "gt":
			return c > 0, nil
		}
		return c >= 0, nil
	case "regex", "not_regex":
		var re *regexp.Regexp
		var err error
		if m.re != nil {
			re, err = m.re.get()
		} else {
			re, err = regexp.Compile(arg)
		}
		if err != nil {
			return false, fmt.Errorf("regex %s: %w", m.param, err)
		}
		if k == kList {
			return slices.ContainsFunc(v.list, re.MatchString) == (m.op == "regex"), nil
		}
		return re.MatchString(v.raw(k)) == (m.op == "regex"), nil
	case "contains", "not_contains":
		var has bool
		if k == kList {
			has = slices.Contains(v.list, arg)
		} else {
			has = strings.Contains(v.raw(k), arg)
		}
		return has == (m.op == "contains"), nil
	case "mode_at_most":
		limit, err := parseMode(arg)
		if err != nil {
			return false, err
		}
		return v.mode&^limit == 0, nil
	}
	return false, fmt.Errorf("unknown matcher %q", m.op)
}

// equal compares by the field's kind; strings that both read as integers
// compare as numbers, so sysctl "1" equals 1 and "01".
func equal(k kind, v value, arg string) (bool, error) {
	switch k {
	case kInt:
		n, err := strconv.ParseInt(strings.TrimSpace(arg), 0, 64)
		if err != nil {
			return false, fmt.Errorf("%q is not an integer", arg)
		}
		return v.n == n, nil
	case kBool:
		b, err := parseBool(arg)
		if err != nil {
			return false, err
		}
		return v.b == b, nil
	case kMode:
		m, err := parseMode(arg)
		if err != nil {
			return false, err
		}
		return v.mode == m, nil
	case kVersion:
		return v.cmp != nil && v.cmp(v.s, arg) == 0, nil
	case kList:
		return strings.Join(v.list, ",") == arg, nil
	}
	a, aerr := strconv.ParseInt(strings.TrimSpace(v.s), 10, 64)
	b, berr := strconv.ParseInt(strings.TrimSpace(arg), 10, 64)
	if aerr == nil && berr == nil {
		return a == b, nil
	}
	return v.s == arg, nil
}

// errNotNumber marks an observed value that an ordering matcher cannot
// compare: the check fails on it (the value is wrong), it is not an error.
type errNotNumber struct{ s string }

func (e errNotNumber) Error() string { return fmt.Sprintf("%q is not a number", e.s) }

func order(k kind, v value, arg string) (int, error) {
	if k == kVersion {
		if v.cmp == nil {
			return 0, fmt.Errorf("no version comparison for this package database")
		}
		return v.cmp(v.s, arg), nil
	}
	b, err := strconv.ParseInt(strings.TrimSpace(arg), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", arg)
	}
	a := v.n
	if k != kInt {
		s := strings.TrimSpace(v.raw(k))
		if a, err = strconv.ParseInt(s, 10, 64); err != nil {
			return 0, errNotNumber{s}
		}
	}
	switch {
	case a < b:
		return -1, nil
	case a > b:
		return 1, nil
	}
	return 0, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes":
		return true, nil
	case "false", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (want true or false)", s)
}

func parseMode(s string) (uint32, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, fmt.Errorf("%q is not an octal mode such as \"0640\"", s)
	}
	return uint32(m), nil
}
