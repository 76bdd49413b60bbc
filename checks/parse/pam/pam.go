// Package pam parses Linux-PAM configuration: the per-service stacks under
// /etc/pam.d, with include, substack and Debian's @include expanded the way
// libpam expands them, and the "key = value" files that PAM modules read from
// /etc/security (faillock.conf, pwhistory.conf).
//
// Every rule keeps the file and line it was written on, and the include lines
// it was reached through, so that a finding points at the line to edit.
package pam

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// The management group types a rule can have.
const (
	TypeAccount  = "account"
	TypeAuth     = "auth"
	TypePassword = "password"
	TypeSession  = "session"
)

// The control keywords. Include and Substack (and AtInclude, Debian's
// "@include file" line) are directives: their Module is the file to include.
const (
	ControlRequired   = "required"
	ControlRequisite  = "requisite"
	ControlSufficient = "sufficient"
	ControlOptional   = "optional"
	ControlInclude    = "include"
	ControlSubstack   = "substack"
	ControlAtInclude  = "@include"
)

// Position is a line in a file.
type Position struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// String renders "file:line".
func (p Position) String() string { return p.File + ":" + strconv.Itoa(p.Line) }

// Error is a problem at a position in a PAM file; libpam would refuse or
// misread the line, so a scanner cannot say what the stack does.
type Error struct {
	Pos Position
	Msg string
}

// Error implements error.
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Control is a rule's control field: a keyword, or the bracketed
// [value=action ...] form.
type Control struct {
	// Keyword is one of the Control constants, empty for the bracketed form.
	Keyword string `json:"keyword,omitempty"`
	// Actions are the value=action pairs of the bracketed form, in order.
	Actions []Action `json:"actions,omitempty"`
}

// Action is one value=action pair of a bracketed control.
type Action struct {
	Value  string `json:"value"`
	Action string `json:"action"`
}

