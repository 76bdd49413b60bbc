// Package sudoers parses sudoers(5) as sudo reads it: /etc/sudoers and the
// files it includes (#include, @include, #includedir, @includedir), with
// line continuations, comments and every form of the Defaults directive.
//
// Defaults entries are parsed fully, because the checks built on this package
// judge them. Aliases and user specifications are recognised and kept with
// their location but not parsed further. Anything else is a syntax error
// naming the file and line, as visudo -c would report it.
//
// %h in an include path is replaced by the host's short name read from
// /etc/hostname, which is what sudo uses on a correctly configured host; an
// @includedir path is never expanded, as in sudo.
package sudoers

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/plumbline/plumbline/checks"
)

// DefaultPath is where sudo reads its policy.
const DefaultPath = "/etc/sudoers"

// MaxDepth is sudo's limit on nested includes; deeper nesting is reported as
// an include loop.
const MaxDepth = 128

// Scope says which Defaults entries apply: all of them (Global) or only
// some users, hosts, commands or run-as users.
type Scope int

// The Defaults scopes, by the character that follows "Defaults".
const (
	ScopeGlobal  Scope = iota // Defaults
	ScopeUser                 // Defaults:user
	ScopeHost                 // Defaults@host
	ScopeCommand              // Defaults!cmnd
	ScopeRunas                // Defaults>runas
)

// String returns the sudoers spelling of the scope's binding character.
func (s Scope) String() string {
	switch s {
	case ScopeUser:
		return ":"
	case ScopeHost:
		return "@"
	case ScopeCommand:
		return "!"
	case ScopeRunas:
		return ">"
	default:
		return ""
	}
}

// Op is how a Defaults parameter is set.
type Op int

// The operators of a Defaults parameter.
const (
	OpEnable Op = iota // opt
	OpNegate           // !opt
	OpAssign           // opt=value
	OpAdd              // opt+=value
	OpRemove           // opt-=value
)

// String returns the sudoers spelling of the operator.
func (o Op) String() string {
	switch o {
	case OpNegate:
		return "!"
	case OpAssign:
		return "="
	case OpAdd:
		return "+="
	case OpRemove:
		return "-="
	default:
		return ""
	}
}

// Default is one parameter of a Defaults line; "Defaults a, !b" yields two.
type Default struct {
	Scope Scope
	// Binding is the scope's list as written ("alice,%wheel"), empty for
	// ScopeGlobal.
	Binding string
	Name    string
	Op      Op
	// Value is the unquoted value for OpAssign, OpAdd and OpRemove.
	Value string
	Path  string
	Line  int
}

// String renders the parameter as it would be written in sudoers.
func (d Default) String() string {
	head := "Defaults"
	if d.Scope != ScopeGlobal {
		head += d.Scope.String() + d.Binding
	}
	switch d.Op {
	case OpEnable:
		return head + " " + d.Name
	case OpNegate:
		return head + " !" + d.Name
	default:
		return fmt.Sprintf("%s %s%s%q", head, d.Name, d.Op, d.Value)
	}
}

// Source renders where the entry was read as "path:line".
func (d Default) Source() string { return fmt.Sprintf("%s:%d", d.Path, d.Line) }

// Alias is a User_Alias, Runas_Alias, Host_Alias or Cmnd_Alias (Cmd_Alias)
// line, kept shallowly.
type Alias struct {
	// Kind is the keyword as written, e.g. "Cmnd_Alias".
	Kind string
	// Names are the alias names the line defines.
	Names []string
	Text  string
	Path  string
	Line  int
}

// UserSpec is a user specification ("%sudo ALL=(ALL:ALL) ALL"), kept as text.
type UserSpec struct {
	Text string
	Path string
	Line int
}

// Config is a parsed sudoers policy with its includes expanded in the order
// sudo reads them.
type Config struct {
	// Files are the files read, in order; the first is the main file.
	Files     []string
	Defaults  []Default
	Aliases   []Alias
	UserSpecs []UserSpec
}

