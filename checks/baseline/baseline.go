// Package baseline reads baselines: YAML files that select checks and set
// their parameters. Every report carries the baseline's name, version and
// sha256, so a result can always be traced to the exact policy that judged it.
//
// Format (schema plumbline.baseline/v1):
//
//	schema: plumbline.baseline/v1
//	name: debian-12
//	version: "1.0.0"
//	description: CIS Level 1 Server for Debian 12
//	platforms: ["debian:12"]        # optional; informational and for selection
//	checks:
//	  - id: sudo.use_pty
//	  - id: password.pass_max_days
//	    severity: high              # optional override
//	    params:
//	      max_days: 90
//	  - id: dlp.agent_present
//	    skip: "no DLP mandate for build hosts"   # reported as SKIPPED
//
// Unknown keys, unknown check ids, duplicate ids and parameters of the wrong
// kind are errors that name the file and line. Load reports all of them at
// once, so one run of "config check" shows everything to fix.
package baseline

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/plumbline/plumbline/checks"
)

// Schema is the only baseline schema this version reads.
const Schema = "plumbline.baseline/v1"

// Baseline is a validated baseline: every entry names a known check and
// carries resolved parameters.
type Baseline struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Description string   `json:"description,omitempty"`
	Platforms   []string `json:"platforms,omitempty"`
	// SHA256 is the hex digest of the file's bytes.
	SHA256 string `json:"sha256"`
	// Source is the file path, or "builtin:<file>" for built-in ones.
	Source  string  `json:"source"`
	Entries []Entry `json:"-"`
}

// Entry is one selected check.
type Entry struct {
	Check    checks.Check
	Params   checks.Params
	Severity checks.Severity
	// Skip, when set, reports the check as SKIPPED with this reason.
	Skip string
	// Line is where the entry starts in the baseline file.
	Line int
}

// Error is one problem in a baseline file, with its position.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors is every problem found in one file.
type Errors []Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Lookup finds checks by id; Load uses checks.Lookup (the built-in registry)
// unless given another, e.g. one that includes plugin-provided checks.
type Lookup func(id string) (checks.Check, bool)

// LoadFile reads and validates a baseline file.
func LoadFile(file string, lookup Lookup) (*Baseline, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read baseline: %w", err)
	}
	return Parse(file, data, lookup)
}

// Parse validates baseline content; file names it in errors.
func Parse(file string, data []byte, lookup Lookup) (*Baseline, error) {
	if lookup == nil {
		lookup = checks.Lookup
	}
	sum := sha256.Sum256(data)
	b := &Baseline{Source: file, SHA256: hex.EncodeToString(sum[:])}
	p := &parser{file: file}

	top, err := Document(file, data, "a baseline", "schema, name, version and checks")
	if err != nil {
		return nil, err
	}
	var checksNode *yaml.Node
	seenKeys := map[string]bool{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if seenKeys[k.Value] {
			p.errf(k, "key %q given twice", k.Value)
			continue
		}
		seenKeys[k.Value] = true
		switch k.Value {
		case "schema":
			if s := p.str(v, "schema"); s != "" && s != Schema {
				p.errf(v, "schema %q is not supported (want %q)", s, Schema)
			}
		case "name":
			b.Name = p.str(v, "name")
		case "version":
			b.Version = p.str(v, "version")
		case "description":
			b.Description = p.str(v, "description")
		case "platforms":
			b.Platforms = p.strList(v, "platforms")
		case "checks":
			checksNode = v
		default:
			p.errf(k, "unknown key %q (want schema, name, version, description, platforms or checks)", k.Value)
		}
	}
	for _, req := range []string{"schema", "name", "version", "checks"} {
		if !seenKeys[req] {
			p.errf(top, "missing required key %q", req)
		}
	}
	if checksNode != nil {
		b.Entries = p.entries(checksNode, lookup)
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return b, nil
}

// Document decodes a YAML file that must be exactly one mapping: what
// names the kind of file ("a baseline") and keys what the mapping holds,
// for the messages.
func Document(file string, data []byte, what, keys string) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: file, Msg: "file is empty: want a mapping with " + keys}}
		}
		return nil, Errors{{File: file, Line: yamlErrLine(err), Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, Errors{{File: file, Line: extra.Line, Msg: "more than one YAML document (\"---\"): " + what + " is one document"}}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		line := 1
		if len(doc.Content) > 0 {
			line = doc.Content[0].Line
		}
		return nil, Errors{{File: file, Line: line, Msg: "want a mapping with " + keys}}
	}
	return doc.Content[0], nil
}

