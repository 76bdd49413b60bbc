package checks

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// ParamKind is the type of a check parameter.
type ParamKind string

// The parameter kinds. KindObject leaves the decoded YAML value (maps, lists,
// scalars) to the check, which validates it through ParamValidator.
const (
	KindInt        ParamKind = "int"
	KindString     ParamKind = "string"
	KindBool       ParamKind = "bool"
	KindStringList ParamKind = "string_list"
	KindDuration   ParamKind = "duration"
	KindObject     ParamKind = "object"
)

// ParamSpec declares one parameter a check accepts.
type ParamSpec struct {
	Name    string    `json:"name"`
	Kind    ParamKind `json:"kind"`
	Default any       `json:"default"`
	Doc     string    `json:"doc"`
	// Min and Max bound KindInt values when non-nil.
	Min *int `json:"min,omitempty"`
	Max *int `json:"max,omitempty"`
}

// IntRange returns pointers for ParamSpec.Min and Max.
func IntRange(lo, hi int) (*int, *int) { return &lo, &hi }

func (p ParamSpec) validateSpec() error {
	if p.Name == "" || p.Doc == "" {
		return fmt.Errorf("parameter %q: name and doc are required", p.Name)
	}
	if _, err := p.Coerce(p.Default); err != nil {
		return fmt.Errorf("parameter %q default: %w", p.Name, err)
	}
	return nil
}

// Coerce converts a decoded YAML or JSON value to the Go type of the kind:
// int, string, bool, []string, time.Duration, or the value itself for objects.
func (p ParamSpec) Coerce(v any) (any, error) {
	switch p.Kind {
	case KindInt:
		var n int
		switch x := v.(type) {
		case int:
			n = x
		case int64:
			n = int(x)
		case uint64:
			if x > math.MaxInt {
				return nil, fmt.Errorf("%d is too large", x)
			}
			n = int(x)
		case float64:
			if x > math.MaxInt || x < math.MinInt {
				return nil, fmt.Errorf("%v is too large", x)
			}
			if x != float64(int(x)) {
				return nil, fmt.Errorf("want an integer, got %v", x)
			}
			n = int(x)
		default:
			return nil, fmt.Errorf("want an integer, got %s", describeValue(v))
		}
		if p.Min != nil && n < *p.Min {
			return nil, fmt.Errorf("%d is below the minimum %d", n, *p.Min)
		}
		if p.Max != nil && n > *p.Max {
			return nil, fmt.Errorf("%d is above the maximum %d", n, *p.Max)
		}
		return n, nil
	case KindString:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a string, got %s", describeValue(v))
		}
		return s, nil
	case KindBool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want true or false, got %s", describeValue(v))
		}
		return b, nil
	case KindStringList:
		switch x := v.(type) {
		case []string:
			return slices.Clone(x), nil
		case []any:
			out := make([]string, 0, len(x))
			for i, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("item %d: want a string, got %s", i+1, describeValue(e))
				}
				out = append(out, s)
			}
			return out, nil
		default:
			return nil, fmt.Errorf("want a list of strings, got %s", describeValue(v))
		}
	case KindDuration:
		switch x := v.(type) {
		case time.Duration:
			return x, nil
		case string:
			d, err := time.ParseDuration(x)
			if err != nil {
				return nil, fmt.Errorf("want a duration such as \"10s\" or \"720h\", got %q", x)
			}
			return d, nil
		default:
			return nil, fmt.Errorf("want a duration such as \"10s\", got %s", describeValue(v))
		}
	case KindObject:
		return v, nil
	default:
		return nil, fmt.Errorf("unknown parameter kind %q", p.Kind)
	}
}

func describeValue(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("the string %q", v)
	default:
		return fmt.Sprintf("%T %v", v, v)
	}
}

// Params are a check's parameter values after defaults and overrides, keyed
// by name and already coerced to their kinds.
type Params map[string]any

// Resolve builds Params from the declared specs' defaults with overrides
// applied, rejecting unknown names and values of the wrong kind.
func Resolve(specs []ParamSpec, overrides map[string]any) (Params, error) {
	p := make(Params, len(specs))
	byName := make(map[string]ParamSpec, len(specs))
	for _, s := range specs {
		byName[s.Name] = s
		v, err := s.Coerce(s.Default)
		if err != nil {
			return nil, fmt.Errorf("parameter %s default: %w", s.Name, err)
		}
		p[s.Name] = v
	}
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		s, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("unknown parameter %q (known: %s)", name, knownNames(specs))
		}
		v, err := s.Coerce(overrides[name])
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", name, err)
		}
		p[name] = v
	}
	return p, nil
}

func knownNames(specs []ParamSpec) string {
	if len(specs) == 0 {
		return "none"
	}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Int returns an int parameter; it panics if the check asks for a name it did
// not declare, which is a programming error caught by the check's own tests.
func (p Params) Int(name string) int { return mustParam[int](p, name) }

// String returns a string parameter.
func (p Params) String(name string) string { return mustParam[string](p, name) }

// Bool returns a bool parameter.
func (p Params) Bool(name string) bool { return mustParam[bool](p, name) }

// StringList returns a string-list parameter.
func (p Params) StringList(name string) []string { return mustParam[[]string](p, name) }

// Duration returns a duration parameter.
func (p Params) Duration(name string) time.Duration { return mustParam[time.Duration](p, name) }

// Object returns an object parameter as decoded from YAML or JSON.
func (p Params) Object(name string) any {
	v, ok := p[name]
	if !ok {
		panic(fmt.Sprintf("checks: parameter %q not declared", name))
	}
	return v
}

func mustParam[T any](p Params, name string) T {
	v, ok := p[name].(T)
	if !ok {
		panic(fmt.Sprintf("checks: parameter %q not declared as %T", name, v))
	}
	return v
}