// Setting is the effective value of a Defaults parameter.
type Setting struct {
	Name string
	// On is false when the parameter was last negated ("!opt").
	On bool
	// HasValue reports whether a value was assigned; Value holds it.
	HasValue bool
	Value    string
	// List is the resulting list for list parameters built with =, += and -=.
	List []string
	// Last is the entry that set the value last.
	Last Default
}

// Effective returns the value of the global (unscoped) Defaults parameter
// name after every entry is applied in order, the last one winning; ok is
// false when no global entry sets it.
func (c *Config) Effective(name string) (s Setting, ok bool) {
	s.Name = name
	for _, d := range c.Defaults {
		if d.Scope != ScopeGlobal || d.Name != name {
			continue
		}
		ok = true
		s.Last = d
		switch d.Op {
		case OpEnable:
			s.On, s.HasValue, s.Value = true, false, ""
		case OpNegate:
			s.On, s.HasValue, s.Value, s.List = false, false, "", nil
		case OpAssign:
			s.On, s.HasValue, s.Value = true, true, d.Value
			s.List = strings.Fields(d.Value)
		case OpAdd:
			s.On, s.HasValue = true, true
			s.List = append(s.List, strings.Fields(d.Value)...)
			s.Value = strings.Join(s.List, " ")
		case OpRemove:
			s.On, s.HasValue = true, true
			for _, rm := range strings.Fields(d.Value) {
				s.List = removeAll(s.List, rm)
			}
			s.Value = strings.Join(s.List, " ")
		}
	}
	return s, ok
}

func removeAll(list []string, v string) []string {
	out := list[:0:0]
	for _, e := range list {
		if e != v {
			out = append(out, e)
		}
	}
	return out
}

// Scoped returns the scoped (user, host, command or run-as) entries for
// the parameter name, in order.
func (c *Config) Scoped(name string) []Default {
	var out []Default
	for _, d := range c.Defaults {
		if d.Scope != ScopeGlobal && d.Name == name {
			out = append(out, d)
		}
	}
	return out
}

// Read loads DefaultPath once per scan.
func Read(ctx context.Context, h checks.Host) (*Config, error) {
	return checks.Memoized(h, "sudoers:"+DefaultPath, func() (*Config, error) {
		return Load(ctx, h, DefaultPath)
	})
}

// Load parses the sudoers file at main and everything it includes. Only a
// missing main file is returned as an error wrapping fs.ErrNotExist; a
// missing @include file, an include loop and a syntax error are errors
// naming the file and line.
func Load(ctx context.Context, h checks.Host, main string) (*Config, error) {
	l := &loader{h: h, cfg: &Config{}}
	data, err := h.ReadFile(ctx, main)
	if err != nil {
		return nil, fmt.Errorf("read sudoers: %w", err)
	}
	if err := l.parse(ctx, main, data, []string{main}); err != nil {
		return nil, err
	}
	return l.cfg, nil
}

type loader struct {
	h   checks.Host
	cfg *Config
	// host is the short host name for %h, read on first use.
	host    string
	hostErr error
	hostSet bool
}

// parse parses one file; stack holds the files being included, outermost
// first, ending with this one.
func (l *loader) parse(ctx context.Context, file string, data []byte, stack []string) error {
	l.cfg.Files = append(l.cfg.Files, file)
	return scanLines(file, data, func(ln logicalLine) error {
		if ln.include != nil {
			return l.include(ctx, file, ln, stack)
		}
		return l.statement(file, ln)
	})
}

