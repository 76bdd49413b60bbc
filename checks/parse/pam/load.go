package pam

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/plumbline/plumbline/checks"
)

// The directories libpam searches, in order, for a service or an included
// file named without a path: the administrator's, then the distribution's
// (Linux-PAM 1.2 and later).
const (
	ConfigDir = "/etc/pam.d"
	VendorDir = "/usr/lib/pam.d"
)

// maxDepth bounds include nesting as libpam's PAM_SUBSTACK_MAX_LEVEL does.
const maxDepth = 16

// Service is one PAM service with its includes expanded.
type Service struct {
	// Name is the service as asked for ("common-auth").
	Name string `json:"name"`
	// Path is the file the service was read from.
	Path string `json:"path"`
	// Rules are the module rules in stack order, every include, substack
	// and @include replaced by the rules it brings in. Shared within a
	// scan: callers must not modify them.
	Rules []Rule `json:"rules"`
}

// Stack returns the rules of one type ("password") in order.
func (s *Service) Stack(typ string) []Rule {
	var out []Rule
	for _, r := range s.Rules {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Load reads a service (a name looked up in ConfigDir then VendorDir, or an
// absolute path) and expands its includes. The result is cached for the
// scan. When the service file itself does not exist the error matches
// fs.ErrNotExist; a missing included file, an include loop and a syntax error
// are *Error values naming the line, because libpam fails such a stack.
func Load(ctx context.Context, h checks.Host, service string) (*Service, error) {
	return checks.Memoized(h, "parse/pam.service:"+service, func() (*Service, error) {
		p, rules, err := findFile(ctx, h, service)
		if err != nil {
			return nil, err
		}
		l := loader{ctx: ctx, h: h}
		expanded, err := l.expand(rules, []string{p})
		if err != nil {
			return nil, err
		}
		return &Service{Name: service, Path: p, Rules: expanded}, nil
	})
}

// findFile locates and parses a service or included file.
func findFile(ctx context.Context, h checks.Host, name string) (string, []Rule, error) {
	candidates := []string{name}
	if !path.IsAbs(name) {
		candidates = []string{path.Join(ConfigDir, name), path.Join(VendorDir, name)}
	}
	for _, p := range candidates {
		rules, err := parseFile(ctx, h, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		return p, rules, err
	}
	return "", nil, &notFoundError{name: name, tried: candidates}
}

// notFoundError says which files were tried for a name; it matches
// fs.ErrNotExist.
type notFoundError struct {
	name  string
	tried []string
}

// Error implements error.
func (e *notFoundError) Error() string {
	return fmt.Sprintf("%s: no such file (looked for %s)", e.name, strings.Join(e.tried, ", "))
}

// Unwrap makes the error match fs.ErrNotExist.
func (e *notFoundError) Unwrap() error { return fs.ErrNotExist }

// parseFile reads and parses one file, once per scan however many stacks
// include it.
func parseFile(ctx context.Context, h checks.Host, p string) ([]Rule, error) {
	return checks.Memoized(h, "parse/pam.file:"+p, func() ([]Rule, error) {
		data, err := h.ReadFile(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		return Parse(p, data)
	})
}

type loader struct {
	ctx context.Context
	h   checks.Host
}

// expand replaces include directives in rules by the rules they bring in.
// chain holds the files being expanded, outermost first, to detect loops.
func (l loader) expand(rules []Rule, chain []string) ([]Rule, error) {
	var out []Rule
	for _, r := range rules {
		if !r.IsInclude() {
			out = append(out, r)
			continue
		}
		if len(chain) >= maxDepth {
			return nil, &Error{Pos: r.Pos, Msg: fmt.Sprintf("includes nested deeper than %d levels", maxDepth)}
		}
		target, sub, err := findFile(l.ctx, l.h, r.Module)
		if err != nil {
			var nf *notFoundError
			if errors.As(err, &nf) {
				return nil, &Error{Pos: r.Pos, Msg: fmt.Sprintf("%s %s: no such file (looked for %s); libpam fails the stack", r.Control.Keyword, r.Module, strings.Join(nf.tried, ", "))}
			}
			return nil, &Error{Pos: r.Pos, Msg: fmt.Sprintf("%s %s: %v", r.Control.Keyword, r.Module, err)}
		}
		for _, c := range chain {
			if c == target {
				return nil, &Error{Pos: r.Pos, Msg: fmt.Sprintf("include loop: %s -> %s", strings.Join(chain, " -> "), target)}
			}
		}
		inner, err := l.expand(sub, append(chain[:len(chain):len(chain)], target))
		if err != nil {
			return nil, &Error{Pos: r.Pos, Msg: fmt.Sprintf("%s %s: %v", r.Control.Keyword, r.Module, err)}
		}
		for _, ir := range inner {
			// include and substack bring in only the lines of their own
			// type; Debian's @include brings in the whole file.
			if r.Control.Keyword != ControlAtInclude && ir.Type != r.Type {
				continue
			}
			via := make([]Position, 0, len(ir.Via)+1)
			via = append(via, r.Pos)
			ir.Via = append(via, ir.Via...)
			out = append(out, ir)
		}
	}
	return out, nil
}
