// Package syslogconf reads the configuration of the host's log shipping:
// rsyslog (rsyslog.conf and everything it includes, in legacy and
// RainerScript syntax), systemd-journald (journald.conf and its drop-ins)
// and systemd-journal-upload (journal-upload.conf).
//
// For rsyslog it extracts what a compliance check needs rather than a full
// syntax tree: the remote forwarding actions (legacy "@host", "@@host:port",
// ":omrelp:host:port", and action(type="omfwd"|"omrelp" target=...)), each
// with the filter in front of it and its file and line, and the modules
// loaded. Statements it does not recognise are kept in Unparsed so that a
// caller can refuse to judge a configuration it only partly understood.
package syslogconf

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/plumbline/plumbline/checks"
)

// RsyslogPath is rsyslog's main configuration file.
const RsyslogPath = "/etc/rsyslog.conf"

// maxIncludeDepth bounds nested includes; deeper nesting is a loop.
const maxIncludeDepth = 32

// FilterKind says what decides which messages reach an action.
type FilterKind int

// The filter kinds.
const (
	// FilterNone: the action receives every message.
	FilterNone FilterKind = iota
	// FilterSelector: a traditional "facility.priority" selector.
	FilterSelector
	// FilterProperty: a ":property, op, value" filter.
	FilterProperty
	// FilterExpression: a RainerScript if/else condition.
	FilterExpression
)

// Filter is the condition in front of an action.
type Filter struct {
	Kind FilterKind
	// Text is the selector, property filter or expression as written.
	Text string
	// Ruleset is the ruleset the action belongs to; empty for the default
	// ruleset, which receives the messages of inputs not bound elsewhere.
	Ruleset string
}

// String describes the filter for evidence.
func (f Filter) String() string {
	var s string
	switch f.Kind {
	case FilterNone:
		s = "all messages"
	case FilterSelector:
		s = f.Text
	case FilterProperty:
		s = "property filter " + f.Text
	default:
		s = "if " + f.Text
	}
	if f.Ruleset != "" {
		s += " in ruleset " + f.Ruleset
	}
	return s
}

// Matches reports whether a message of the facility and severity
// ("authpriv", "notice") passes the filter. known is false when the filter
// is a property filter or an expression, which this package does not
// evaluate.
func (f Filter) Matches(facility, severity string) (match, known bool) {
	switch f.Kind {
	case FilterNone:
		return true, true
	case FilterSelector:
		return selectorMatches(f.Text, facility, severity)
	default:
		return false, false
	}
}

// Forward is a remote forwarding action.
type Forward struct {
	// Type is the output module: "omfwd" or "omrelp".
	Type   string
	Target string
	Port   string
	// Protocol is "udp", "tcp" or "relp".
	Protocol string
	Filter   Filter
	// Text is the action as written.
	Text string
	Path string
	Line int
}

// Source renders where the action was read as "path:line".
func (f Forward) Source() string { return fmt.Sprintf("%s:%d", f.Path, f.Line) }

// Destination renders the target as "protocol://host:port".
func (f Forward) Destination() string {
	d := f.Protocol + "://" + f.Target
	if f.Port != "" {
		d += ":" + f.Port
	}
	return d
}

// Statement is a piece of configuration kept with its location.
type Statement struct {
	Text string
	Path string
	Line int
}

// Rsyslog is what the rsyslog configuration says about shipping logs.
type Rsyslog struct {
	// Files are the files read, in order; the first is the main file.
	Files    []string
	Forwards []Forward
	// Modules are the modules loaded (module(load=...) or $ModLoad).
	Modules []Statement
	// Unparsed are statements this package did not recognise.
	Unparsed []Statement
	// Calls are the rulesets invoked with "call name".
	Calls []Statement
}

// Called reports whether some statement calls the ruleset.
func (r *Rsyslog) Called(ruleset string) bool {
	for _, c := range r.Calls {
		if c.Text == ruleset {
			return true
		}
	}
	return false
}

// HasModule reports whether the module (e.g. "imjournal") is loaded.
func (r *Rsyslog) HasModule(name string) bool {
	for _, m := range r.Modules {
		if m.Text == name {
			return true
		}
	}
	return false
}

// ReadRsyslog loads RsyslogPath once per scan.
func ReadRsyslog(ctx context.Context, h checks.Host) (*Rsyslog, error) {
	return checks.Memoized(h, "syslogconf.rsyslog", func() (*Rsyslog, error) {
		return LoadRsyslog(ctx, h, RsyslogPath)
	})
}

