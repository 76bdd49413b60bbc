package declarative

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/baseline"
)

// Schema is the check file schema this version reads.
const Schema = "plumbline.checks/v1"

// Error is one problem in a check file, with its position; the same type
// as a baseline's, so that callers report both alike.
type Error = baseline.Error

// Errors is every problem found, in file and line order.
type Errors = baseline.Errors

// Check is one declarative check; it implements checks.Check.
type Check struct {
	meta       checks.Meta
	level      int
	assessment string
	cis        map[string][]string
	when, test cond
	file       string
	line       int
	text       string
	// regexParams are parameters used as regular expressions, validated
	// when a baseline sets them.
	regexParams []string
}

// ValidateParams implements checks.ParamValidator: a parameter used as a
// regular expression must compile, so that a baseline setting a bad one is
// refused with its line rather than the check erroring on every host.
func (c *Check) ValidateParams(p checks.Params) error {
	for _, name := range c.regexParams {
		if s, ok := p[name].(string); ok {
			if _, err := newRegex(s, true); err != nil {
				return fmt.Errorf("parameter %s: %q is not a regular expression: %s", name, s, reErr(err))
			}
		}
	}
	return nil
}

// Definition is the check as written in its file.
func (c *Check) Definition() string { return c.text }

// Meta implements checks.Check.
func (c *Check) Meta() checks.Meta { return c.meta }

// Source is the file and line the check is defined at, as "file:line".
func (c *Check) Source() string { return fmt.Sprintf("%s:%d", c.file, c.line) }

// Position is the file and line the check is defined at.
func (c *Check) Position() (string, int) { return c.file, c.line }

// Level is the CIS profile level (1 or 2).
func (c *Check) Level() int { return c.level }

// Assessment is CIS's assessment status of the control: "automated" or "manual".
func (c *Check) Assessment() string { return c.assessment }

// CIS returns the check's CIS control numbers per platform ("debian:12").
func (c *Check) CIS() map[string][]string { return maps.Clone(c.cis) }

// LoadFile reads and validates one check file.
func LoadFile(file string) ([]*Check, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read check file: %w", err)
	}
	return Parse(file, data)
}

// LoadDir reads every *.yaml and *.yml file in dir, in name order, and
// reports every problem of every file at once, including an id defined in
// two files. Like Parse, it returns the valid checks along with the errors.
func LoadDir(dir string) ([]*Check, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read check directory: %w", err)
	}
	var all []*Check
	var errs Errors
	for _, e := range entries {
		if !e.Type().IsRegular() || !(strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			continue // directories, and FIFOs or devices that would block a read
		}
		cs, err := LoadFile(filepath.Join(dir, e.Name()))
		var es Errors
		switch {
		case errors.As(err, &es):
			errs = append(errs, es...)
		case err != nil:
			errs = append(errs, Error{File: filepath.Join(dir, e.Name()), Msg: err.Error()})
		}
		all = append(all, cs...)
	}
	errs = append(errs, Duplicates(all)...)
	if len(errs) > 0 {
		return all, errs
	}
	return all, nil
}

// Duplicates reports checks sharing an id, each at its second definition.
func Duplicates(cs []*Check) Errors {
	var errs Errors
	first := map[string]*Check{}
	for _, c := range cs {
		if prev, ok := first[c.meta.ID]; ok {
			errs = append(errs, Error{File: c.file, Line: c.line, Msg: fmt.Sprintf("check %s is already defined at %s", c.meta.ID, prev.Source())})
			continue
		}
		first[c.meta.ID] = c
	}
	return errs
}

// Parse validates the content of a check file; file names it in errors.
// It returns every problem at once (as Errors) and, even then, the checks
// that are valid, so that a caller can look for more problems in them; a
// caller must not run checks from a file that has errors.
func Parse(file string, data []byte) ([]*Check, error) {
	return parse(&parser{file: file}, data)
}

// ParseBuiltin is Parse for content that ships with plumbline: it leaves
// the syntax of matcher regular expressions to the content's tests
// (CompileAll), which is a fifth of the parse time at every start.
func ParseBuiltin(file string, data []byte) ([]*Check, error) {
	return parse(&parser{file: file, builtin: true}, data)
}

