// Package auditrules parses Linux audit rules in auditctl(8) syntax, as
// augenrules(8) loads them: every /etc/audit/rules.d/*.rules file in "ls -v"
// order, or /etc/audit/audit.rules on a host that does not use rules.d.
// augenrules moves the last -D, -b and -f to the top and the last -e to the
// end; Control returns those last values, and the order of the other rules
// only matters here for -W and -d removals.
//
// Each rule keeps the file and line it came from, and a malformed rule is an
// error naming them. The Ruleset answers the questions checks ask: does some
// rule watch a path for the given permissions, and which syscall rules exist.
package auditrules

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/plumbline/plumbline/checks"
)

// The places rules are read from.
const (
	RulesDir  = "/etc/audit/rules.d"
	RulesFile = "/etc/audit/audit.rules"
)

// Kind says what a rule line does.
type Kind int

// The kinds of rule line.
const (
	// KindWatch is a file watch: -w path [-p perms] [-k key].
	KindWatch Kind = iota + 1
	// KindUnwatch removes a watch: -W path ...
	KindUnwatch
	// KindSyscall is a syscall rule: -a/-A list,action [-F ...] [-S ...].
	KindSyscall
	// KindDelete removes a syscall rule: -d list,action ...
	KindDelete
	// KindControl sets the audit system up: -D, -b, -f, -e, -r and friends.
	KindControl
)

// Field is a -F (or -C) comparison such as auid>=1000 or euid!=uid.
type Field struct {
	Name  string
	Op    string
	Value string
}

// String renders the field as written: "auid>=1000".
func (f Field) String() string { return f.Name + f.Op + f.Value }

// Rule is one non-comment line.
type Rule struct {
	Kind Kind
	// Text is the line as written, trimmed.
	Text string
	Path string
	Line int

	// WatchPath and Perms are set for watches; Perms is empty when -p was
	// not given, which means all of "rwxa".
	WatchPath string
	Perms     string
	// Keys are the -k keys (and -F key=).
	Keys []string

	// List ("exit", "user", ...) and Action ("always", "never") of a
	// syscall rule.
	List     string
	Action   string
	Syscalls []string
	Fields   []Field
	Compares []Field

	// Option and Value of a control line, e.g. "-e" and "2".
	Option string
	Value  string
}

// Source renders where the rule was read as "path:line".
func (r Rule) Source() string { return fmt.Sprintf("%s:%d", r.Path, r.Line) }

// Field returns the first -F field with the name.
func (r Rule) Field(name string) (Field, bool) {
	for _, f := range r.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// HasSyscall reports whether the rule names the syscall (or "all").
func (r Rule) HasSyscall(name string) bool {
	return slices.Contains(r.Syscalls, name) || slices.Contains(r.Syscalls, "all")
}

// Ruleset is the rules as the kernel receives them.
type Ruleset struct {
	// Files are the files read, in order.
	Files []string
	Rules []Rule
}

// Read loads the host's rules once per scan.
func Read(ctx context.Context, h checks.Host) (*Ruleset, error) {
	return checks.Memoized(h, "auditrules", func() (*Ruleset, error) { return Load(ctx, h) })
}

// Load reads /etc/audit/rules.d/*.rules (not dot files) in the order
// augenrules concatenates them, "ls -v" version order, so that
// "9-x.rules" comes before "10-y.rules"; when that directory holds no rules
// files it reads /etc/audit/audit.rules, which augenrules would otherwise
// generate. Having neither is not an error: the Ruleset is empty and has
// no Files.
func Load(ctx context.Context, h checks.Host) (*Ruleset, error) {
	files, err := h.Glob(ctx, RulesDir+"/*.rules")
	if err != nil {
		return nil, fmt.Errorf("list audit rules: %w", err)
	}
	slices.SortStableFunc(files, func(a, b string) int { return versionCompare(path.Base(a), path.Base(b)) })
	if len(files) == 0 {
		files = []string{RulesFile}
	}
	rs := &Ruleset{}
	for _, f := range files {
		data, err := h.ReadFile(ctx, f)
		if errors.Is(err, fs.ErrNotExist) && f == RulesFile {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read audit rules: %w", err)
		}
		rules, err := Parse(f, data)
		if err != nil {
			return nil, err
		}
		rs.Files = append(rs.Files, f)
		rs.Rules = append(rs.Rules, rules...)
	}
	return rs, nil
}

// versionCompare orders names as "ls -v" does for the names rule files
// have: runs of digits compare by value, everything else byte by byte.
func versionCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmpInt(len(na), len(nb)); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmpInt(int(a[0]), int(b[0]))
		}
		a, b = a[1:], b[1:]
	}
	return cmpInt(len(a), len(b))
}