// LoadRsyslog parses the rsyslog configuration at main and the files it
// includes. Only a missing main file is returned as an error wrapping
// fs.ErrNotExist.
func LoadRsyslog(ctx context.Context, h checks.Host, main string) (*Rsyslog, error) {
	data, err := h.ReadFile(ctx, main)
	if err != nil {
		return nil, fmt.Errorf("read rsyslog configuration: %w", err)
	}
	p := &rsyslogParser{h: h, out: &Rsyslog{}}
	if err := p.file(ctx, main, data, []string{main}); err != nil {
		return nil, err
	}
	if len(p.blocks) > 0 {
		b := p.blocks[len(p.blocks)-1]
		return nil, fmt.Errorf("%s:%d: unclosed {", b.path, b.line)
	}
	return p.out, nil
}

type block struct {
	filter    Filter
	path      string
	line      int
	isRuleset bool
}

type rsyslogParser struct {
	h      checks.Host
	out    *Rsyslog
	blocks []block
	// pending is the filter of an "if ... then" or ruleset waiting for
	// its statement or block.
	pending    *block
	lastFilter Filter
}

// segment is one statement, or a lone "{" or "}".
type segment struct {
	text string
	line int
}

func (p *rsyslogParser) file(ctx context.Context, file string, data []byte, stack []string) error {
	p.out.Files = append(p.out.Files, file)
	segs, err := segments(file, string(data))
	if err != nil {
		return err
	}
	for _, s := range segs {
		if err := p.statement(ctx, file, s, stack); err != nil {
			return err
		}
	}
	return nil
}

// segments splits a file into statements: a newline ends one unless inside
// parentheses, a string or a comment; "{" and "}" outside parentheses are
// statements of their own. Legacy "$Directive" lines are taken whole.
func segments(file, s string) ([]segment, error) {
	var out []segment
	var cur strings.Builder
	line, start := 1, 0
	depth := 0
	flush := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			out = append(out, segment{text: t, line: start})
		}
		cur.Reset()
		start = 0
	}
	mark := func() {
		if start == 0 {
			start = line
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			line++
			if depth == 0 {
				flush()
			} else {
				cur.WriteByte(' ')
			}
		case c == ' ' || c == '\t' || c == '\r':
			cur.WriteByte(' ')
		case c == '#':
			for i+1 < len(s) && s[i+1] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			open := line
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("%s:%d: unterminated /* comment", file, open)
			}
			line += strings.Count(s[i:i+2+end], "\n")
			i += end + 3
		case c == '$' && depth == 0 && strings.TrimSpace(cur.String()) == "":
			// A legacy directive runs to the end of the line.
			mark()
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				j = len(s) - i
			}
			text := s[i : i+j]
			if k := strings.Index(text, " #"); k >= 0 {
				text = text[:k]
			}
			cur.WriteString(text)
			i += j - 1
		case c == '"' || c == '\'':
			mark()
			open := line
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return nil, fmt.Errorf("%s:%d: unterminated string", file, open)
			}
			line += strings.Count(s[i:j], "\n")
			cur.WriteString(s[i : j+1])
			i = j
		case (c == '{' || c == '}') && depth == 0:
			flush()
			out = append(out, segment{text: string(c), line: line})
		default:
			mark()
			if c == '(' {
				depth++
			} else if c == ')' && depth > 0 {
				depth--
			}
			cur.WriteByte(c)
		}
	}
	if depth > 0 {
		return nil, fmt.Errorf("%s:%d: unclosed (", file, start)
	}
	flush()
	return out, nil
}

// keywords begin RainerScript statements this package accepts without
// needing to understand them.
var keywords = map[string]bool{
	"global": true, "input": true, "template": true, "main_queue": true,
	"parser": true, "lookup_table": true, "timezone": true, "set": true,
	"unset": true, "reset": true, "call": true, "call_indirect": true,
	"stop": true, "foreach": true, "dyn_stats": true, "percentile_stats": true,
	"ratelimit": true, "property": true, "constant": true, "list": true,
}

var (
	selectorRE  = regexp.MustCompile(`^(?i)[a-z0-9*]+(,[a-z0-9*]+)*\.!?=?[a-z*]+(;[a-z0-9*]+(,[a-z0-9*]+)*\.!?=?[a-z*]+)*$`)
	wordRE      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)
	paramNameRE = regexp.MustCompile(`^[A-Za-z0-9_.\-]+`)
)