func (l *loader) include(ctx context.Context, file string, ln logicalLine, stack []string) error {
	inc := ln.include
	target := inc.path
	if !inc.dir && strings.Contains(target, "%h") {
		host, err := l.shortHost(ctx)
		if err != nil {
			return fmt.Errorf("%s:%d: expand %%h in %s: %v", file, ln.line, target, err)
		}
		target = strings.ReplaceAll(target, "%h", host)
	}
	if !path.IsAbs(target) {
		target = path.Join(path.Dir(file), target)
	}
	target = path.Clean(target)
	if !inc.dir {
		return l.includeFile(ctx, file, ln.line, target, stack)
	}
	entries, err := l.h.ReadDir(ctx, target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // sudo ignores a missing include directory
	}
	if err != nil {
		return fmt.Errorf("%s:%d: includedir %s: %v", file, ln.line, target, err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name, "~") || strings.Contains(e.Name, ".") {
			continue // editor backups and package-manager leftovers
		}
		fi, err := l.h.Stat(ctx, e.Path)
		if err != nil {
			return fmt.Errorf("%s:%d: includedir %s: %v", file, ln.line, target, err)
		}
		if !fi.Mode.IsRegular() {
			continue
		}
		if err := l.includeFile(ctx, file, ln.line, e.Path, stack); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) includeFile(ctx context.Context, file string, line int, target string, stack []string) error {
	for _, s := range stack {
		if s == target {
			return fmt.Errorf("%s:%d: include loop: %s includes %s again", file, line, strings.Join(stack, " -> "), target)
		}
	}
	if len(stack) >= MaxDepth {
		return fmt.Errorf("%s:%d: too many levels of includes (sudo's limit is %d)", file, line, MaxDepth)
	}
	data, err := l.h.ReadFile(ctx, target)
	if err != nil {
		// sudo refuses a policy whose @include file cannot be opened. %v,
		// not %w: only a missing main file may look like fs.ErrNotExist
		// to callers, who judge that as "sudoers absent".
		return fmt.Errorf("%s:%d: include %s: %v", file, line, target, err)
	}
	next := append(stack[:len(stack):len(stack)], target)
	return l.parse(ctx, target, data, next)
}

func (l *loader) shortHost(ctx context.Context) (string, error) {
	if !l.hostSet {
		l.hostSet = true
		data, err := l.h.ReadFile(ctx, "/etc/hostname")
		if err != nil {
			l.hostErr = fmt.Errorf("read host name: %w", err)
		} else {
			name, _, _ := strings.Cut(strings.TrimSpace(string(data)), ".")
			if name == "" {
				l.hostErr = errors.New("/etc/hostname is empty")
			}
			l.host = name
		}
	}
	return l.host, l.hostErr
}

// aliasKinds are the alias keywords; sudo accepts Cmd_Alias as a synonym.
var aliasKinds = []string{"User_Alias", "Runas_Alias", "Host_Alias", "Cmnd_Alias", "Cmd_Alias"}

func (l *loader) statement(file string, ln logicalLine) error {
	text := strings.TrimSpace(ln.text)
	if text == "" {
		return nil
	}
	if rest, ok := strings.CutPrefix(text, "Defaults"); ok && (rest == "" || strings.ContainsRune(" \t:@!>", rune(rest[0]))) {
		defs, err := parseDefaults(rest)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", file, ln.line, err)
		}
		for _, d := range defs {
			d.Path, d.Line = file, ln.line
			l.cfg.Defaults = append(l.cfg.Defaults, d)
		}
		return nil
	}
	for _, kind := range aliasKinds {
		if rest, ok := strings.CutPrefix(text, kind); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			names, err := parseAlias(rest)
			if err != nil {
				return fmt.Errorf("%s:%d: %s: %w", file, ln.line, kind, err)
			}
			l.cfg.Aliases = append(l.cfg.Aliases, Alias{Kind: kind, Names: names, Text: text, Path: file, Line: ln.line})
			return nil
		}
	}
	if isUserSpec(text) {
		l.cfg.UserSpecs = append(l.cfg.UserSpecs, UserSpec{Text: text, Path: file, Line: ln.line})
		return nil
	}
	return fmt.Errorf("%s:%d: unknown syntax %q (not a Defaults, alias or user specification line)", file, ln.line, shorten(text))
}

func shorten(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
