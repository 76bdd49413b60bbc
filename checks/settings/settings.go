// Package settings loads typed settings files, shared by the agent's and the
// server's configuration: a YAML file is decoded onto a struct that already
// holds the defaults, then PLUMBLINE_* environment variables override it.
//
// A settings struct is plain Go: every exported field has a `yaml:"name"`
// tag and may have a `doc:"..."` tag; nested structs are sections. Leaf
// fields are string, bool, int kinds, time.Duration (written "90s", "1h"),
// Size (written 1048576 or "64MiB") or any encoding.TextUnmarshaler.
//
// Every problem is reported, not just the first, as an Error naming where
// the value came from and the key: "agent.yaml:12: scan.interval: want a
// duration such as ...". So one run of "config check" shows all there is to
// fix.
//
// The environment variable of a key is the prefix followed by the key's
// path, uppercased, with "_" between the parts: with prefix "PLUMBLINE_",
// nats.url is PLUMBLINE_NATS_URL. A variable that starts with the prefix but
// names no key is an error (a typo would otherwise be silently ignored),
// unless it is on the caller's allow list.
package settings

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Source says where settings come from.
type Source struct {
	// Path is the YAML file.
	Path string
	// Explicit is set when the file was asked for (a --config flag or
	// PLUMBLINE_CONFIG): a missing file is then an error. A missing file at
	// the default path only means "defaults and environment".
	Explicit bool
	// Env is the environment in os.Environ form. It is passed in rather
	// than read, so that tests are hermetic.
	Env []string
	// EnvPrefix starts every settings variable ("PLUMBLINE_"); empty
	// disables environment overrides.
	EnvPrefix string
	// EnvAllow lists variables that start with EnvPrefix but are not
	// settings (e.g. PLUMBLINE_CONFIG), so they are not taken for typos.
	EnvAllow []string
}

// Load reads src onto dst, a pointer to a struct that holds the defaults,
// then calls validate (if not nil) and points its errors at the file line
// or variable that set the offending key. It returns where each key's value
// came from. All problems come back at once as Errors; dst may be partly
// updated when there are any. Only a file that cannot be read at all is
// another error.
func Load(dst any, src Source, validate func() error) (Origins, error) {
	v := structValue(dst)
	origins := Origins{}
	var errs Errors

	data, err := os.ReadFile(src.Path)
	switch {
	case err == nil:
		errs = append(errs, decode(src.Path, data, v, origins)...)
	case errors.Is(err, fs.ErrNotExist) && !src.Explicit:
		// The default file is optional: defaults and environment apply.
	default:
		return nil, fmt.Errorf("read settings file: %w", err)
	}
	errs = append(errs, applyEnv(v, src, origins)...)

	if validate != nil {
		if err := validate(); err != nil {
			failed := map[string]bool{}
			for _, e := range errs {
				failed[e.Key] = true
			}
			for _, e := range origins.Locate(err) {
				// A key that did not load kept its default; judging the
				// default would only confuse.
				if e.Key == "" || !failed[e.Key] {
					errs = append(errs, e)
				}
			}
		}
	}
	errs.sort()
	return origins, errs.Err()
}

// Parse decodes YAML settings data onto dst (a pointer to a struct holding
// the defaults); file names the data in errors. It is Load without the file
// system, the environment and validation.
func Parse(file string, data []byte, dst any) (Origins, error) {
	origins := Origins{}
	errs := decode(file, data, structValue(dst), origins)
	errs.sort()
	return origins, errs.Err()
}

func structValue(dst any) reflect.Value {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("settings: want a non-nil pointer to a struct, got %T", dst))
	}
	// Walking the type up front turns a malformed struct into a panic on
	// every load, so any test of the package that owns it catches it.
	leaves(v.Elem().Type())
	return v.Elem()
}

// Origin is where a key's value came from: a file line or an environment
// variable. The zero Origin means the default.
type Origin struct {
	File string
	Line int
	Env  string
}

// String says where: "file:line", "environment NAME" or "default".
func (o Origin) String() string {
	switch {
	case o.Env != "":
		return "environment " + o.Env
	case o.File != "":
		return fmt.Sprintf("%s:%d", o.File, o.Line)
	}
	return "default"
}

// Origins maps dotted keys ("scan.interval") to where their value came
// from; keys left at their default are absent.
type Origins map[string]Origin