// CompileAll compiles every regular expression of the checks, reporting
// each that does not compile with its check; the tests of built-in content
// call it.
func CompileAll(cs []*Check) error {
	var errs []error
	for _, c := range cs {
		for _, re := range c.regexes() {
			if _, err := re.get(); err != nil {
				errs = append(errs, fmt.Errorf("%s (%s): regex %q: %w", c.meta.ID, c.Source(), re.expr, err))
			}
		}
	}
	return errors.Join(errs...)
}

// regexes lists the check's regular expressions.
func (c *Check) regexes() []*lazyRegex {
	var out []*lazyRegex
	var walk func(cond)
	walk = func(n cond) {
		switch n := n.(type) {
		case *group:
			for _, it := range n.items {
				walk(it)
			}
		case *assertion:
			if lp, ok := n.probe.(linesProbe); ok && lp.re != nil {
				out = append(out, lp.re)
			}
			for _, fm := range append(slices.Clone(n.fields), n.where...) {
				for _, m := range fm.ms {
					if m.re != nil {
						out = append(out, m.re)
					}
				}
			}
		}
	}
	for _, n := range []cond{c.when, c.test} {
		if n != nil {
			walk(n)
		}
	}
	return out
}

func parse(p *parser, data []byte) ([]*Check, error) {
	file := p.file
	top, err := baseline.Document(file, data, "a check file", "schema and checks")
	if err != nil {
		return nil, err
	}
	keys := p.mapping(top, "check file", map[string]bool{"schema": true, "checks": true}, "schema", "checks")
	if n := keys["schema"]; n != nil {
		if s := p.str(n, "schema"); s != "" && s != Schema {
			p.errf(n, "schema %q is not supported (want %q)", s, Schema)
		}
	}
	var out []*Check
	if n := keys["checks"]; n != nil {
		if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
			p.errf(n, "checks: want a non-empty list of checks")
		} else {
			lines := strings.Split(string(data), "\n")
			for i, item := range n.Content {
				c := p.check(item)
				if c == nil {
					continue
				}
				// The definition as written, for "checks describe".
				end := len(lines)
				if i+1 < len(n.Content) {
					end = n.Content[i+1].Line - 1
				}
				start := item.Line - 1
				if item.Column > 2 {
					lines[start] = strings.Repeat(" ", item.Column-3) + "- " + strings.TrimLeft(lines[start], " -")
				}
				c.text = strings.TrimRight(strings.Join(lines[start:max(start, end)], "\n"), "\n ")
				out = append(out, c)
			}
		}
	}
	p.errs = append(p.errs, Duplicates(out)...)
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b Error) int { return a.Line - b.Line })
		return out, p.errs
	}
	return out, nil
}

type parser struct {
	file string
	errs Errors
	// builtin: the content ships with plumbline and its tests compile
	// every regular expression, so matchers are not checked at load.
	builtin bool
	// regexParams are the parameters the current check uses as regular
	// expressions.
	regexParams []string
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, Error{File: p.file, Line: n.Line, Msg: fmt.Sprintf(format, args...)})
}

// mapping checks n's keys against allowed (nil: any), reports duplicates
// and missing required keys, and returns the values by key.
func (p *parser) mapping(n *yaml.Node, what string, allowed map[string]bool, required ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, dup := out[k.Value]; dup {
			p.errf(k, "%s: key %q given twice", what, k.Value)
			continue
		}
		if allowed != nil && !allowed[k.Value] {
			p.errf(k, "%s: unknown key %q (want %s)", what, k.Value, strings.Join(slices.Sorted(maps.Keys(allowed)), ", "))
			continue
		}
		out[k.Value] = v
	}
	for _, r := range required {
		if out[r] == nil {
			p.errf(n, "%s: missing required key %q", what, r)
		}
	}
	return out
}

func (p *parser) str(n *yaml.Node, field string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errf(n, "%s: want a string", field)
		return ""
	}
	return n.Value
}

func (p *parser) strList(n *yaml.Node, field string) []string {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []string{n.Value}
	}
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "%s: want a string or a list of strings", field)
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		if s := p.str(c, field); s != "" {
			out = append(out, s)
		}
	}
	return out
}

var checkKeys = map[string]bool{
	"id": true, "title": true, "severity": true, "rationale": true, "remediation": true, "cis": true,
	"level": true, "assessment": true, "platforms": true, "params": true, "when": true, "test": true,
}

var controlPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)

func (p *parser) check(n *yaml.Node) *Check {
	if n.Kind != yaml.MappingNode {
		p.errf(n, "check: want a mapping with id, title, severity, rationale, remediation and test")
		return nil
	}
	before := len(p.errs)
	p.regexParams = nil
	label := "check"
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "id" && n.Content[i+1].Kind == yaml.ScalarNode {
			label = "check " + n.Content[i+1].Value
		}
	}
	k := p.mapping(n, label, checkKeys, "id", "title", "severity", "rationale", "remediation", "test")
	c := &Check{file: p.file, line: n.Line, level: 1, assessment: "automated", cis: map[string][]string{}}
	m := &c.meta
	if v := k["id"]; v != nil {
		m.ID = p.str(v, "id")
		m.Family, _, _ = strings.Cut(m.ID, ".")
	}
	what := "check " + m.ID
	for _, f := range []struct {
		key string
		dst *string
	}{{"title", &m.Title}, {"rationale", &m.Rationale}, {"remediation", &m.Remediation}} {
		if v := k[f.key]; v != nil {
			*f.dst = strings.TrimSpace(p.str(v, what+": "+f.key))
		}
	}
	if v := k["severity"]; v != nil {
		if s, err := checks.ParseSeverity(p.str(v, what+": severity")); err != nil {
			p.errf(v, "%s: %v", what, err)
		} else {
			m.Severity = s
		}
	}
	if v := k["level"]; v != nil {
		switch p.str(v, what+": level") {
		case "1":
			c.level = 1
		case "2":
			c.level = 2
		default:
			p.errf(v, "%s: level: want 1 or 2 (the CIS profile level)", what)
		}
	}
	if v := k["assessment"]; v != nil {
		if c.assessment = p.str(v, what+": assessment"); c.assessment != "automated" && c.assessment != "manual" {
			p.errf(v, "%s: assessment: want automated or manual, got %q", what, c.assessment)
		}
	}
	if v := k["platforms"]; v != nil {
		m.Platforms = p.strList(v, what+": platforms")
	}
	if v := k["cis"]; v != nil {
		p.cisRefs(c, v, what)
	}
	if v := k["params"]; v != nil {
		m.Params = p.params(v, what)
	}
	if v := k["when"]; v != nil {
		c.when = p.cond(v, m.Params, what+": when")
	}
	if v := k["test"]; v != nil {
		c.test = p.cond(v, m.Params, what+": test")
	}
	if len(p.errs) > before {
		return nil
	}
	if err := m.Validate(); err != nil {
		p.errf(n, "%v", err)
		return nil
	}
	c.regexParams = slices.Compact(slices.Sorted(slices.Values(p.regexParams)))
	return c
}

func (p *parser) cisRefs(c *Check, n *yaml.Node, what string) {
	if n.Kind != yaml.MappingNode {
		p.errf(n, "%s: cis: want a mapping of platform (such as debian:12) to control number", what)
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		bench, ok := checks.CISBenchmarks[k.Value]
		if !ok {
			p.errf(k, "%s: cis: unknown platform %q (want one of %s)", what, k.Value, strings.Join(slices.Sorted(maps.Keys(checks.CISBenchmarks)), ", "))
			continue
		}
		if _, dup := c.cis[k.Value]; dup {
			p.errf(k, "%s: cis: %s given twice", what, k.Value)
			continue
		}
		controls := p.strList(v, what+": cis: "+k.Value)
		for _, ctl := range controls {
			if !controlPattern.MatchString(ctl) {
				p.errf(v, "%s: cis: %s: %q is not a control number such as \"5.2.2\"", what, k.Value, ctl)
				continue
			}
			c.meta.References = append(c.meta.References, checks.Reference{Framework: bench, Control: ctl, Platform: k.Value})
		}
		c.cis[k.Value] = controls
	}
	slices.SortStableFunc(c.meta.References, func(a, b checks.Reference) int { return strings.Compare(a.Platform, b.Platform) })
}

var paramKeys = map[string]bool{"name": true, "kind": true, "default": true, "doc": true, "min": true, "max": true}

