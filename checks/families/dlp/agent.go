package dlp

import (
	"context"
	"fmt"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/pkgdb"
	"github.com/plumbline/plumbline/checks/procfs"
	"github.com/plumbline/plumbline/checks/systemd"
)

func init() {
	checks.Register(agentPresent{})
}

// The values of the require_running parameter.
const (
	runningAuto   = "auto"
	runningAlways = "always"
	runningNever  = "never"
)

// agentPresent is dlp.agent_present: at least one configured DLP product is
// installed, enabled and running.
type agentPresent struct{}

var _ checks.ParamValidator = agentPresent{}

// Meta implements checks.Check.
func (agentPresent) Meta() checks.Meta {
	return checks.Meta{
		ID:       "dlp.agent_present",
		Title:    "A DLP agent is installed, enabled and running",
		Family:   "dlp",
		Severity: checks.SeverityHigh,
		Rationale: "Data loss prevention only protects a device whose agent is installed, starts at boot and is running. " +
			"The security measure promises DLP software on every device; a host without a working agent is an unmonitored " +
			"path for sensitive data to leave the organisation.",
		Remediation: "Install the organisation's approved DLP agent from the vendor's package and enable it so that it starts at boot, for example:\n" +
			"  rpm -ivh <agent>.rpm        (or: apt install ./<agent>.deb)\n" +
			"  systemctl enable --now <agent-service>\n" +
			"If the agent is installed but is not recognised, set the products parameter of dlp.agent_present in the baseline to the " +
			"names used on your hosts (find them with: dpkg -l or rpm -qa, systemctl list-unit-files, ps -eo pid,comm,args), e.g.\n" +
			"  products:\n" +
			"    - name: Acme DLP\n" +
			"      packages: [acme-dlp]\n" +
			"      services: [acme-dlp.service]\n" +
			"      processes: [acme-dlpd]\n" +
			"      min_version: \"4.2\"",
		References: []checks.Reference{checks.Measure("DLP software is installed on devices")},
		Params: []checks.ParamSpec{
			{
				Name:    "products",
				Kind:    checks.KindObject,
				Default: defaultProducts(),
				Doc: "The DLP products that satisfy the control; the check passes when any one of them is present. " +
					"Each is a mapping with name (display name, required), packages (package names, any of them), " +
					"services (systemd units, any of them enabled and not masked), processes (process names, any of them running) " +
					"and min_version (optional; the installed package's version must be at least this, compared by the package " +
					"database's own rules). At least one of packages, services or processes is required; every part listed must hold. " +
					"The defaults are best-effort names: confirm them on your hosts (see the dlp family README).",
			},
			{
				Name:    "require_running",
				Kind:    checks.KindString,
				Default: runningAuto,
				Doc: "When the processes part is judged: \"auto\" on live hosts only (a mounted image has no processes, " +
					"so it is judged on installed and enabled alone, and the result says so); \"always\" also from the " +
					"scanned tree's /proc (ERROR when it shows none); \"never\" not at all.",
			},
		},
	}
}

// ValidateParams implements checks.ParamValidator so that a malformed
// product list is rejected when the baseline is loaded.
func (agentPresent) ValidateParams(p checks.Params) error {
	if _, err := parseProducts(p.Object("products")); err != nil {
		return err
	}
	_, err := runningMode(p.String("require_running"))
	return err
}

func runningMode(s string) (string, error) {
	switch s {
	case runningAuto, runningAlways, runningNever:
		return s, nil
	}
	return "", fmt.Errorf("require_running: want %q, %q or %q, got %q", runningAuto, runningAlways, runningNever, s)
}

