package pam

import (
	"fmt"
	"strings"
)

// ModuleSetting is one line of a PAM module's configuration file such as
// /etc/security/faillock.conf or /etc/security/pwhistory.conf: "name =
// value", or a bare flag "name".
type ModuleSetting struct {
	Name  string   `json:"name"`
	Value string   `json:"value,omitempty"`
	Pos   Position `json:"pos"`
}

// ParseModuleConfig parses the configuration format shared by pam_faillock
// and pam_pwhistory: "#" starts a comment anywhere on a line, the name ends
// at whitespace or "=", and the value is the rest of the line after an
// optional "=" and whitespace. Settings are returned in file order; a later
// one overrides an earlier one of the same name.
func ParseModuleConfig(path string, data []byte) ([]ModuleSetting, error) {
	var out []ModuleSetting
	for i, line := range strings.Split(string(data), "\n") {
		pos := Position{File: path, Line: i + 1}
		if c := strings.IndexByte(line, '#'); c >= 0 {
			line = line[:c]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		end := strings.IndexAny(line, " \t\r\v\f=")
		if end < 0 {
			out = append(out, ModuleSetting{Name: line, Pos: pos})
			continue
		}
		name, rest := line[:end], line[end:]
		rest = strings.TrimLeft(rest, " \t\r\v\f")
		rest = strings.TrimPrefix(rest, "=")
		rest = strings.TrimLeft(rest, " \t\r\v\f")
		if name == "" {
			return nil, &Error{Pos: pos, Msg: fmt.Sprintf("setting without a name: %q", line)}
		}
		out = append(out, ModuleSetting{Name: name, Value: rest, Pos: pos})
	}
	return out, nil
}