func (p *rsyslogParser) statement(ctx context.Context, file string, s segment, stack []string) error {
	text := s.text
	switch text {
	case "{":
		b := block{path: file, line: s.line, filter: p.currentFilter()}
		if p.pending != nil {
			b = *p.pending
			b.path, b.line = file, s.line
			p.pending = nil
		}
		p.blocks = append(p.blocks, b)
		return nil
	case "}":
		if len(p.blocks) == 0 {
			return fmt.Errorf("%s:%d: } without a matching {", file, s.line)
		}
		p.blocks = p.blocks[:len(p.blocks)-1]
		return nil
	}
	word := wordRE.FindString(text)
	rest := strings.TrimSpace(text[len(word):])
	switch {
	case word == "if" || word == "else":
		return p.conditional(ctx, file, s, stack)
	case word == "ruleset" && strings.HasPrefix(rest, "("):
		params, err := parseParams(rest)
		if err != nil {
			return fmt.Errorf("%s:%d: ruleset: %w", file, s.line, err)
		}
		p.pending = &block{isRuleset: true, filter: Filter{Ruleset: params["name"]}}
		return nil
	case word == "include" && strings.HasPrefix(rest, "("):
		return p.includeStatement(ctx, file, s, rest, stack)
	case word == "module" && strings.HasPrefix(rest, "("):
		params, err := parseParams(rest)
		if err != nil {
			return fmt.Errorf("%s:%d: module: %w", file, s.line, err)
		}
		if name := params["load"]; name != "" {
			p.out.Modules = append(p.out.Modules, Statement{Text: name, Path: file, Line: s.line})
		}
		return nil
	case word == "action" && strings.HasPrefix(rest, "("):
		return p.action(file, s.line, text, p.takeFilter())
	case keywords[word]:
		if word == "call" {
			p.out.Calls = append(p.out.Calls, Statement{Text: rest, Path: file, Line: s.line})
		}
		p.pending = nil
		return nil
	case strings.HasPrefix(text, "$"):
		return p.legacyDirective(ctx, file, s, stack)
	case strings.HasPrefix(text, "&"):
		return p.action(file, s.line, strings.TrimSpace(text[1:]), p.lastFilter)
	case strings.HasPrefix(text, ":"):
		filterText, act, ok := propertyFilter(text)
		if !ok {
			return fmt.Errorf("%s:%d: malformed property filter %q", file, s.line, text)
		}
		f := Filter{Kind: FilterProperty, Text: filterText, Ruleset: p.currentFilter().Ruleset}
		p.lastFilter = f
		return p.action(file, s.line, act, f)
	}
	sel, act, _ := strings.Cut(text, " ")
	if selectorRE.MatchString(sel) {
		f := Filter{Kind: FilterSelector, Text: sel, Ruleset: p.currentFilter().Ruleset}
		if base := p.takeFilter(); base.Kind == FilterExpression {
			// A selector nested under a condition: both must hold, and
			// the condition cannot be evaluated.
			f = Filter{Kind: FilterExpression, Text: base.Text + " and " + sel, Ruleset: base.Ruleset}
		}
		p.lastFilter = f
		return p.action(file, s.line, strings.TrimSpace(act), f)
	}
	if p.pending != nil && !p.pending.isRuleset {
		// "if ... then" followed by a legacy action on the next line.
		return p.action(file, s.line, text, p.takeFilter())
	}
	p.out.Unparsed = append(p.out.Unparsed, Statement{Text: text, Path: file, Line: s.line})
	return nil
}

// currentFilter is the filter of the innermost enclosing block.
func (p *rsyslogParser) currentFilter() Filter {
	if len(p.blocks) == 0 {
		return Filter{}
	}
	return p.blocks[len(p.blocks)-1].filter
}

// takeFilter returns the filter for the next action: a pending "if"
// condition, or the enclosing block's.
func (p *rsyslogParser) takeFilter() Filter {
	if p.pending != nil && !p.pending.isRuleset {
		f := p.pending.filter
		p.pending = nil
		return f
	}
	return p.currentFilter()
}

// conditional handles "if EXPR then [statement]" and "else [...]".
func (p *rsyslogParser) conditional(ctx context.Context, file string, s segment, stack []string) error {
	text := s.text
	var cond, rest string
	if strings.HasPrefix(text, "else") {
		rest = strings.TrimSpace(text[len("else"):])
		if !strings.HasPrefix(rest, "if") {
			cond = "else"
		} else {
			text = rest
		}
	}
	if cond == "" {
		i := indexThen(text)
		if i < 0 {
			return fmt.Errorf("%s:%d: if without then: %q", file, s.line, text)
		}
		cond = strings.TrimSpace(text[len("if"):i])
		rest = strings.TrimSpace(text[i+len("then"):])
	}
	outer := p.currentFilter()
	if outer.Kind == FilterExpression {
		cond = outer.Text + " and " + cond
	}
	p.pending = &block{filter: Filter{Kind: FilterExpression, Text: cond, Ruleset: outer.Ruleset}}
	if rest == "" {
		return nil
	}
	return p.statement(ctx, file, segment{text: rest, line: s.line}, stack)
}

