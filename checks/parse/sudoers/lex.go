package sudoers

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// logicalLine is one statement after continuation lines are joined and
// comments removed; include is set for include directives.
type logicalLine struct {
	text    string
	line    int // first physical line
	include *includeDirective
}

type includeDirective struct {
	path string
	dir  bool
}

// scanLines splits data into logical lines and calls fn for each.
func scanLines(file string, data []byte, fn func(logicalLine) error) error {
	lines := strings.Split(string(data), "\n")
	var acc strings.Builder
	start := 0
	inQuote := false
	for i, raw := range lines {
		n := i + 1
		raw = strings.TrimSuffix(raw, "\r")
		if start == 0 {
			trimmed := strings.TrimLeft(raw, " \t")
			inc, ok, err := parseInclude(trimmed)
			if err != nil {
				return fmt.Errorf("%s:%d: %w", file, n, err)
			}
			if ok {
				if err := fn(logicalLine{line: n, include: inc}); err != nil {
					return err
				}
				continue
			}
			if strings.HasPrefix(trimmed, "#") && !isUIDSpec(trimmed) {
				continue // a comment
			}
			start = n
		}
		content, q := stripComment(raw, inQuote)
		inQuote = q
		body := strings.TrimRight(content, " \t")
		if continues(body) {
			acc.WriteString(body[:len(body)-1])
			if !inQuote {
				acc.WriteByte(' ')
			}
			continue
		}
		if inQuote {
			return fmt.Errorf("%s:%d: unterminated quoted string", file, n)
		}
		acc.WriteString(content)
		if err := fn(logicalLine{text: acc.String(), line: start}); err != nil {
			return err
		}
		acc.Reset()
		start = 0
	}
	if start != 0 {
		return fmt.Errorf("%s:%d: line continuation at end of file", file, start)
	}
	return nil
}

// continues reports whether s ends in an unescaped backslash.
func continues(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// isUIDSpec reports whether a line starting with "#" is a user
// specification for a numeric uid ("#1000 ALL=(ALL) ALL") rather than a
// comment.
func isUIDSpec(s string) bool {
	return len(s) > 1 && isDigit(s[1]) && strings.Contains(s, "=")
}

// stripComment removes a "#" comment outside double quotes; "#" followed by
// a digit is a uid ("(#0)"), not a comment. It returns whether the line
// ends inside a quoted string.
func stripComment(s string, inQuote bool) (string, bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
		case c == '"':
			inQuote = !inQuote
		case c == '#' && !inQuote:
			if i+1 < len(s) && isDigit(s[i+1]) {
				continue
			}
			return s[:i], false
		}
	}
	return s, inQuote
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseInclude recognises the include directives; ok is false for any
// other line. "#include" needs a blank after it, otherwise it is a comment.
func parseInclude(s string) (*includeDirective, bool, error) {
	var dir bool
	var rest string
	switch {
	case strings.HasPrefix(s, "#includedir"), strings.HasPrefix(s, "@includedir"):
		dir, rest = true, s[len("#includedir"):]
	case strings.HasPrefix(s, "#include"), strings.HasPrefix(s, "@include"):
		rest = s[len("#include"):]
	default:
		return nil, false, nil
	}
	if rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		if s[0] == '#' {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("want %s followed by a path, got %q", strings.Fields(s)[0], s)
	}
	kw := s[:len(s)-len(rest)]
	rest = strings.TrimLeft(rest, " \t")
	p, after, err := includePath(rest)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", kw, err)
	}
	if after = strings.TrimLeft(after, " \t"); after != "" && after[0] != '#' {
		return nil, false, fmt.Errorf("%s: unexpected %q after the path", kw, after)
	}
	return &includeDirective{path: p, dir: dir}, true, nil
}

// includePath reads a path that is either double-quoted (taken literally)
// or unquoted with backslash escapes ("/etc/my\ file").
func includePath(s string) (p, rest string, err error) {
	if s == "" || s[0] == '#' {
		return "", "", errors.New("missing path")
	}
	if s[0] == '"' {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return "", "", errors.New("unterminated quoted path")
		}
		if end == 0 {
			return "", "", errors.New("empty path")
		}
		return s[1 : end+1], s[end+2:], nil
	}
	var b strings.Builder
	i := 0
	for ; i < len(s) && s[i] != ' ' && s[i] != '\t'; i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String(), s[i:], nil
}

// parseDefaults parses what follows the word "Defaults".
func parseDefaults(rest string) ([]Default, error) {
	scope := ScopeGlobal
	var binding string
	if rest != "" {
		switch rest[0] {
		case ':':
			scope = ScopeUser
		case '@':
			scope = ScopeHost
		case '!':
			scope = ScopeCommand
		case '>':
			scope = ScopeRunas
		}
	}
	if scope != ScopeGlobal {
		var err error
		binding, rest, err = parseBinding(rest[1:])
		if err != nil {
			//lint:ignore ST1005 "Defaults" is the sudoers keyword, spelled as users write it
			return nil, fmt.Errorf("Defaults%s: %w", scope, err)
		}
	}
	defs, err := parseParams(rest)
	if err != nil {
		return nil, err
	}
	for i := range defs {
		defs[i].Scope, defs[i].Binding = scope, binding
	}
	return defs, nil
}