// Locate turns err (usually Errors from a Validate method) into Errors and
// gives each keyed problem the position of the value that caused it, so
// that "scan.jitter must be less than scan.interval" points at the line to
// edit.
func (o Origins) Locate(err error) Errors {
	if err == nil {
		return nil
	}
	var es Errors
	if !errors.As(err, &es) {
		return Errors{{Msg: err.Error()}}
	}
	out := make(Errors, len(es))
	for i, e := range es {
		if e.File == "" && e.Env == "" {
			if at, ok := o[e.Key]; ok {
				e.File, e.Line, e.Env = at.File, at.Line, at.Env
			}
		}
		out[i] = e
	}
	return out
}

// Error is one problem with one setting.
type Error struct {
	// File and Line locate a problem in a settings file.
	File string
	Line int
	// Env names the variable for a problem in the environment.
	Env string
	// Key is the dotted key path ("nats.url"); empty for problems with
	// the file as a whole.
	Key string
	// Msg says what was expected.
	Msg string
}

// Error formats the problem as "file:line: key: msg" or
// "environment NAME: key: msg".
func (e Error) Error() string {
	var b strings.Builder
	switch {
	case e.Env != "":
		b.WriteString("environment " + e.Env + ": ")
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found, one per line when printed.
type Errors []Error

// Error puts each problem on its own line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap gives errors.Is and errors.As access to each problem.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Addf records a problem with key; Validate methods use it to collect every
// problem before returning.
func (es *Errors) Addf(key, format string, args ...any) {
	*es = append(*es, Error{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// Err returns es as an error, or nil when there are none; returning the
// slice itself would make an empty list a non-nil error.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// sort orders problems as a reader fixes them: file problems by line, then
// variables by name, then the rest as found.
func (es Errors) sort() {
	rank := func(e Error) int {
		switch {
		case e.File != "":
			return 0
		case e.Env != "":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(es, func(a, b Error) int {
		if c := rank(a) - rank(b); c != 0 {
			return c
		}
		switch rank(a) {
		case 0:
			if c := strings.Compare(a.File, b.File); c != 0 {
				return c
			}
			return a.Line - b.Line
		case 1:
			return strings.Compare(a.Env, b.Env)
		}
		return 0
	})
}

// decoder walks a YAML document against a settings struct.
type decoder struct {
	file    string
	origins Origins
	errs    Errors
}

func decode(file string, data []byte, v reflect.Value, origins Origins) Errors {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			// An empty file, or one with only comments, sets nothing.
			return nil
		}
		line, msg := yamlErr(err)
		return Errors{{File: file, Line: line, Msg: "not valid YAML: " + msg}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Errors{{File: file, Line: extra.Line, Msg: `more than one YAML document ("---"): a settings file is one document`}}
	}
	if len(doc.Content) == 0 {
		return nil
	}
	top := doc.Content[0]
	if isNull(top) {
		return nil
	}
	d := &decoder{file: file, origins: origins}
	if top.Kind != yaml.MappingNode {
		d.errf(top, "", "want a mapping of settings (key: value), got %s", nodeKind(top))
		return d.errs
	}
	d.section(top, v, "")
	return d.errs
}

func (d *decoder) errf(n *yaml.Node, key, format string, args ...any) {
	d.errs = append(d.errs, Error{File: d.file, Line: n.Line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// section decodes mapping n onto struct v, whose key path is path.
func (d *decoder) section(n *yaml.Node, v reflect.Value, path string) {
	fields := structFields(v.Type())
	firstLine := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], deref(n.Content[i+1])
		key := joinKey(path, k.Value)
		if line, dup := firstLine[k.Value]; dup {
			d.errf(k, key, "given twice (first at line %d)", line)
			continue
		}
		firstLine[k.Value] = k.Line
		f, ok := lookupField(fields, k.Value)
		if !ok {
			d.errf(k, key, "unknown key%s", suggestKey(k.Value, path, fields))
			continue
		}
		fv := v.Field(f.index)
		if f.section {
			switch {
			case isNull(val):
				// "nats:" with every entry commented out sets nothing.
			case val.Kind != yaml.MappingNode:
				d.errf(val, key, "want a mapping of %s settings, got %s", key, nodeKind(val))
			default:
				d.section(val, fv, key)
			}
			continue
		}
		if msg := setNode(fv, val); msg != "" {
			d.errf(val, key, "%s", msg)
			continue
		}
		d.origins[key] = Origin{File: d.file, Line: k.Line}
	}
}

// setNode sets leaf v from a YAML node and returns what was wrong, if
// anything.
func setNode(v reflect.Value, n *yaml.Node) string {
	want := describe(v.Type())
	switch {
	case n.Kind != yaml.ScalarNode:
		return fmt.Sprintf("want %s, got %s", want, nodeKind(n))
	case isNull(n):
		if v.Kind() == reflect.String {
			return fmt.Sprintf(`want %s, got no value (write "" for an empty one)`, want)
		}
		return fmt.Sprintf("want %s, got no value", want)
	}
	tag := n.ShortTag()
	switch {
	case isText(v.Type()) || v.Type() == durationType:
		// The type's own parser says what it wants.
	case v.Kind() == reflect.String:
		if tag == "!!bool" {
			return fmt.Sprintf("want %s, got %s (quote it to mean the text)", want, n.Value)
		}
	case v.Kind() == reflect.Bool:
		if tag != "!!bool" {
			return fmt.Sprintf("want %s, got %q", want, n.Value)
		}
	default: // int kinds
		if tag != "!!int" {
			return fmt.Sprintf("want %s, got %q", want, n.Value)
		}
	}
	if err := setText(v, n.Value); err != nil {
		return err.Error()
	}
	return ""
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func isText(t reflect.Type) bool { return reflect.PointerTo(t).Implements(textUnmarshalerType) }

// setText sets leaf v from text, as found in YAML or in a variable.
func setText(v reflect.Value, s string) error {
	t := v.Type()
	switch {
	case isText(t):
		return v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
	case t == durationType:
		d, err := ParseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("want %s, got %q", describe(t), s)
		}
		v.SetBool(b)
	default:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v.OverflowInt(n) {
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return fmt.Errorf("want %s, got %q", describe(t), s)
			}
			return fmt.Errorf("%s is out of range for %s", s, describe(t))
		}
		v.SetInt(n)
	}
	return nil
}

// describe says what a leaf of type t wants, for messages.
func describe(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[Size]():
		return sizeWant
	case t == durationType:
		return durationWant
	case isText(t):
		return "a value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	}
	return "a whole number"
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// deref follows YAML aliases (*name) to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func joinKey(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// suggestKey helps with a mistyped key: the nearest known one, or the list
// of keys the section has.
func suggestKey(name, path string, fields []field) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	if near := nearest(name, names); near != "" {
		return fmt.Sprintf(" (did you mean %s?)", joinKey(path, near))
	}
	where := "the top level"
	if path != "" {
		where = path
	}
	return fmt.Sprintf(" (%s has %s)", where, strings.Join(names, ", "))
}

// nearest returns the candidate within a small edit distance of s, or one
// that s abbreviates ("sweep" for "sweep_every"), if any.
func nearest(s string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		d := editDistance(s, c)
		if len(s) >= 4 && strings.HasPrefix(c, s) {
			d = min(d, 2)
		}
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// yamlErr splits a YAML syntax error ("yaml: line 2: mapping values are
// not allowed") into its line and message, so the line is not said twice.
func yamlErr(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil {
		_, rest, _ := strings.Cut(msg, ": ")
		return line, rest
	}
	return 0, msg
}

// applyEnv sets keys from src's environment variables.
func applyEnv(v reflect.Value, src Source, origins Origins) Errors {
	if src.EnvPrefix == "" {
		return nil
	}
	byEnv := map[string]leaf{}
	var names []string
	for _, l := range leaves(v.Type()) {
		name := src.EnvPrefix + l.env
		byEnv[name] = l
		names = append(names, name)
	}
	var errs Errors
	for _, kv := range src.Env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, src.EnvPrefix) || slices.Contains(src.EnvAllow, name) {
			continue
		}
		l, ok := byEnv[name]
		if !ok {
			msg := "names no setting"
			if near := nearest(name, names); near != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", near)
			}
			errs = append(errs, Error{Env: name, Msg: msg})
			continue
		}
		if err := setText(v.FieldByIndex(l.index), val); err != nil {
			errs = append(errs, Error{Env: name, Key: l.key, Msg: err.Error()})
			continue
		}
		origins[l.key] = Origin{Env: name}
	}
	return errs
}

// Getenv returns the value of name in env (os.Environ form); the last
// entry wins, as in os/exec.
func Getenv(env []string, name string) string {
	val := ""
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			val = v
		}
	}
	return val
}

// EnvName is the variable that overrides key ("spool.max_bytes") under
// prefix ("PLUMBLINE_"): PLUMBLINE_SPOOL_MAX_BYTES.
func EnvName(prefix, key string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Path picks a configuration file: the flag's value, else the variable
// envVar of env, else def. explicit is false only for def, which may be
// absent.
func Path(flag string, env []string, envVar, def string) (path string, explicit bool) {
	if flag != "" {
		return flag, true
	}
	if p := Getenv(env, envVar); p != "" {
		return p, true
	}
	return def, false
}