func (p *parser) params(n *yaml.Node, what string) []checks.ParamSpec {
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "%s: params: want a list of {name, kind, default, doc}", what)
		return nil
	}
	var out []checks.ParamSpec
	for _, item := range n.Content {
		if item.Kind != yaml.MappingNode {
			p.errf(item, "%s: params: want a mapping with name, kind, default and doc", what)
			continue
		}
		k := p.mapping(item, what+": parameter", paramKeys, "name", "kind", "default", "doc")
		var spec checks.ParamSpec
		if v := k["name"]; v != nil {
			spec.Name = p.str(v, "name")
		}
		if v := k["doc"]; v != nil {
			spec.Doc = p.str(v, "doc")
		}
		if v := k["kind"]; v != nil {
			switch kd := checks.ParamKind(p.str(v, "kind")); kd {
			case checks.KindInt, checks.KindString, checks.KindBool, checks.KindStringList:
				spec.Kind = kd
			default:
				p.errf(v, "%s: parameter %s: kind: want int, string, bool or string_list, got %q", what, spec.Name, kd)
				continue
			}
		}
		for _, b := range []struct {
			key string
			dst **int
		}{{"min", &spec.Min}, {"max", &spec.Max}} {
			if v := k[b.key]; v != nil {
				var x int
				if err := v.Decode(&x); err != nil {
					p.errf(v, "%s: parameter %s: %s: want an integer", what, spec.Name, b.key)
				}
				*b.dst = &x
			}
		}
		if v := k["default"]; v != nil && spec.Kind != "" {
			var raw any
			if err := v.Decode(&raw); err != nil {
				p.errf(v, "%s: parameter %s: default: %v", what, spec.Name, err)
				continue
			}
			def, err := spec.Coerce(raw)
			if err != nil {
				p.errf(v, "%s: parameter %s: default: %v", what, spec.Name, err)
				continue
			}
			spec.Default = def
		}
		out = append(out, spec)
	}
	return out
}

var groupOps = []string{"all", "any", "none"}

// pathProbes take a host path (or glob) as their argument.
var pathProbes = map[string]bool{"file": true, "glob": true, "lines": true, "kv": true, "ini": true}

// cond parses a group (all/any/none) or an assertion.
func (p *parser) cond(n *yaml.Node, params []checks.ParamSpec, what string) cond {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		p.errf(n, "%s: want a probe such as \"file: /etc/passwd\" with matchers, or all/any/none with a list", what)
		return nil
	}
	first := n.Content[0].Value
	if slices.Contains(groupOps, first) {
		if len(n.Content) != 2 {
			p.errf(n.Content[2], "%s: %s: a group has only the one key %s (move %q into an item of the list)", what, first, first, n.Content[2].Value)
			return nil
		}
		list := n.Content[1]
		if list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
			p.errf(list, "%s: %s: want a non-empty list of conditions", what, first)
			return nil
		}
		g := &group{op: first}
		for _, item := range list.Content {
			if c := p.cond(item, params, what+": "+first); c != nil {
				g.items = append(g.items, c)
			}
		}
		return g
	}
	var probeKey *yaml.Node
	var spec probeSpec
	for i := 0; i < len(n.Content); i += 2 {
		k := n.Content[i]
		if s, ok := probes[k.Value]; ok {
			if probeKey != nil {
				p.errf(k, "%s: two probes (%s and %s) in one assertion; combine assertions with all/any/none", what, probeKey.Value, k.Value)
				return nil
			}
			probeKey, spec = k, s
		}
		if slices.Contains(groupOps, k.Value) {
			p.errf(k, "%s: %s must be the only key of its mapping", what, k.Value)
			return nil
		}
	}
	if probeKey == nil {
		p.errf(n, "%s: no probe: want one of %s, or all/any/none", what, strings.Join(slices.Sorted(maps.Keys(probes)), ", "))
		return nil
	}
	return p.assertion(n, probeKey, spec, params, what)
}