// parseBinding reads the list after "Defaults:" (and @, !, >): items
// separated by commas, ending at the first blank not next to a comma.
// Blanks right after the binding character are allowed, as in sudo.
func parseBinding(s string) (binding, rest string, err error) {
	var items []string
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		startItem := i
		for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != ',' {
			switch s[i] {
			case '\\':
				i++
			case '"':
				end := strings.IndexByte(s[i+1:], '"')
				if end < 0 {
					return "", "", errors.New("unterminated quoted name")
				}
				i += end + 1
			}
			i++
		}
		if i > len(s) {
			i = len(s)
		}
		item := s[startItem:i]
		if item == "" {
			return "", "", errors.New("missing name in the scope list")
		}
		items = append(items, item)
		j := i
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		if j < len(s) && s[j] == ',' {
			i = j + 1
			continue
		}
		return strings.Join(items, ","), s[i:], nil
	}
}

var paramName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)

// parseParams parses "a, !b, c=d, e += "f g"".
func parseParams(s string) ([]Default, error) {
	var out []Default
	i := 0
	skip := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	for {
		skip()
		if i == len(s) {
			if len(out) == 0 {
				//lint:ignore ST1005 "Defaults" is the sudoers keyword, spelled as users write it
				return nil, errors.New("Defaults without parameters")
			}
			//lint:ignore ST1005 "Defaults" is the sudoers keyword, spelled as users write it
			return nil, errors.New("Defaults: trailing comma")
		}
		neg := 0
		for i < len(s) && s[i] == '!' {
			neg++
			i++
			skip()
		}
		name := paramName.FindString(s[i:])
		if name == "" {
			//lint:ignore ST1005 "Defaults" is the sudoers keyword, spelled as users write it
			return nil, fmt.Errorf("Defaults: want a parameter name, got %q", s[i:])
		}
		i += len(name)
		skip()
		d := Default{Name: name, Op: OpEnable}
		if neg%2 == 1 {
			d.Op = OpNegate
		}
		var op Op = -1
		switch {
		case strings.HasPrefix(s[i:], "+="):
			op, i = OpAdd, i+2
		case strings.HasPrefix(s[i:], "-="):
			op, i = OpRemove, i+2
		case strings.HasPrefix(s[i:], "="):
			op, i = OpAssign, i+1
		}
		if op >= 0 {
			if neg > 0 {
				//lint:ignore ST1005 "Defaults" is the sudoers keyword, spelled as users write it
				return nil, fmt.Errorf("Defaults: %s cannot be both negated and assigned", name)
			}
			skip()
			v, n, err := parseValue(s[i:])
			if err != nil {
				//lint:ignore ST1005 "Defaults" is the sudoers keyword, spelled as users write it
				return nil, fmt.Errorf("Defaults: %s: %w", name, err)
			}
			d.Op, d.Value = op, v
			i += n
		}
		out = append(out, d)
		skip()
		if i == len(s) {
			return out, nil
		}
		if s[i] != ',' {
			//lint:ignore ST1005 "Defaults" is the sudoers keyword, spelled as users write it
			return nil, fmt.Errorf("Defaults: unexpected %q after %s", s[i:], name)
		}
		i++
	}
}

// parseValue reads a double-quoted or unquoted value with backslash
// escapes and returns it with the number of bytes consumed.
func parseValue(s string) (string, int, error) {
	var b strings.Builder
	if strings.HasPrefix(s, `"`) {
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i+1 < len(s) {
					i++
				}
			case '"':
				return b.String(), i + 1, nil
			}
			b.WriteByte(s[i])
		}
		return "", 0, errors.New("unterminated quoted value")
	}
	i := 0
	for ; i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != ',' && s[i] != '"'; i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	if i == 0 {
		return "", 0, errors.New("missing value")
	}
	return b.String(), i, nil
}

var (
	aliasHead  = regexp.MustCompile(`^\s*([A-Z][A-Z0-9_]*)\s*=\s*\S`)
	aliasExtra = regexp.MustCompile(`:\s*([A-Z][A-Z0-9_]*)\s*=`)
)

// parseAlias checks "NAME = list [: NAME2 = list]" shallowly and returns
// the names defined.
func parseAlias(rest string) ([]string, error) {
	m := aliasHead.FindStringSubmatch(rest)
	if m == nil {
		return nil, fmt.Errorf("want NAME = list (names are upper case), got %q", strings.TrimSpace(rest))
	}
	names := []string{m[1]}
	for _, e := range aliasExtra.FindAllStringSubmatch(rest, -1) {
		names = append(names, e[1])
	}
	return names, nil
}

var (
	quoted     = regexp.MustCompile(`"[^"]*"`)
	commaSpace = regexp.MustCompile(`\s*,\s*`)
)

// isUserSpec recognises "user_list host_list = ..." shallowly: two lists
// before the first "=" and something after it.
func isUserSpec(s string) bool {
	s = quoted.ReplaceAllString(s, "q")
	s = strings.ReplaceAll(s, `\ `, "_")
	left, right, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(right) == "" {
		return false
	}
	return len(strings.Fields(commaSpace.ReplaceAllString(left, ","))) == 2
}
