package declarative

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
)

// lazyRegex is a regular expression checked when a file is loaded and
// compiled the first time a scan needs it. Compiling every expression of
// the built-in content at start was a third of the agent's start-up; many
// are never used on a given host (their check does not apply), and equal
// expressions share one compiled program.
type lazyRegex struct {
	expr    string
	compile func() (*regexp.Regexp, error)
}

var regexCache sync.Map // expr → func() (*regexp.Regexp, error)

// newRegex returns expr for compiling on first use; with validate it first
// checks the syntax (every error regexp.Compile would give). Only content
// whose every expression a test compiles may skip the check.
func newRegex(expr string, validate bool) (*lazyRegex, error) {
	if validate {
		if _, err := syntax.Parse(expr, syntax.Perl); err != nil {
			return nil, err
		}
	}
	c, _ := regexCache.LoadOrStore(expr, sync.OnceValues(func() (*regexp.Regexp, error) { return regexp.Compile(expr) }))
	return &lazyRegex{expr: expr, compile: c.(func() (*regexp.Regexp, error))}, nil
}

// get returns the compiled expression.
func (r *lazyRegex) get() (*regexp.Regexp, error) { return r.compile() }

func (r *lazyRegex) String() string { return r.expr }

// capNames lists the named capture groups without compiling.
func capNames(expr string) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range re.CapNames() {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// reErr trims the "error parsing regexp: " prefix, which says nothing the
// field name does not.
func reErr(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}
