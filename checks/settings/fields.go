package settings

import (
	"encoding"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// field is one tagged field of a settings struct.
type field struct {
	name    string // the yaml tag
	index   int
	typ     reflect.Type
	doc     string
	section bool
}

// structFields lists the settings fields of struct type t in declaration
// order. A field it cannot handle is a programming error and panics, the
// way regexp.MustCompile does: the struct is fixed at compile time.
func structFields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			panic(fmt.Sprintf("settings: %s.%s has no yaml tag", t, sf.Name))
		}
		f := field{name: name, index: i, typ: sf.Type, doc: sf.Tag.Get("doc")}
		switch {
		case isLeaf(sf.Type):
		case sf.Type.Kind() == reflect.Struct:
			f.section = true
		default:
			panic(fmt.Sprintf("settings: %s.%s: type %s is not supported", t, sf.Name, sf.Type))
		}
		out = append(out, f)
	}
	return out
}

func isLeaf(t reflect.Type) bool {
	if isText(t) || t == durationType {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

func lookupField(fields []field, name string) (field, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// leaf is one setting: a non-section field anywhere in the struct.
type leaf struct {
	key   string // "scan.interval"
	env   string // "SCAN_INTERVAL", without the prefix
	index []int
	typ   reflect.Type
	doc   string
}

// leaves lists every setting of struct type t in declaration order. Two
// keys that map to one variable name panic, since one could not be set.
func leaves(t reflect.Type) []leaf {
	var out []leaf
	var walk func(t reflect.Type, path string, index []int)
	walk = func(t reflect.Type, path string, index []int) {
		for _, f := range structFields(t) {
			key := joinKey(path, f.name)
			// Clone so that sibling fields do not share a backing array.
			idx := append(slices.Clone(index), f.index)
			if f.section {
				walk(f.typ, key, idx)
				continue
			}
			out = append(out, leaf{key: key, env: EnvName("", key), index: idx, typ: f.typ, doc: f.doc})
		}
	}
	walk(t, "", nil)
	seen := map[string]string{}
	for _, l := range out {
		if other, dup := seen[l.env]; dup {
			panic(fmt.Sprintf("settings: %s and %s both map to the variable suffix %s", other, l.key, l.env))
		}
		seen[l.env] = l.key
	}
	return out
}

// Field documents one setting.
type Field struct {
	// Key is the dotted path ("scan.interval").
	Key string
	// Env is the variable that overrides it ("PLUMBLINE_SCAN_INTERVAL").
	Env string
	// Type is "string", "bool", "int", "duration", "size" or "value".
	Type string
	// Value is the setting's value written as in a settings file: strings
	// quoted, durations as "1h", sizes as "64MiB".
	Value string
	// Doc is the field's doc tag.
	Doc string
}

// Fields lists every setting of v (a settings struct or a pointer to one)
// with its current value; given the defaults, it is the documentation of
// the settings. Env names use envPrefix.
func Fields(v any, envPrefix string) []Field {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		panic(fmt.Sprintf("settings: want a struct, got %T", v))
	}
	var out []Field
	for _, l := range leaves(rv.Type()) {
		fv := rv.FieldByIndex(l.index)
		out = append(out, Field{
			Key:   l.key,
			Env:   envPrefix + l.env,
			Type:  typeName(l.typ),
			Value: Format(fv.Interface()),
			Doc:   l.doc,
		})
	}
	return out
}

func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[Size]():
		return "size"
	case t == durationType:
		return "duration"
	case isText(t):
		return "value"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	}
	return "int"
}

// Format writes a setting's value as it would appear in a settings file.
func Format(v any) string {
	switch x := v.(type) {
	case time.Duration:
		return FormatDuration(x)
	case string:
		return strconv.Quote(x)
	case encoding.TextMarshaler:
		if b, err := x.MarshalText(); err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v)
}

// WriteTable prints fields as an aligned table of key, value, variable and
// doc, for "config check" and generated documentation.
func WriteTable(w io.Writer, fields []Field) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tENVIRONMENT\tDOC")
	for _, f := range fields {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Key, f.Value, f.Env, f.Doc)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write settings table: %w", err)
	}
	return nil
}