func digits(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Parse parses one rules file; path is used in rules and errors.
func Parse(file string, data []byte) ([]Rule, error) {
	var out []Rule
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, err := parseRule(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, i+1, err)
		}
		r.Path, r.Line = file, i+1
		out = append(out, r)
	}
	return out, nil
}

// controlOptions are options that make a line a control line, with whether
// they take a value.
var controlOptions = map[string]bool{
	"-D": false, "-b": true, "-f": true, "-e": true, "-r": true, "-i": false,
	"-c": false, "-t": false, "-q": true, "--backlog_wait_time": true,
	"--loginuid-immutable": false, "--reset-lost": false,
	"--reset_backlog_wait_time_actual": false,
}

func parseRule(line string) (Rule, error) {
	r := Rule{Text: line}
	args := strings.Fields(line)
	next := func(i int, opt string) (string, error) {
		if i+1 >= len(args) {
			return "", fmt.Errorf("option %s requires an argument", opt)
		}
		return args[i+1], nil
	}
	setKind := func(k Kind, opt string) error {
		if r.Kind != 0 && r.Kind != k {
			return fmt.Errorf("option %s cannot be combined with the options before it", opt)
		}
		r.Kind = k
		return nil
	}
	for i := 0; i < len(args); i++ {
		opt := args[i]
		if takesValue, ok := controlOptions[opt]; ok {
			if err := setKind(KindControl, opt); err != nil {
				return r, err
			}
			if r.Option != "" {
				return r, fmt.Errorf("option %s: one control option per line", opt)
			}
			r.Option = opt
			if takesValue {
				v, err := next(i, opt)
				if err != nil {
					return r, err
				}
				if err := checkControlValue(opt, v); err != nil {
					return r, err
				}
				r.Value = v
				i++
			}
			continue
		}
		switch opt {
		case "-w", "-W":
			kind := KindWatch
			if opt == "-W" {
				kind = KindUnwatch
			}
			if err := setKind(kind, opt); err != nil {
				return r, err
			}
			v, err := next(i, opt)
			if err != nil {
				return r, err
			}
			if !path.IsAbs(v) {
				return r, fmt.Errorf("%s %s: the path must be absolute", opt, v)
			}
			r.WatchPath = v
			i++
		case "-p":
			v, err := next(i, opt)
			if err != nil {
				return r, err
			}
			if v == "" || strings.Trim(v, "rwxa") != "" {
				return r, fmt.Errorf("-p %s: permissions are letters from rwxa", v)
			}
			r.Perms = v
			i++
		case "-k":
			v, err := next(i, opt)
			if err != nil {
				return r, err
			}
			r.Keys = append(r.Keys, v)
			i++
		case "-a", "-A", "-d":
			kind := KindSyscall
			if opt == "-d" {
				kind = KindDelete
			}
			if err := setKind(kind, opt); err != nil {
				return r, err
			}
			if r.List != "" {
				return r, fmt.Errorf("%s given twice", opt)
			}
			v, err := next(i, opt)
			if err != nil {
				return r, err
			}
			if r.List, r.Action, err = listAction(v); err != nil {
				return r, fmt.Errorf("%s %s: %w", opt, v, err)
			}
			i++
		case "-S":
			v, err := next(i, opt)
			if err != nil {
				return r, err
			}
			for _, s := range strings.Split(v, ",") {
				if s == "" {
					return r, fmt.Errorf("-S %s: empty syscall name", v)
				}
				r.Syscalls = append(r.Syscalls, s)
			}
			i++
		case "-F", "-C":
			v, err := next(i, opt)
			if err != nil {
				return r, err
			}
			f, err := parseField(v)
			if err != nil {
				return r, fmt.Errorf("%s %s: %w", opt, v, err)
			}
			if opt == "-C" {
				r.Compares = append(r.Compares, f)
			} else {
				if f.Name == "key" {
					r.Keys = append(r.Keys, f.Value)
				}
				r.Fields = append(r.Fields, f)
			}
			i++
		default:
			return r, fmt.Errorf("unknown option or stray argument %q", opt)
		}
	}
	switch r.Kind {
	case 0:
		return r, fmt.Errorf("not a rule: want -w, -a, -A, -d, -W or a control option, got %q", line)
	case KindWatch, KindUnwatch:
		if len(r.Syscalls) > 0 || len(r.Compares) > 0 {
			return r, errors.New("-S and -C need a syscall rule (-a), not a watch")
		}
	case KindSyscall, KindDelete:
		if r.Perms != "" {
			return r, errors.New("-p belongs to watches; syscall rules use -F perm=")
		}
		if len(r.Syscalls) > 0 && r.List != "exit" {
			return r, fmt.Errorf("-S is only valid on the exit list, not %s", r.List)
		}
	case KindControl:
		if r.Perms != "" || len(r.Keys) > 0 || len(r.Syscalls) > 0 || len(r.Fields) > 0 {
			return r, fmt.Errorf("control option %s cannot be combined with rule options", r.Option)
		}
	}
	return r, nil
}