func (p *parser) assertion(n, probeKey *yaml.Node, spec probeSpec, params []checks.ParamSpec, what string) cond {
	a := &assertion{probeKey: probeKey.Value, match: "all", line: n.Line}
	what = what + ": " + probeKey.Value
	before := len(p.errs)
	opts := options{}
	var arg string
	// Options first: a lines probe's regex names fields of its own.
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if spec.options[k.Value] == 0 {
			continue
		}
		if _, dup := opts[k.Value]; dup {
			continue // reported below
		}
		s := p.str(v, what+": "+k.Value)
		switch {
		case spec.options[k.Value] == kBool:
			if _, err := parseBool(s); err != nil {
				p.errf(v, "%s: %s: %v", what, k.Value, err)
			}
		case k.Value == "regex":
			if _, err := newRegex(s, true); err != nil {
				p.errf(v, "%s: regex: %s", what, reErr(err))
				break
			}
			groups := capNames(s)
			for _, g := range groups {
				_, field := spec.fields[g]
				_, option := spec.options[g]
				if field || option || slices.Contains([]string{"match", "where", "absent", "unique"}, g) {
					p.errf(v, "%s: regex: group name %q is a key of the assertion already; name it otherwise", what, g)
				}
			}
			if len(groups) > 0 {
				spec.dynamic = func(f string) (kind, bool) { return kString, slices.Contains(groups, f) }
			}
		}
		opts[k.Value] = s
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			p.errf(k, "%s: key %q given twice", what, k.Value)
			continue
		}
		seen[k.Value] = true
		switch {
		case k == probeKey:
			if spec.arg {
				if arg = p.str(v, what); arg == "" && v.Kind == yaml.ScalarNode {
					p.errf(v, "%s: want a non-empty argument", what)
				}
			} else if !(v.Kind == yaml.ScalarNode && (v.Tag == "!!null" || v.Value == "")) && !(v.Kind == yaml.MappingNode && len(v.Content) == 0) {
				p.errf(v, "%s: takes no argument (write \"%s: {}\")", what, probeKey.Value)
			}
			a.arg = arg
		case k.Value == "match":
			if a.match = p.str(v, what+": match"); !slices.Contains(groupOps, a.match) {
				p.errf(v, "%s: match: want all, any or none, got %q", what, a.match)
			}
		case k.Value == "absent":
			if a.absent = p.str(v, what+": absent"); a.absent != "pass" && a.absent != "fail" {
				p.errf(v, "%s: absent: want pass or fail, got %q", what, a.absent)
			}
		case k.Value == "unique":
			a.unique = p.str(v, what+": unique")
			if _, ok := p.fieldKind(spec, a.unique); !ok {
				p.errf(v, "%s: unique: unknown field %q (fields: %s)", what, a.unique, fieldNames(spec))
			}
		case k.Value == "where":
			if v.Kind != yaml.MappingNode {
				p.errf(v, "%s: where: want a mapping of field: matchers", what)
				continue
			}
			inWhere := map[string]bool{}
			for j := 0; j+1 < len(v.Content); j += 2 {
				if inWhere[v.Content[j].Value] {
					p.errf(v.Content[j], "%s: where: field %q given twice (put both matchers in one mapping)", what, v.Content[j].Value)
					continue
				}
				inWhere[v.Content[j].Value] = true
				if fm, ok := p.fieldMatch(spec, v.Content[j], v.Content[j+1], params, what+": where"); ok {
					a.where = append(a.where, fm)
				}
			}
		case spec.options[k.Value] != 0:
			// Read above.
		default:
			if _, ok := p.fieldKind(spec, k.Value); !ok {
				p.errf(k, "%s: unknown key %q (options: %s; fields: %s; or match, where, absent, unique)",
					what, k.Value, orNone(slices.Sorted(maps.Keys(spec.options))), fieldNames(spec))
				continue
			}
			if fm, ok := p.fieldMatch(spec, k, v, params, what); ok {
				a.fields = append(a.fields, fm)
			}
		}
	}
	for _, r := range spec.required {
		if _, ok := opts[r]; !ok {
			p.errf(n, "%s: missing required option %q", what, r)
		}
	}
	if a.unique != "" && (len(a.fields) > 0 || seen["match"] || seen["absent"]) {
		p.errf(n, "%s: unique finds duplicates on its own; put field matchers, match or absent in another assertion (use where to choose the entries)", what)
	}
	// Paths are host paths: relative ones would mean nothing on every host.
	if spec.arg && pathProbes[probeKey.Value] && arg != "" && !strings.HasPrefix(arg, "/") {
		p.errf(probeKey, "%s: %q: want an absolute path", what, arg)
	}
	for _, o := range []string{"path", "dropins"} {
		if v, ok := opts[o]; ok && !strings.HasPrefix(v, "/") {
			p.errf(n, "%s: %s: %q: want an absolute path", what, o, v)
		}
	}
	if len(p.errs) > before {
		return nil
	}
	pr, err := spec.build(arg, opts)
	if err != nil {
		p.errf(probeKey, "%s: %v", what, err)
		return nil
	}
	a.probe, a.spec = pr, spec
	return a
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func fieldNames(spec probeSpec) string {
	names := slices.Sorted(maps.Keys(spec.fields))
	if spec.dynamic != nil {
		if _, ok := spec.dynamic("arg.x"); ok {
			names = append(names, "arg.NAME")
		} else {
			names = append(names, "the regex's named groups")
		}
	} else if _, ok := spec.options["regex"]; ok {
		names = append(names, "the regex's named groups")
	}
	return strings.Join(names, ", ")
}

