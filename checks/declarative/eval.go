package declarative

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/plumbline/plumbline/checks"
)

// truth is three-valued: a condition holds, does not, or cannot be decided.
type truth int

const (
	isTrue truth = iota + 1
	isFalse
	isUnknown
)

func truthOf(b bool) truth {
	if b {
		return isTrue
	}
	return isFalse
}

// verdict is a condition's outcome with the evidence behind it.
type verdict struct {
	t   truth
	err string
	ev  []checks.Evidence
}

// cond is a group or an assertion.
type cond interface {
	eval(ctx context.Context, h checks.Host, p checks.Params) verdict
}

type group struct {
	op    string
	items []cond
}

func (g *group) eval(ctx context.Context, h checks.Host, p checks.Params) verdict {
	vs := make([]verdict, len(g.items))
	for i, c := range g.items {
		vs[i] = c.eval(ctx, h, p)
	}
	switch g.op {
	case "all":
		return combine(vs, isFalse, isTrue)
	case "any":
		return combine(vs, isTrue, isFalse)
	}
	// none: any, negated; the evidence of a branch that held is the
	// violation, that of one that did not is what passed.
	v := combine(vs, isTrue, isFalse)
	switch v.t {
	case isTrue:
		v.t = isFalse
	case isFalse:
		v.t = isTrue
	}
	for i := range v.ev {
		switch {
		case v.ev[i].Key == moreKey:
			// "N more not shown (k failing)": they are failing now
			// exactly when they were holding before.
			v.ev[i].OK = !v.ev[i].OK
		case v.ev[i].Expected == "":
			// A note, not a finding.
		default:
			v.ev[i].OK = !v.ev[i].OK
			v.ev[i].Expected = "not (" + v.ev[i].Expected + ")"
		}
	}
	return v
}

// combine is Kleene logic: any item with the deciding value decides
// (false for all, true for any), showing the evidence of those items;
// otherwise an undecided item makes the whole undecided; otherwise the
// result is the other value, with every item's evidence.
func combine(vs []verdict, deciding, otherwise truth) verdict {
	var out verdict
	var errs []string
	for _, v := range vs {
		if v.t == deciding {
			out.t = deciding
			out.ev = append(out.ev, v.ev...)
		}
		if v.t == isUnknown && !slices.Contains(errs, v.err) {
			errs = append(errs, v.err)
		}
	}
	if out.t == deciding {
		return out
	}
	for _, v := range vs {
		out.ev = append(out.ev, v.ev...)
	}
	if len(errs) > 0 {
		return verdict{t: isUnknown, err: strings.Join(errs, "; "), ev: out.ev}
	}
	out.t = otherwise
	return out
}

type fieldMatch struct {
	field string
	kind  kind
	ms    []matcher
	line  int
}

type assertion struct {
	probeKey, arg string
	probe         probe
	spec          probeSpec
	fields        []fieldMatch
	where         []fieldMatch
	match         string
	absent        string
	unique        string
	line          int
}

// moreKey marks the evidence item that says how many were left out.
const moreKey = "more"

// maxEvidence bounds the evidence one assertion adds (a glob over a
// directory of a thousand files must not make a megabyte report).
const maxEvidence = 20

func (a *assertion) label() string {
	if a.arg == "" {
		return a.probeKey
	}
	return a.probeKey + " " + a.arg
}

