package password

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/pam"
)

// measure is the security measure every check in the family evidences.
var measure = checks.Measure("password policy: length, complexity, age, history, max login attempts, change of initial password")

// check is one password-policy control: its metadata and how it runs.
type check struct {
	meta     checks.Meta
	run      func(ctx context.Context, h checks.Host, p checks.Params) checks.Result
	validate func(p checks.Params) error
}

var _ checks.ParamValidator = check{}

// Meta implements checks.Check.
func (c check) Meta() checks.Meta { return c.meta }

// Run implements checks.Check.
func (c check) Run(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	if err := ctx.Err(); err != nil {
		return checks.Errorf("interrupted: %v", err)
	}
	return c.run(ctx, h, p)
}

// ValidateParams implements checks.ParamValidator.
func (c check) ValidateParams(p checks.Params) error {
	if c.validate == nil {
		return nil
	}
	return c.validate(p)
}

// stackServices are the PAM services holding the system-wide stacks of each
// type: Debian and Ubuntu's common-* files, and the RHEL family's
// system-auth (local logins) and password-auth (remote logins), which
// authselect generates. Every one that exists is judged.
var stackServices = map[string][]string{
	pam.TypeAuth:     {"common-auth", "system-auth", "password-auth"},
	pam.TypePassword: {"common-password", "system-auth", "password-auth"},
}

// stack is the rules of one type in one service.
type stack struct {
	svc   *pam.Service
	typ   string
	rules []pam.Rule
}

// name is the service path, which is how people know the stack.
func (s stack) name() string { return s.svc.Path }

// module returns the stack's rules for a module ("pam_unix").
func (s stack) module(name string) []pam.Rule {
	var out []pam.Rule
	for _, r := range s.rules {
		if r.ModuleName() == name {
			out = append(out, r)
		}
	}
	return out
}

// errNoStack: none of the services that carry a type's system-wide stack
// exists.
var errNoStack = errors.New("no PAM stack")

// loadStacks returns every system-wide stack of the type that exists. It
// returns errNoStack when there is none, and a parse error (naming the file
// and line) when a stack cannot be read as libpam would.
func loadStacks(ctx context.Context, h checks.Host, typ string) ([]stack, error) {
	var out []stack
	for _, name := range stackServices[typ] {
		svc, err := pam.Load(ctx, h, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, stack{svc: svc, typ: typ, rules: svc.Stack(typ)})
	}
	if len(out) == 0 {
		return nil, errNoStack
	}
	return out, nil
}

// stackCandidates lists the files looked for, for messages.
func stackCandidates(typ string) string {
	var paths []string
	for _, name := range stackServices[typ] {
		paths = append(paths, pam.ConfigDir+"/"+name)
	}
	return strings.Join(paths, ", ")
}

// noStackEvidence is the finding for a host without any system-wide stack
// of the type: without PAM nothing enforces the policy, so a control that
// needs a module in the stack fails.
func noStackEvidence(typ string) checks.Evidence {
	return checks.Evidence{
		Key:      "PAM " + typ + " stack",
		Expected: "present",
		Actual:   "none of " + stackCandidates(typ) + " exists",
		Path:     pam.ConfigDir,
	}
}

// stackError turns a loadStacks error into the result: FAIL for a missing
// stack when the control requires one, ERROR otherwise.
func stackError(typ string, err error, ev ...checks.Evidence) checks.Result {
	if errors.Is(err, errNoStack) {
		return checks.Fail(fmt.Sprintf("no PAM %s stack found (looked for %s), so no module enforces the policy", typ, stackCandidates(typ)),
			append(ev, noStackEvidence(typ))...)
	}
	return checks.Errorf("PAM %s stack: %v", typ, err)
}

// ruleEvidence says whether a module is in a stack, pointing at the line.
func ruleEvidence(st stack, module string, r *pam.Rule) checks.Evidence {
	e := checks.Evidence{
		Key:      module + " in " + st.name(),
		Expected: "present in the " + st.typ + " stack",
	}
	if r == nil {
		e.Actual = "absent"
		e.Path = st.name()
		return e
	}
	e.Actual = r.String()
	e.OK = true
	e.Path, e.Line = r.Pos.File, r.Pos.Line
	return e
}

// evidenceList collects evidence without repeating an identical item, which
// happens when several stacks share one configuration file.
type evidenceList []checks.Evidence

func (l *evidenceList) add(es ...checks.Evidence) {
	for _, e := range es {
		dup := false
		for _, have := range *l {
			if have == e {
				dup = true
				break
			}
		}
		if !dup {
			*l = append(*l, e)
		}
	}
}