func (p *parser) fieldKind(spec probeSpec, field string) (kind, bool) {
	if k, ok := spec.fields[field]; ok {
		return k, true
	}
	if spec.dynamic != nil {
		return spec.dynamic(field)
	}
	return 0, false
}

// opsByKind lists the matchers each field kind accepts.
var opsByKind = map[kind][]string{
	kString:  {"eq", "ne", "lt", "le", "gt", "ge", "regex", "not_regex", "contains", "not_contains", "one_of"},
	kInt:     {"eq", "ne", "lt", "le", "gt", "ge", "one_of"},
	kBool:    {"eq", "ne"},
	kList:    {"eq", "ne", "regex", "not_regex", "contains", "not_contains"},
	kMode:    {"eq", "ne", "mode_at_most"},
	kVersion: {"eq", "ne", "lt", "le", "gt", "ge", "one_of"},
}

func (p *parser) fieldMatch(spec probeSpec, k, v *yaml.Node, params []checks.ParamSpec, what string) (fieldMatch, bool) {
	fk, ok := p.fieldKind(spec, k.Value)
	if !ok {
		p.errf(k, "%s: unknown field %q (fields: %s)", what, k.Value, fieldNames(spec))
		return fieldMatch{}, false
	}
	fm := fieldMatch{field: k.Value, kind: fk, line: k.Line}
	what = what + ": " + k.Value
	before := len(p.errs)
	// "field: {param: x}" and "field: {field: y}" are eq shorthands.
	ref := v.Kind == yaml.MappingNode && len(v.Content) == 2 && (v.Content[0].Value == "param" || v.Content[0].Value == "field")
	switch {
	case v.Kind == yaml.ScalarNode || ref:
		if m, ok := p.matcher(spec, fk, "eq", v, params, what); ok {
			fm.ms = append(fm.ms, m)
		}
	case v.Kind == yaml.MappingNode:
		if len(v.Content) == 0 {
			p.errf(v, "%s: no matcher (want one of %s)", what, strings.Join(opsByKind[fk], ", "))
		}
		ops := map[string]bool{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			op := v.Content[i]
			if ops[op.Value] {
				p.errf(op, "%s: matcher %s given twice", what, op.Value)
				continue
			}
			ops[op.Value] = true
			if !slices.Contains(matchOps, op.Value) {
				p.errf(op, "%s: unknown matcher %q (want %s)", what, op.Value, strings.Join(opsByKind[fk], ", "))
				continue
			}
			if !slices.Contains(opsByKind[fk], op.Value) {
				p.errf(op, "%s: matcher %s does not apply to a %s field (want %s)", what, op.Value, fk, strings.Join(opsByKind[fk], ", "))
				continue
			}
			if m, ok := p.matcher(spec, fk, op.Value, v.Content[i+1], params, what); ok {
				fm.ms = append(fm.ms, m)
			}
		}
	default:
		p.errf(v, "%s: want a value, or a mapping of matchers such as {eq: 0}", what)
	}
	return fm, len(p.errs) == before
}