func (a *assertion) eval(ctx context.Context, h checks.Host, p checks.Params) verdict {
	if err := ctx.Err(); err != nil {
		return verdict{t: isUnknown, err: err.Error()}
	}
	res, err := a.probe.observe(ctx, h)
	if err != nil {
		return verdict{t: isUnknown, err: fmt.Sprintf("%s: %v", a.label(), err)}
	}
	ev := append([]checks.Evidence(nil), res.notes...)
	var kept []obs
	for _, o := range res.obs {
		ok, _, err := a.satisfies(o, a.where, p)
		if err != nil {
			return verdict{t: isUnknown, err: fmt.Sprintf("%s: where: %v", a.label(), err), ev: ev}
		}
		if ok {
			kept = append(kept, o)
		}
	}
	if a.unique != "" {
		return a.evalUnique(kept, ev)
	}
	if len(kept) == 0 {
		pass := a.absent == "pass" || (a.absent == "" && (a.match == "none" || a.spec.absentPass))
		actual := res.absent
		if actual == "" {
			actual = "nothing found"
			if len(res.obs) > 0 {
				actual = fmt.Sprintf("none of %d matches the where condition", len(res.obs))
			}
		}
		return verdict{t: truthOf(pass), ev: append(ev, checks.Evidence{Key: a.label(), Expected: a.describe(p), Actual: actual, OK: pass})}
	}
	var good, bad []checks.Evidence
	holds := 0
	for _, o := range kept {
		if o.gone && (a.absent != "" || len(a.fields) == 0) {
			// The thing does not exist, and the assertion says what that means.
			pass := a.absent == "pass" || (a.absent == "" && a.match == "none")
			e := checks.Evidence{Key: o.subject, Expected: a.describe(p), Actual: o.missing, OK: pass, Path: o.path, Line: o.line}
			// For all/any an allowed absence holds; for none a forbidden
			// one is a violation.
			if pass != (a.match == "none") {
				holds++
			}
			if pass {
				good = append(good, e)
			} else {
				bad = append(bad, e)
			}
			continue
		}
		ok, oev, err := a.satisfies(o, a.fields, p)
		if err != nil {
			return verdict{t: isUnknown, err: fmt.Sprintf("%s: %v", o.subject, err), ev: ev}
		}
		if ok {
			holds++
		}
		if a.match == "none" {
			if ok {
				bad = append(bad, checks.Evidence{Key: o.subject, Expected: "none such: " + a.describe(p), Actual: summary(o, a.fields), OK: false, Path: o.path, Line: o.line})
			} else if len(good) < maxEvidence {
				good = append(good, checks.Evidence{Key: o.subject, Expected: "none such: " + a.describe(p), Actual: summary(o, a.fields), OK: true, Path: o.path, Line: o.line})
			}
			continue
		}
		if len(a.fields) == 0 {
			// Presence is the test: show what was found.
			good = append(good, checks.Evidence{Key: o.subject, Expected: "present", Actual: summary(o, nil), OK: true, Path: o.path, Line: o.line})
		}
		for _, e := range oev {
			if e.OK {
				good = append(good, e)
			} else {
				bad = append(bad, e)
			}
		}
	}
	var t truth
	switch a.match {
	case "all":
		t = truthOf(holds == len(kept))
	case "any":
		t = truthOf(holds > 0)
		if t == isTrue {
			bad = nil // the alternatives that did not hold are not findings
		}
	case "none":
		t = truthOf(holds == 0)
	}
	return verdict{t: t, ev: append(ev, capEvidence(bad, good)...)}
}

// maxActual bounds one evidence value: a matched line of a huge file must
// not carry the file into the report.
const maxActual = 512

func clip(s string) string {
	if len(s) <= maxActual {
		return s
	}
	cut := maxActual
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut-- // never split a character
	}
	return s[:cut] + fmt.Sprintf("… (%d bytes)", len(s))
}

// capEvidence keeps failing evidence first, and at most maxEvidence items
// in all, with a note of what was left out.
func capEvidence(bad, good []checks.Evidence) []checks.Evidence {
	all := append(bad, good...)
	for i := range all {
		all[i].Actual = clip(all[i].Actual)
	}
	if len(all) <= maxEvidence {
		return all
	}
	out := append([]checks.Evidence(nil), all[:maxEvidence]...)
	hiddenBad := max(0, len(bad)-maxEvidence)
	out = append(out, checks.Evidence{Key: moreKey, Actual: fmt.Sprintf("%d more items not shown (%d of them failing)", len(all)-maxEvidence, hiddenBad), OK: hiddenBad == 0})
	return out
}

// satisfies evaluates field matchers on one observation, with one evidence
// item per field.
func (a *assertion) satisfies(o obs, fms []fieldMatch, p checks.Params) (bool, []checks.Evidence, error) {
	all := true
	var ev []checks.Evidence
	for _, fm := range fms {
		key := o.subject
		if fm.field != "value" {
			key += " " + fm.field
		}
		e := checks.Evidence{Key: key, Expected: fm.describe(p), Path: o.path, Line: o.line}
		v, ok := o.fields[fm.field]
		if !ok {
			e.Actual = "not set"
			if w, ok := o.why[fm.field]; ok {
				e.Actual = w
			} else if o.missing != "" {
				e.Actual = o.missing
			}
			all = false
			ev = append(ev, e)
			continue
		}
		e.Actual = v.text(fm.kind)
		e.OK = true
		for _, m := range fm.ms {
			if m.field != "" {
				other, ok := o.fields[m.field]
				if !ok {
					e.OK = false
					e.Actual += " (its " + m.field + " is not set)"
					continue
				}
				m.arg, m.field = other.raw(m.fieldKind), ""
				m.args = []string{m.arg}
			}
			ok, err := m.match(fm.kind, v, p)
			var nan errNotNumber
			if errors.As(err, &nan) {
				ok, err = false, nil
			}
			if err != nil {
				return false, nil, fmt.Errorf("%s %s: %w", fm.field, m.op, err)
			}
			e.OK = e.OK && ok
		}
		all = all && e.OK
		ev = append(ev, e)
	}
	return all, ev, nil
}