// String renders the control as written in a PAM file.
func (c Control) String() string {
	if c.Keyword != "" {
		return c.Keyword
	}
	parts := make([]string, len(c.Actions))
	for i, a := range c.Actions {
		parts[i] = a.Value + "=" + a.Action
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// Arg is one module argument: "name=value" or a flag "name".
type Arg struct {
	Name     string `json:"name"`
	Value    string `json:"value,omitempty"`
	HasValue bool   `json:"has_value,omitempty"`
}

// String renders the argument as written (without the brackets an argument
// containing spaces needs).
func (a Arg) String() string {
	if a.HasValue {
		return a.Name + "=" + a.Value
	}
	return a.Name
}

// Rule is one line of a PAM stack.
type Rule struct {
	// Type is one of the Type constants; empty for an @include line.
	Type string `json:"type,omitempty"`
	// Silent is the "-" type prefix: libpam does not log when the module
	// cannot be loaded.
	Silent  bool    `json:"silent,omitempty"`
	Control Control `json:"control"`
	// Module is the module path as written ("pam_unix.so"), or the file to
	// include for include, substack and @include.
	Module string   `json:"module"`
	Args   []Arg    `json:"args,omitempty"`
	Pos    Position `json:"pos"`
	// Via lists the include, substack and @include lines the rule was
	// reached through, outermost first; empty for a rule written in the
	// service file itself.
	Via []Position `json:"via,omitempty"`
}

// IsInclude reports whether the rule is an include, substack or @include
// directive rather than a module.
func (r Rule) IsInclude() bool {
	switch r.Control.Keyword {
	case ControlInclude, ControlSubstack, ControlAtInclude:
		return true
	}
	return false
}

// ModuleName returns the module's base name without ".so": "pam_unix" for
// "/lib/x86_64-linux-gnu/security/pam_unix.so".
func (r Rule) ModuleName() string {
	return strings.TrimSuffix(path.Base(r.Module), ".so")
}

// Arg returns the last argument with the name; modules let a later argument
// override an earlier one.
func (r Rule) Arg(name string) (Arg, bool) {
	for i := len(r.Args) - 1; i >= 0; i-- {
		if r.Args[i].Name == name {
			return r.Args[i], true
		}
	}
	return Arg{}, false
}

// HasArg reports whether an argument with the name is present, with or
// without a value.
func (r Rule) HasArg(name string) bool {
	_, ok := r.Arg(name)
	return ok
}

// String renders the rule as one configuration line.
func (r Rule) String() string {
	if r.Control.Keyword == ControlAtInclude {
		return ControlAtInclude + " " + r.Module
	}
	var b strings.Builder
	if r.Silent {
		b.WriteByte('-')
	}
	b.WriteString(r.Type)
	b.WriteByte(' ')
	b.WriteString(r.Control.String())
	b.WriteByte(' ')
	b.WriteString(r.Module)
	for _, a := range r.Args {
		b.WriteByte(' ')
		s := a.String()
		if strings.ContainsAny(s, " \t") {
			s = "[" + strings.ReplaceAll(s, "]", `\]`) + "]"
		}
		b.WriteString(s)
	}
	return b.String()
}

var knownTypes = map[string]bool{TypeAccount: true, TypeAuth: true, TypePassword: true, TypeSession: true}

var knownKeywords = map[string]bool{
	ControlRequired: true, ControlRequisite: true, ControlSufficient: true,
	ControlOptional: true, ControlInclude: true, ControlSubstack: true,
}

// returnValues are the names libpam accepts on the left of a bracketed
// control (_pam_token_returns in libpam/pam_handlers.c), plus "default".
var returnValues = map[string]bool{
	"success": true, "open_err": true, "symbol_err": true, "service_err": true,
	"system_err": true, "buf_err": true, "perm_denied": true, "auth_err": true,
	"cred_insufficient": true, "authinfo_unavail": true, "user_unknown": true,
	"maxtries": true, "new_authtok_reqd": true, "acct_expired": true,
	"session_err": true, "cred_unavail": true, "cred_expired": true,
	"cred_err": true, "no_module_data": true, "conv_err": true,
	"authtok_err": true, "authtok_recover_err": true, "authtok_lock_busy": true,
	"authtok_disable_aging": true, "try_again": true, "ignore": true,
	"abort": true, "authtok_expired": true, "module_unknown": true,
	"bad_item": true, "conv_again": true, "incomplete": true, "default": true,
}

var actions = map[string]bool{"ignore": true, "ok": true, "done": true, "bad": true, "die": true, "reset": true}

// Parse parses one PAM service file without following its includes; path
// names the file in positions and errors. Comments run from "#" to the end
// of the line, and a line ending in a backslash continues on the next, as in
// libpam.
func Parse(path string, data []byte) ([]Rule, error) {
	var rules []Rule
	for _, ll := range logicalLines(data) {
		pos := Position{File: path, Line: ll.line}
		r, err := parseLine(ll.text, pos)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

type logicalLine struct {
	text string
	line int
}

// logicalLines joins continued lines and drops comments and blank lines the
// way libpam's _pam_assemble_line does: a "#" ends the logical line wherever
// it appears, and blank or comment-only lines inside a continuation are
// skipped.
func logicalLines(data []byte) []logicalLine {
	var (
		out  []logicalLine
		cur  strings.Builder
		from int
	)
	lines := strings.Split(string(data), "\n")
	for i, raw := range lines {
		s := strings.TrimLeft(raw, " \t\r")
		if s == "" || s[0] == '#' {
			continue
		}
		if cur.Len() == 0 {
			from = i + 1
		}
		if c := strings.IndexByte(s, '#'); c >= 0 {
			cur.WriteString(s[:c])
			out = append(out, logicalLine{text: cur.String(), line: from})
			cur.Reset()
			continue
		}
		s = strings.TrimRight(s, " \t\r")
		if strings.HasSuffix(s, `\`) {
			cur.WriteString(s[:len(s)-1])
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(s)
		out = append(out, logicalLine{text: cur.String(), line: from})
		cur.Reset()
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, logicalLine{text: cur.String(), line: from})
	}
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// nextToken returns the next whitespace-separated token of s and the rest.
func nextToken(s string) (tok, rest string) {
	s = strings.TrimLeft(s, " \t\r\n")
	i := 0
	for i < len(s) && !isSpace(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

func parseLine(text string, pos Position) (Rule, error) {
	errf := func(format string, args ...any) error {
		return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
	}
	r := Rule{Pos: pos}
	tok, rest := nextToken(text)
	if tok == ControlAtInclude {
		file, extra := nextToken(rest)
		if file == "" {
			return Rule{}, errf("@include without a file name")
		}
		if x := strings.TrimSpace(extra); x != "" {
			return Rule{}, errf("unexpected %q after @include %s", x, file)
		}
		r.Control = Control{Keyword: ControlAtInclude}
		r.Module = file
		return r, nil
	}
	typ := strings.ToLower(tok)
	if strings.HasPrefix(typ, "-") {
		r.Silent = true
		typ = typ[1:]
	}
	if !knownTypes[typ] {
		return Rule{}, errf("unknown type %q (want account, auth, password or session)", tok)
	}
	r.Type = typ

	rest = strings.TrimLeft(rest, " \t\r\n")
	if rest == "" {
		return Rule{}, errf("missing control after %q", tok)
	}
	if rest[0] == '[' {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return Rule{}, errf("unterminated [ in control")
		}
		c, err := parseBracketControl(rest[1:end])
		if err != nil {
			return Rule{}, errf("control %s: %v", rest[:end+1], err)
		}
		r.Control = c
		rest = rest[end+1:]
	} else {
		var ctl string
		ctl, rest = nextToken(rest)
		kw := strings.ToLower(ctl)
		if !knownKeywords[kw] {
			return Rule{}, errf("unknown control %q (want required, requisite, sufficient, optional, include, substack or [value=action ...])", ctl)
		}
		r.Control = Control{Keyword: kw}
	}

	r.Module, rest = nextToken(rest)
	if r.Module == "" {
		if r.IsInclude() {
			return Rule{}, errf("%s without a file name", r.Control.Keyword)
		}
		return Rule{}, errf("missing module path")
	}
	args, err := parseArgs(rest)
	if err != nil {
		return Rule{}, errf("%v", err)
	}
	r.Args = args
	return r, nil
}

func parseBracketControl(s string) (Control, error) {
	var c Control
	for _, pair := range strings.Fields(s) {
		v, a, ok := strings.Cut(pair, "=")
		if !ok || v == "" || a == "" {
			return Control{}, fmt.Errorf("want value=action, got %q", pair)
		}
		if !returnValues[v] {
			return Control{}, fmt.Errorf("unknown return value %q", v)
		}
		if !actions[a] {
			if n, err := strconv.Atoi(a); err != nil || n < 1 {
				return Control{}, fmt.Errorf("unknown action %q in %q (want ignore, ok, done, bad, die, reset or a positive jump)", a, pair)
			}
		}
		c.Actions = append(c.Actions, Action{Value: v, Action: a})
	}
	if len(c.Actions) == 0 {
		return Control{}, fmt.Errorf("empty control")
	}
	return c, nil
}

// parseArgs splits module arguments; an argument written in square brackets
// may contain spaces, and "\]" stands for "]" inside it.
func parseArgs(s string) ([]Arg, error) {
	var args []Arg
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			return args, nil
		}
		var raw string
		if s[0] == '[' {
			var b strings.Builder
			i := 1
			closed := false
			for i < len(s) {
				if s[i] == '\\' && i+1 < len(s) && s[i+1] == ']' {
					b.WriteByte(']')
					i += 2
					continue
				}
				if s[i] == ']' {
					closed = true
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated [ in module argument %q", s)
			}
			raw, s = b.String(), s[i:]
		} else {
			raw, s = nextToken(s)
		}
		name, value, ok := strings.Cut(raw, "=")
		args = append(args, Arg{Name: name, Value: value, HasValue: ok})
	}
}