// Run implements checks.Check.
func (agentPresent) Run(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	products, err := parseProducts(p.Object("products"))
	if err != nil {
		return checks.Errorf("invalid parameter: %v", err)
	}
	if len(products) == 0 {
		return checks.Errorf("no DLP products configured: set the products parameter of dlp.agent_present in the baseline, so that the check knows what to look for")
	}
	mode, err := runningMode(p.String("require_running"))
	if err != nil {
		return checks.Errorf("invalid parameter: %v", err)
	}
	o := &observer{ctx: ctx, h: h, mode: mode, judgeRunning: mode == runningAlways || (mode == runningAuto && h.Live())}
	verdicts := make([]verdict, len(products))
	for i, pr := range products {
		if err := ctx.Err(); err != nil {
			return checks.Errorf("interrupted: %v", err)
		}
		verdicts[i] = o.judge(pr)
	}
	return summarize(verdicts)
}

// observer looks at one host for one run, reading the package database once.
type observer struct {
	ctx          context.Context
	h            checks.Host
	mode         string
	judgeRunning bool

	dbRead bool
	db     *pkgdb.DB
	dbErr  error
}

func (o *observer) packages() (*pkgdb.DB, error) {
	if !o.dbRead {
		o.db, o.dbErr = pkgdb.Read(o.ctx, o.h)
		o.dbRead = true
	}
	return o.db, o.dbErr
}

// verdict is what was found for one product.
type verdict struct {
	name     string
	evidence []checks.Evidence
	// found are short facts for the PASS message ("aegis.service enabled").
	found []string
	// missing says why the product does not count; unknown what could not
	// be judged. A product counts when both are empty.
	missing, unknown []string
	// note is set when running was not judged.
	note string
}

func (v verdict) counts() bool { return len(v.missing) == 0 && len(v.unknown) == 0 }

func (o *observer) judge(pr product) verdict {
	v := verdict{name: pr.Name}
	if len(pr.Packages) > 0 {
		o.judgePackages(pr, &v)
	}
	if len(pr.Services) > 0 {
		o.judgeServices(pr, &v)
	}
	if len(pr.Processes) > 0 {
		o.judgeProcesses(pr, &v)
	}
	return v
}

func (o *observer) judgePackages(pr product, v *verdict) {
	ev := checks.Evidence{Key: pr.Name + ": package", Expected: anyOf(pr.Packages) + " installed"}
	if pr.MinVersion != "" {
		ev.Expected += ", version >= " + pr.MinVersion
	}
	db, err := o.packages()
	if err != nil {
		ev.Actual = "unknown: " + err.Error()
		v.evidence = append(v.evidence, ev)
		v.unknown = append(v.unknown, fmt.Sprintf("cannot read the package database to look for %s: %v", anyOf(pr.Packages), err))
		return
	}
	ev.Path = db.Source
	var installed []string
	var best *pkgdb.Package
	for _, name := range pr.Packages {
		pkg, ok := db.Lookup(name)
		if !ok {
			continue
		}
		installed = append(installed, pkg.Name+" "+pkg.Version)
		if best == nil && (pr.MinVersion == "" || db.Compare(pkg.Version, pr.MinVersion) >= 0) {
			best = &pkg
		}
	}
	switch {
	case len(installed) == 0:
		ev.Actual = "not installed"
		v.missing = append(v.missing, anyOf(pr.Packages)+" not installed")
	case best == nil:
		ev.Actual = strings.Join(installed, ", ") + " (older than " + pr.MinVersion + ")"
		v.missing = append(v.missing, fmt.Sprintf("%s installed, older than min_version %s", strings.Join(installed, ", "), pr.MinVersion))
	default:
		ev.Actual, ev.OK = strings.Join(installed, ", "), true
		v.found = append(v.found, best.Name+" "+best.Version+" installed")
	}
	v.evidence = append(v.evidence, ev)
}