func checkControlValue(opt, v string) error {
	switch opt {
	case "-e":
		if v != "0" && v != "1" && v != "2" {
			return fmt.Errorf("-e %s: want 0, 1 or 2", v)
		}
	case "-f":
		if v != "0" && v != "1" && v != "2" {
			return fmt.Errorf("-f %s: want 0, 1 or 2", v)
		}
	case "-b", "-r", "--backlog_wait_time":
		if _, err := strconv.ParseUint(v, 10, 32); err != nil {
			return fmt.Errorf("%s %s: want a number", opt, v)
		}
	}
	return nil
}

var (
	auditLists   = []string{"task", "exit", "user", "exclude", "filesystem", "io_uring"}
	auditActions = []string{"always", "never"}
)

// listAction splits "always,exit" or "exit,always".
func listAction(v string) (list, action string, err error) {
	a, b, ok := strings.Cut(v, ",")
	if !ok {
		return "", "", errors.New("want list,action such as always,exit")
	}
	switch {
	case slices.Contains(auditLists, a) && slices.Contains(auditActions, b):
		return a, b, nil
	case slices.Contains(auditActions, a) && slices.Contains(auditLists, b):
		return b, a, nil
	}
	return "", "", fmt.Errorf("want a list (%s) and an action (always, never)", strings.Join(auditLists, ", "))
}

// fieldOps are the comparison operators, longest first so that ">=" is not
// read as ">".
var fieldOps = []string{"!=", ">=", "<=", "&=", "=", ">", "<", "&"}

func parseField(v string) (Field, error) {
	i := strings.IndexAny(v, "!=<>&")
	if i <= 0 {
		return Field{}, errors.New("want name, operator and value such as auid>=1000")
	}
	for _, op := range fieldOps {
		if strings.HasPrefix(v[i:], op) {
			val := v[i+len(op):]
			if val == "" {
				return Field{}, errors.New("missing value")
			}
			return Field{Name: v[:i], Op: op, Value: val}, nil
		}
	}
	return Field{}, fmt.Errorf("unknown operator in %q", v)
}

// Active returns the rules in force: control lines, and watches and
// syscall rules not removed by a later -W or -d with the same options.
func (rs *Ruleset) Active() []Rule {
	var out []Rule
	for _, r := range rs.Rules {
		switch r.Kind {
		case KindUnwatch, KindDelete:
			want := ruleIdentity(r)
			out = slices.DeleteFunc(out, func(o Rule) bool { return ruleIdentity(o) == want })
		default:
			out = append(out, r)
		}
	}
	return out
}