// indexThen finds the "then" keyword outside quotes.
func indexThen(s string) int {
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == '\\' {
				i++
			} else if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case strings.HasPrefix(s[i:], "then") && (i == 0 || s[i-1] == ' ' || s[i-1] == ')') &&
			(i+4 == len(s) || s[i+4] == ' '):
			return i
		}
	}
	return -1
}

// propertyFilter splits ':msg, contains, "x" action' after the quoted value.
func propertyFilter(s string) (filter, action string, ok bool) {
	i := strings.IndexByte(s, '"')
	if i < 0 {
		return "", "", false
	}
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return s[:j+1], strings.TrimSpace(s[j+1:]), true
		}
	}
	return "", "", false
}

// action records act when it forwards to a remote host.
func (p *rsyslogParser) action(file string, line int, act string, f Filter) error {
	switch {
	case strings.HasPrefix(act, "action(") || strings.HasPrefix(act, "action "):
		params, err := parseParams(strings.TrimSpace(act[len("action"):]))
		if err != nil {
			return fmt.Errorf("%s:%d: action: %w", file, line, err)
		}
		typ := strings.ToLower(params["type"])
		if typ != "omfwd" && typ != "omrelp" {
			return nil
		}
		fw := Forward{Type: typ, Target: params["target"], Port: params["port"], Filter: f, Text: act, Path: file, Line: line}
		switch {
		case typ == "omrelp":
			fw.Protocol = "relp"
		case params["protocol"] != "":
			fw.Protocol = strings.ToLower(params["protocol"])
		default:
			fw.Protocol = "udp"
		}
		p.out.Forwards = append(p.out.Forwards, fw)
	case strings.HasPrefix(act, "@"):
		fw, err := legacyForward(act)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", file, line, err)
		}
		fw.Filter, fw.Path, fw.Line = f, file, line
		p.out.Forwards = append(p.out.Forwards, fw)
	case strings.HasPrefix(act, ":omrelp:"):
		target, _, _ := strings.Cut(act[len(":omrelp:"):], ";")
		host, port := splitHostPort(target)
		if host == "" {
			return fmt.Errorf("%s:%d: :omrelp: without a host", file, line)
		}
		p.out.Forwards = append(p.out.Forwards, Forward{Type: "omrelp", Protocol: "relp", Target: host, Port: port, Filter: f, Text: act, Path: file, Line: line})
	}
	return nil
}

// legacyForward parses "@host", "@@host:port", "@(o,z9)[::1]:514;Template".
func legacyForward(act string) (Forward, error) {
	fw := Forward{Type: "omfwd", Protocol: "udp", Text: act}
	s := act[1:]
	if strings.HasPrefix(s, "@") {
		fw.Protocol, s = "tcp", s[1:]
	}
	if strings.HasPrefix(s, "(") {
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return fw, fmt.Errorf("malformed forwarding options in %q", act)
		}
		s = s[end+1:]
	}
	s, _, _ = strings.Cut(s, ";")
	s = strings.TrimSpace(s)
	fw.Target, fw.Port = splitHostPort(s)
	if fw.Target == "" || strings.ContainsAny(fw.Target, " \t") {
		return fw, fmt.Errorf("forwarding action %q: want @host or @@host:port", act)
	}
	return fw, nil
}

func splitHostPort(s string) (host, port string) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", ""
		}
		host, rest := s[1:end], s[end+1:]
		return host, strings.TrimPrefix(rest, ":")
	}
	host, port, _ = strings.Cut(s, ":")
	return host, port
}