func (p *parser) matcher(spec probeSpec, fk kind, op string, v *yaml.Node, params []checks.ParamSpec, what string) (matcher, bool) {
	m := matcher{op: op, line: v.Line}
	what = what + ": " + op
	if v.Kind == yaml.MappingNode && len(v.Content) == 2 && v.Content[0].Value == "field" {
		m.field = p.str(v.Content[1], what+": field")
		k, ok := p.fieldKind(spec, m.field)
		switch {
		case !ok:
			p.errf(v.Content[1], "%s: unknown field %q (fields: %s)", what, m.field, fieldNames(spec))
			return m, false
		case op == "one_of" || op == "regex" || op == "not_regex" || op == "mode_at_most":
			p.errf(v.Content[1], "%s: {field: ...} compares with eq, ne, lt, le, gt, ge, contains or not_contains", what)
			return m, false
		case k == kList || (k != fk && !(k == kInt && fk == kString) && !(k == kString && fk == kInt)):
			p.errf(v.Content[1], "%s: field %s is a %s; it cannot be compared with a %s", what, m.field, k, fk)
			return m, false
		}
		m.fieldKind = k
		return m, true
	}
	if v.Kind == yaml.MappingNode {
		if len(v.Content) != 2 || v.Content[0].Value != "param" {
			p.errf(v, "%s: want a value, {param: NAME} or {field: NAME}", what)
			return m, false
		}
		m.param = p.str(v.Content[1], what+": param")
		i := slices.IndexFunc(params, func(s checks.ParamSpec) bool { return s.Name == m.param })
		if i < 0 {
			p.errf(v.Content[1], "%s: unknown parameter %q (declare it under params)", what, m.param)
			return m, false
		}
		if op == "regex" || op == "not_regex" {
			if def, ok := params[i].Default.(string); ok {
				if _, err := newRegex(def, true); err != nil {
					p.errf(v.Content[1], "%s: parameter %s: default %q: %s", what, m.param, def, reErr(err))
					return m, false
				}
			}
			p.regexParams = append(p.regexParams, m.param)
		}
		if op == "one_of" && params[i].Kind != checks.KindStringList {
			p.errf(v.Content[1], "%s: parameter %s is %s; one_of needs a string_list", what, m.param, params[i].Kind)
			return m, false
		}
		if op != "one_of" && params[i].Kind == checks.KindStringList {
			p.errf(v.Content[1], "%s: parameter %s is a string_list; only one_of takes a list", what, m.param)
			return m, false
		}
		if (op == "mode_at_most" || fk == kMode) && params[i].Kind != checks.KindString {
			// YAML reads 0640 as the number 416: a mode must be a string.
			p.errf(v.Content[1], "%s: parameter %s is %s; a mode needs a string parameter such as \"0640\"", what, m.param, params[i].Kind)
			return m, false
		}
		return m, true
	}
	if op == "one_of" {
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
			p.errf(v, "%s: want a non-empty list", what)
			return m, false
		}
		for _, c := range v.Content {
			s := p.str(c, what)
			if err := checkLiteral(fk, "eq", s); err != nil {
				p.errf(c, "%s: %v", what, err)
				return m, false
			}
			m.args = append(m.args, s)
		}
		m.arg = strings.Join(m.args, ", ")
		return m, true
	}
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		p.errf(v, "%s: want a single value", what)
		return m, false
	}
	m.arg = v.Value
	m.args = []string{v.Value}
	if err := checkLiteral(fk, op, m.arg); err != nil {
		p.errf(v, "%s: %v", what, err)
		return m, false
	}
	if op == "regex" || op == "not_regex" {
		re, err := newRegex(m.arg, !p.builtin)
		if err != nil {
			p.errf(v, "%s: bad regular expression: %s", what, reErr(err))
			return m, false
		}
		m.re = re
	}
	return m, true
}

// checkLiteral validates an expected value against the field's kind at
// load time, so that "uid: {lt: ten}" is an error in the file, not an
// ERROR on every host.
func checkLiteral(fk kind, op, s string) error {
	switch {
	case op == "regex" || op == "not_regex" || op == "contains" || op == "not_contains":
		return nil
	case op == "mode_at_most" || fk == kMode:
		_, err := parseMode(s)
		return err
	case fk == kBool:
		_, err := parseBool(s)
		return err
	case fk == kInt || (fk == kString && slices.Contains([]string{"lt", "le", "gt", "ge"}, op)):
		if _, err := parseInt(s); err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
	}
	return nil
}