func (fm fieldMatch) describe(p checks.Params) string {
	parts := make([]string, len(fm.ms))
	for i, m := range fm.ms {
		parts[i] = m.expected(p)
	}
	return strings.Join(parts, " and ")
}

func (a *assertion) describe(p checks.Params) string {
	if len(a.fields) == 0 {
		return a.label()
	}
	parts := make([]string, len(a.fields))
	for i, fm := range a.fields {
		parts[i] = fm.field + " " + fm.describe(p)
	}
	return strings.Join(parts, ", ")
}

// summary shows an observation's matched fields, or its subject.
func summary(o obs, fms []fieldMatch) string {
	if len(fms) == 0 {
		if l, ok := o.fields["line"]; ok {
			return l.s
		}
		return "present"
	}
	parts := make([]string, 0, len(fms))
	for _, fm := range fms {
		if v, ok := o.fields[fm.field]; ok {
			parts = append(parts, fm.field+"="+v.text(fm.kind))
		}
	}
	return strings.Join(parts, " ")
}

func (a *assertion) evalUnique(kept []obs, ev []checks.Evidence) verdict {
	k, _ := a.spec.fields[a.unique]
	by := map[string][]obs{}
	var order []string
	for _, o := range kept {
		v, ok := o.fields[a.unique]
		if !ok {
			continue
		}
		s := v.text(k)
		if _, seen := by[s]; !seen {
			order = append(order, s)
		}
		by[s] = append(by[s], o)
	}
	var bad []checks.Evidence
	for _, s := range order {
		if os := by[s]; len(os) > 1 {
			names := make([]string, len(os))
			for i, o := range os {
				names[i] = fmt.Sprintf("%s (line %d)", o.subject, o.line)
			}
			bad = append(bad, checks.Evidence{Key: a.unique + " " + s, Expected: "used once", Actual: "shared by " + strings.Join(names, ", "), OK: false, Path: os[1].path, Line: os[1].line})
		}
	}
	if len(bad) > 0 {
		return verdict{t: isFalse, ev: append(ev, capEvidence(bad, nil)...)}
	}
	return verdict{t: isTrue, ev: append(ev, checks.Evidence{Key: a.label() + " " + a.unique, Expected: "each value used once", Actual: fmt.Sprintf("%d entries, no duplicates", len(kept)), OK: true})}
}

// Run implements checks.Check.
func (c *Check) Run(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	if c.when != nil {
		w := c.when.eval(ctx, h, p)
		switch w.t {
		case isUnknown:
			r := checks.Errorf("cannot tell whether the check applies: %s", w.err)
			r.Evidence = w.ev
			return r
		case isFalse:
			return checks.NotApplicable("not applicable: "+firstFacts(w.ev, false), w.ev...)
		}
	}
	v := c.test.eval(ctx, h, p)
	switch v.t {
	case isTrue:
		return checks.Pass(firstFacts(v.ev, true), v.ev...)
	case isFalse:
		if !hasFailing(v.ev) {
			v.ev = append(v.ev, checks.Evidence{Key: c.meta.ID, Expected: "test holds", Actual: "does not hold", OK: false})
		}
		return checks.Fail(firstFacts(v.ev, false), v.ev...)
	}
	r := checks.Errorf("%s", v.err)
	r.Evidence = v.ev
	return r
}

func hasFailing(ev []checks.Evidence) bool {
	for _, e := range ev {
		if !e.OK {
			return true
		}
	}
	return false
}

// firstFacts summarises evidence for the result message: the failing items
// for a FAIL, the first items otherwise.
func firstFacts(ev []checks.Evidence, ok bool) string {
	var parts []string
	n := 0
	// Notes (no expectation, such as a running value an image cannot
	// show) come last in a message: facts that decided go first.
	ordered := make([]checks.Evidence, 0, len(ev))
	for _, e := range ev {
		if e.Expected != "" {
			ordered = append(ordered, e)
		}
	}
	for _, e := range ev {
		if e.Expected == "" {
			ordered = append(ordered, e)
		}
	}
	more := ""
	for _, e := range ordered {
		if e.Key == moreKey {
			more = e.Actual
			continue
		}
		if !ok && e.OK {
			continue
		}
		n++
		if len(parts) < 2 {
			s := e.Key + ": " + e.Actual
			if !e.OK && e.Expected != "" {
				s += " (want " + e.Expected + ")"
			}
			if src := e.Source(); src != "" {
				s += " at " + src
			}
			parts = append(parts, s)
		}
	}
	msg := strings.Join(parts, "; ")
	if n > len(parts) {
		msg += fmt.Sprintf("; and %d more", n-len(parts))
	}
	if more != "" {
		msg += " (" + more + ")"
	}
	if msg == "" {
		return "no evidence"
	}
	return msg
}

func parseInt(s string) (int64, error) { return strconv.ParseInt(strings.TrimSpace(s), 10, 64) }