// parseParams parses a RainerScript parameter list "(name="value" ...)"
// into lower-cased names and unquoted values; arrays are kept as written.
func parseParams(s string) (map[string]string, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "(") || !strings.HasSuffix(s, ")") {
		return nil, fmt.Errorf("want (name=\"value\" ...), got %q", s)
	}
	s = s[1 : len(s)-1]
	out := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out, nil
		}
		name := paramNameRE.FindString(s)
		if name == "" {
			return nil, fmt.Errorf("want a parameter name at %q", s)
		}
		s = strings.TrimLeft(s[len(name):], " \t")
		if !strings.HasPrefix(s, "=") {
			return nil, fmt.Errorf("parameter %s: missing =", name)
		}
		s = strings.TrimLeft(s[1:], " \t")
		var val string
		switch {
		case s == "":
			return nil, fmt.Errorf("parameter %s: missing value", name)
		case s[0] == '"' || s[0] == '\'':
			q := s[0]
			var b strings.Builder
			j := 1
			for ; j < len(s) && s[j] != q; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("parameter %s: unterminated string", name)
			}
			val, s = b.String(), s[j+1:]
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, fmt.Errorf("parameter %s: unterminated array", name)
			}
			val, s = s[:end+1], s[end+1:]
		default:
			end := strings.IndexAny(s, " \t")
			if end < 0 {
				end = len(s)
			}
			val, s = s[:end], s[end:]
		}
		out[strings.ToLower(name)] = val
	}
}

// legacyDirective handles $IncludeConfig and $ModLoad; other legacy
// directives do not affect forwarding.
func (p *rsyslogParser) legacyDirective(ctx context.Context, file string, s segment, stack []string) error {
	name, arg, _ := strings.Cut(s.text, " ")
	arg = strings.TrimSpace(arg)
	switch strings.ToLower(name) {
	case "$modload":
		p.out.Modules = append(p.out.Modules, Statement{Text: strings.TrimSuffix(arg, ".so"), Path: file, Line: s.line})
	case "$includeconfig":
		if arg == "" {
			return fmt.Errorf("%s:%d: $IncludeConfig without a path", file, s.line)
		}
		return p.include(ctx, file, s.line, arg, true, stack)
	}
	return nil
}

func (p *rsyslogParser) includeStatement(ctx context.Context, file string, s segment, rest string, stack []string) error {
	params, err := parseParams(rest)
	if err != nil {
		return fmt.Errorf("%s:%d: include: %w", file, s.line, err)
	}
	pattern, ok := params["file"]
	if !ok {
		if _, text := params["text"]; text {
			p.out.Unparsed = append(p.out.Unparsed, Statement{Text: s.text, Path: file, Line: s.line})
			return nil
		}
		return fmt.Errorf("%s:%d: include() without file=", file, s.line)
	}
	return p.include(ctx, file, s.line, pattern, strings.EqualFold(params["mode"], "optional"), stack)
}

// include reads the files matched by pattern: a glob, a directory (every
// file in it) or a single file, which must exist unless optional.
func (p *rsyslogParser) include(ctx context.Context, file string, line int, pattern string, optional bool, stack []string) error {
	if !path.IsAbs(pattern) {
		return fmt.Errorf("%s:%d: include %s: path must be absolute", file, line, pattern)
	}
	var files []string
	if strings.ContainsAny(pattern, "*?[") {
		m, err := p.h.Glob(ctx, pattern)
		if err != nil {
			return fmt.Errorf("%s:%d: include %s: %v", file, line, pattern, err)
		}
		files = m
	} else {
		fi, err := p.h.Stat(ctx, pattern)
		switch {
		case errors.Is(err, fs.ErrNotExist) && optional:
			return nil
		case err != nil:
			// %v: only a missing main file may satisfy fs.ErrNotExist.
			return fmt.Errorf("%s:%d: include %s: %v", file, line, pattern, err)
		case fi.IsDir():
			entries, err := p.h.ReadDir(ctx, pattern)
			if err != nil {
				return fmt.Errorf("%s:%d: include %s: %v", file, line, pattern, err)
			}
			for _, e := range entries {
				if !strings.HasPrefix(e.Name, ".") {
					files = append(files, e.Path)
				}
			}
		default:
			files = []string{pattern}
		}
	}
	for _, f := range files {
		fi, err := p.h.Stat(ctx, f)
		if err != nil {
			return fmt.Errorf("%s:%d: include %s: %v", file, line, f, err)
		}
		if fi.IsDir() {
			continue
		}
		for _, s := range stack {
			if s == f {
				return fmt.Errorf("%s:%d: include loop: %s includes %s again", file, line, strings.Join(stack, " -> "), f)
			}
		}
		if len(stack) >= maxIncludeDepth {
			return fmt.Errorf("%s:%d: includes nested deeper than %d", file, line, maxIncludeDepth)
		}
		data, err := p.h.ReadFile(ctx, f)
		if err != nil {
			return fmt.Errorf("%s:%d: include %s: %v", file, line, f, err)
		}
		if err := p.file(ctx, f, data, append(stack[:len(stack):len(stack)], f)); err != nil {
			return err
		}
	}
	return nil
}