type parser struct {
	file string
	errs Errors
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, Error{File: p.file, Line: n.Line, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) str(n *yaml.Node, field string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errf(n, "%s: want a string", field)
		return ""
	}
	return n.Value
}

func (p *parser) strList(n *yaml.Node, field string) []string {
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "%s: want a list of strings", field)
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		out = append(out, p.str(c, field))
	}
	return out
}

func (p *parser) entries(n *yaml.Node, lookup Lookup) []Entry {
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "checks: want a list of entries such as \"- id: sudo.use_pty\"")
		return nil
	}
	if len(n.Content) == 0 {
		// An empty baseline would scan nothing and report all green.
		p.errf(n, "checks: the list is empty; a baseline must select at least one check")
		return nil
	}
	var out []Entry
	firstLine := map[string]int{}
	for _, item := range n.Content {
		e, ok := p.entry(item, lookup)
		if !ok {
			continue
		}
		id := e.Check.Meta().ID
		if prev, dup := firstLine[id]; dup {
			p.errf(item, "check %s listed twice (first at line %d)", id, prev)
			continue
		}
		firstLine[id] = item.Line
		out = append(out, e)
	}
	return out
}

func (p *parser) entry(n *yaml.Node, lookup Lookup) (Entry, bool) {
	e := Entry{Line: n.Line}
	if n.Kind == yaml.ScalarNode {
		// Shorthand: "- sudo.use_pty".
		return p.finishEntry(e, n, n.Value, nil, nil, lookup)
	}
	if n.Kind != yaml.MappingNode {
		p.errf(n, "check entry: want a mapping with id (and optional params, severity, skip)")
		return e, false
	}
	var id string
	var idNode, paramsNode, sevNode *yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			p.errf(k, "key %q given twice in one check entry", k.Value)
			continue
		}
		seen[k.Value] = true
		switch k.Value {
		case "id":
			id, idNode = p.str(v, "id"), v
		case "params":
			paramsNode = v
		case "severity":
			sevNode = v
		case "skip":
			e.Skip = p.str(v, "skip")
			if e.Skip == "" {
				p.errf(v, "skip: give the reason the check is skipped")
			}
		default:
			p.errf(k, "unknown key %q in check entry (want id, params, severity or skip)", k.Value)
		}
	}
	if idNode == nil {
		p.errf(n, "check entry without id")
		return e, false
	}
	return p.finishEntry(e, idNode, id, paramsNode, sevNode, lookup)
}