func (o *observer) judgeServices(pr product, v *verdict) {
	ev := checks.Evidence{Key: pr.Name + ": service", Expected: anyOf(pr.Services) + " enabled and not masked"}
	var states, failed []string
	for _, name := range pr.Services {
		st, err := systemd.Unit(o.ctx, o.h, name)
		if err != nil {
			failed = append(failed, err.Error())
			states = append(states, st.Unit+" unknown")
			continue
		}
		if st.Enabled && !st.Masked {
			ev.Actual, ev.OK, ev.Path = st.Unit+" enabled", true, st.EnabledBy
			v.found = append(v.found, st.Unit+" enabled")
			v.evidence = append(v.evidence, ev)
			return
		}
		states = append(states, st.Unit+" "+st.String())
		if ev.Path == "" {
			ev.Path = st.Path
		}
	}
	ev.Actual = strings.Join(states, ", ")
	v.evidence = append(v.evidence, ev)
	if len(failed) > 0 {
		v.unknown = append(v.unknown, "cannot read "+strings.Join(failed, "; "))
		return
	}
	v.missing = append(v.missing, ev.Actual)
}

func (o *observer) judgeProcesses(pr product, v *verdict) {
	ev := checks.Evidence{Key: pr.Name + ": running", Expected: anyOf(pr.Processes) + " running", Path: "/proc"}
	if !o.judgeRunning {
		v.note = "running: not judged (require_running is never)"
		if o.mode == runningAuto {
			v.note = "running: not judged on an offline image"
		}
		ev.Actual, ev.OK, ev.Path = strings.TrimPrefix(v.note, "running: "), true, ""
		if o.mode == runningAuto {
			ev.Actual += " (require_running is auto; \"always\" judges from the tree's /proc)"
		}
		if len(pr.Packages) == 0 && len(pr.Services) == 0 {
			// Nothing else to go on: the product can be neither found nor
			// ruled out.
			ev.OK = false
			v.unknown = append(v.unknown, "only processes are configured, and "+v.note)
		}
		v.evidence = append(v.evidence, ev)
		return
	}
	var running []string
	for _, name := range pr.Processes {
		procs, err := procfs.Find(o.ctx, o.h, name)
		if err != nil {
			ev.Actual = "unknown: " + err.Error()
			v.evidence = append(v.evidence, ev)
			v.unknown = append(v.unknown, fmt.Sprintf("cannot tell whether %s is running (require_running is %s): %v", anyOf(pr.Processes), o.mode, err))
			return
		}
		for _, p := range procs {
			running = append(running, fmt.Sprintf("%s (pid %d)", name, p.PID))
		}
	}
	if len(running) == 0 {
		ev.Actual = "not running"
		v.missing = append(v.missing, anyOf(pr.Processes)+" not running")
	} else {
		ev.Actual, ev.OK = strings.Join(running, ", "), true
		v.found = append(v.found, strings.Join(running, ", ")+" running")
	}
	v.evidence = append(v.evidence, ev)
}

// summarize turns the verdicts into one result: PASS when any product
// counts, ERROR when none does but one could not be judged, FAIL otherwise.
// Evidence covers every product, so a reader sees what each one lacked.
func summarize(verdicts []verdict) checks.Result {
	var ev []checks.Evidence
	var present, undecided, absent []string
	for _, v := range verdicts {
		ev = append(ev, v.evidence...)
		switch {
		case v.counts():
			s := v.name + " (" + strings.Join(v.found, ", ") + ")"
			if v.note != "" {
				s += "; " + v.note
			}
			present = append(present, s)
		case len(v.missing) > 0:
			// Something definitely lacking rules the product out, even
			// if another part could not be judged.
			absent = append(absent, v.name+": "+strings.Join(v.missing, ", "))
		default:
			undecided = append(undecided, v.name+": "+strings.Join(v.unknown, "; "))
		}
	}
	switch {
	case len(present) > 0:
		return checks.Pass("DLP product present: "+strings.Join(present, "; "), ev...)
	case len(undecided) > 0:
		msg := "cannot decide whether a DLP product is present: " + strings.Join(undecided, "; ")
		if len(absent) > 0 {
			msg += ". Not present: " + strings.Join(absent, "; ")
		}
		return checks.Result{Status: checks.StatusError, Message: msg, Evidence: ev}
	default:
		return checks.Fail("no configured DLP product is present: "+strings.Join(absent, "; "), ev...)
	}
}

// anyOf renders a list of alternatives: "a" or "one of a, b".
func anyOf(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return "one of " + strings.Join(names, ", ")
}