// ruleIdentity is what auditctl matches when deleting a rule: everything
// but the add/delete flag.
func ruleIdentity(r Rule) string {
	var b strings.Builder
	if r.WatchPath != "" {
		fmt.Fprintf(&b, "w %s p %s ", path.Clean(r.WatchPath), r.Perms)
	} else if r.List != "" {
		fmt.Fprintf(&b, "a %s,%s S %s ", r.List, r.Action, strings.Join(r.Syscalls, ","))
	} else {
		return "control " + r.Text
	}
	for _, f := range r.Fields {
		b.WriteString("F " + f.String() + " ")
	}
	for _, f := range r.Compares {
		b.WriteString("C " + f.String() + " ")
	}
	fmt.Fprintf(&b, "k %s", strings.Join(r.Keys, ","))
	return b.String()
}

// Coverage says whether and how rules watch a path.
type Coverage struct {
	// OK reports whether every requested permission is watched.
	OK bool
	// Have is the union of watched permissions, in "rwxa" order.
	Have string
	// Missing are the requested permissions no rule watches.
	Missing string
	// Rules are the rules that watch the path, in order.
	Rules []Rule
}

// neutralFields do not narrow what a path rule records.
var neutralFields = []string{"path", "dir", "perm", "key", "arch", "filetype"}

// WatchesPath reports which of perms (letters of "rwxa") the active rules
// watch on p: a -w watch of p or of a directory above it (watches of
// directories are recursive), or an always,exit rule with -F path=p or
// -F dir= p or above. A syscall rule counts with its -F perm=, or for all
// permissions when it has neither perm nor -S; rules narrowed by other
// fields (auid, uid, success, ...) do not count, since they miss changes.
func (rs *Ruleset) WatchesPath(p, perms string) Coverage {
	p = path.Clean(p)
	have := map[rune]bool{}
	var cov Coverage
	for _, r := range rs.Active() {
		got, ok := ruleWatches(r, p)
		if !ok {
			continue
		}
		cov.Rules = append(cov.Rules, r)
		for _, c := range got {
			have[c] = true
		}
	}
	for _, c := range "rwxa" {
		if have[c] {
			cov.Have += string(c)
		}
	}
	for _, c := range perms {
		if !have[c] {
			cov.Missing += string(c)
		}
	}
	cov.OK = cov.Missing == ""
	return cov
}

func ruleWatches(r Rule, p string) (string, bool) {
	switch r.Kind {
	case KindWatch:
		if !covers(path.Clean(r.WatchPath), p, true) {
			return "", false
		}
		if r.Perms == "" {
			return "rwxa", true
		}
		return r.Perms, true
	case KindSyscall:
		if r.List != "exit" || r.Action != "always" || len(r.Compares) > 0 {
			return "", false
		}
		matched := false
		perms := ""
		for _, f := range r.Fields {
			if !slices.Contains(neutralFields, f.Name) {
				return "", false
			}
			switch {
			case f.Name == "path" && f.Op == "=" && covers(path.Clean(f.Value), p, false),
				f.Name == "dir" && f.Op == "=" && covers(path.Clean(f.Value), p, true):
				matched = true
			case f.Name == "perm" && f.Op == "=":
				perms = f.Value
			}
		}
		if !matched {
			return "", false
		}
		if perms == "" {
			if len(r.Syscalls) > 0 && !slices.Contains(r.Syscalls, "all") {
				return "", false
			}
			perms = "rwxa"
		}
		return perms, true
	}
	return "", false
}

// covers reports whether a rule on watched applies to p: the same path, or
// (for recursive rules) a directory above it.
func covers(watched, p string, recursive bool) bool {
	if watched == p {
		return true
	}
	if !recursive {
		return false
	}
	return watched == "/" || strings.HasPrefix(p, watched+"/")
}

// Syscall returns the active always,exit syscall rules.
func (rs *Ruleset) Syscall() []Rule {
	var out []Rule
	for _, r := range rs.Active() {
		if r.Kind == KindSyscall && r.List == "exit" && r.Action == "always" {
			out = append(out, r)
		}
	}
	return out
}

// Control returns the value of the last control line with the option
// (e.g. "-e"), as augenrules keeps only the last of each.
func (rs *Ruleset) Control(option string) (Rule, bool) {
	var last Rule
	found := false
	for _, r := range rs.Rules {
		if r.Kind == KindControl && r.Option == option {
			last, found = r, true
		}
	}
	return last, found
}