func (p *parser) finishEntry(e Entry, idNode *yaml.Node, id string, paramsNode, sevNode *yaml.Node, lookup Lookup) (Entry, bool) {
	c, ok := lookup(id)
	if !ok {
		p.errf(idNode, "unknown check %q%s", id, suggest(id, lookup))
		return e, false
	}
	e.Check = c
	meta := c.Meta()
	e.Severity = meta.Severity
	if sevNode != nil {
		sev, err := checks.ParseSeverity(p.str(sevNode, "severity"))
		if err != nil {
			p.errf(sevNode, "%v", err)
		} else {
			e.Severity = sev
		}
	}
	overrides := map[string]any{}
	lines := map[string]*yaml.Node{}
	if paramsNode != nil {
		if paramsNode.Kind != yaml.MappingNode {
			p.errf(paramsNode, "params of %s: want a mapping of name: value", id)
			return e, false
		}
		for i := 0; i+1 < len(paramsNode.Content); i += 2 {
			k, v := paramsNode.Content[i], paramsNode.Content[i+1]
			if _, dup := lines[k.Value]; dup {
				p.errf(k, "params of %s: %s given twice", id, k.Value)
				continue
			}
			var val any
			if err := v.Decode(&val); err != nil {
				p.errf(v, "params of %s: %s: %v", id, k.Value, err)
				continue
			}
			overrides[k.Value] = val
			lines[k.Value] = k
		}
	}
	if _, ok := c.(checks.Unavailable); ok {
		// Its parameters are unknown; the check reports ERROR anyway.
		e.Params = overrides
		return e, true
	}
	before := len(p.errs)
	// Resolve each override alone first so each bad one is reported at
	// its own line, then all together.
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		if _, err := checks.Resolve(meta.Params, map[string]any{name: overrides[name]}); err != nil {
			p.errf(lines[name], "%s: %v", id, err)
		}
	}
	if len(p.errs) > before {
		return e, false
	}
	params, err := checks.Resolve(meta.Params, overrides)
	if err != nil {
		p.errf(idNode, "%s: %v", id, err)
		return e, false
	}
	if v, ok := c.(checks.ParamValidator); ok {
		if err := v.ValidateParams(params); err != nil {
			at := idNode
			if paramsNode != nil {
				at = paramsNode
			}
			p.errf(at, "%s: %v", id, err)
			return e, false
		}
	}
	e.Params = params
	return e, true
}

// suggest names registered checks sharing the unknown id's family, to help
// with typos.
func suggest(id string, lookup Lookup) string {
	family, _, _ := strings.Cut(id, ".")
	var near []string
	for _, c := range checks.All() {
		cid := c.Meta().ID
		if strings.HasPrefix(cid, family+".") {
			if _, ok := lookup(cid); ok {
				near = append(near, cid)
			}
		}
	}
	if len(near) == 0 {
		return " (see \"plumbline-agent checks list\")"
	}
	if len(near) > 6 {
		near = near[:6]
	}
	return fmt.Sprintf(" (checks in %s: %s)", family, strings.Join(near, ", "))
}

func yamlErrLine(err error) int {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return 0
	}
	var line int
	if _, scanErr := fmt.Sscanf(strings.TrimPrefix(err.Error(), "yaml: "), "line %d:", &line); scanErr == nil {
		return line
	}
	return 0
}

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Builtin returns the built-in baseline with the name (e.g. "debian-12").
func Builtin(name string) (*Baseline, error) { return BuiltinWith(name, nil) }

// BuiltinWith is Builtin resolving check ids through lookup (nil: the
// built-in registry), e.g. to let plugins provide checks.
func BuiltinWith(name string, lookup Lookup) (*Baseline, error) {
	file := "builtin/" + name + ".yaml"
	data, err := builtinFS.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("no built-in baseline %q (built-in: %s)", name, strings.Join(BuiltinNames(), ", "))
	}
	return Parse("builtin:"+path.Base(file), data, lookup)
}

// BuiltinNames lists the built-in baselines.
func BuiltinNames() []string {
	entries, err := fs.ReadDir(builtinFS, "builtin")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// ForPlatform picks the built-in baseline for an os-release ID, ID_LIKE and
// VERSION_ID. The RHEL family (Rocky, Alma, CentOS Stream) shares rhel-9;
// anything unrecognised gets "linux", the generic baseline, and the
// returned note says so.
func ForPlatform(id string, idLike []string, versionID string) (name, note string) {
	major, _, _ := strings.Cut(versionID, ".")
	switch {
	case id == "debian" && major == "12":
		return "debian-12", ""
	case id == "ubuntu" && (versionID == "22.04" || versionID == "24.04"):
		return "ubuntu-" + versionID, ""
	case id == "alinux" && major == "3":
		return "alinux-3", ""
	case (id == "rhel" || slices.Contains(idLike, "rhel")) && major == "9":
		return "rhel-9", ""
	}
	return "linux", fmt.Sprintf("no built-in baseline for %s %s: using the generic \"linux\" baseline", id, versionID)
}
