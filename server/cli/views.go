package cli

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/server/api"
	"github.com/plumbline/plumbline/server/store"
)

// The read-only views: hosts, host, checks, deviations, drift, waivers.

const commonFlags = `  --server URL  server API [$PLUMBLINE_SERVER, else ` + DefaultServer + `]
  --json        print the API's JSON answer (indented) instead of a table
`

func hostsCommand() *command {
	return &command{
		name: "hosts", synopsis: "list hosts, failing first, with score and last report",
		usage: `Usage: plumbline hosts [--failing] [--stale] [--group G] [--server URL] [--json]

Lists the fleet's hosts, failing first: open deviations, waived and ERROR
counts, score (PASS / (PASS + open deviations)), and when each last reported.

  --failing     only hosts with at least one open deviation
  --stale       only hosts that stopped reporting
  --group G     only hosts of agent group G
` + commonFlags + `
Exit status: 0 ok; 2 with --failing when a host is listed; 1 on error.
`,
		fields: map[string]string{"failing": "--failing", "stale": "--stale", "group": "--group"},
		setup: func(fs *flag.FlagSet) runFunc {
			failingOnly := fs.Bool("failing", false, "")
			stale := fs.Bool("stale", false, "")
			group := fs.String("group", "", "")
			return func(ctx context.Context, inv *invocation) (int, error) {
				q := map[string]string{"group": *group}
				if *failingOnly {
					q["failing"] = "true"
				}
				if *stale {
					q["stale"] = "true"
				}
				var l api.HostList
				if err := inv.call(ctx, 0, "GET", "/api/v1/hosts", q, nil, &l); err != nil {
					return ExitError, err
				}
				code := ExitOK
				if *failingOnly && len(l.Hosts) > 0 {
					code = ExitFailing
				}
				if inv.json {
					return code, nil
				}
				return code, printHosts(inv, l.Hosts)
			}
		},
	}
}

func printHosts(inv *invocation, hosts []store.HostSummary) error {
	if len(hosts) == 0 {
		_, err := fmt.Fprintln(inv.stdout, "no hosts match")
		return err
	}
	slices.SortStableFunc(hosts, func(a, b store.HostSummary) int {
		return cmp.Or(
			cmp.Compare(b.OpenDeviations, a.OpenDeviations),
			compareBool(b.Stale, a.Stale),
			cmp.Compare(a.ID, b.ID))
	})
	tw := newTable(inv.stdout)
	row(tw, "HOST", "HOSTNAME", "GROUP", "PLATFORM", "SCORE", "OPEN", "WAIVED", "ERROR", "LAST REPORT")
	var failingHosts, stale int
	for _, h := range hosts {
		last := ago(inv.now, h.LastReportAt)
		if h.Stale {
			last += ", STALE"
			stale++
		}
		if h.OpenDeviations > 0 {
			failingHosts++
		}
		row(tw, h.ID, dash(h.Hostname), dash(h.Group), dash(h.Platform), score(h.Score),
			strconv.Itoa(h.OpenDeviations), strconv.Itoa(h.Waived), strconv.Itoa(h.Summary.Error), last)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	_, err := fmt.Fprintf(inv.stdout, "\n%s, %d failing, %d stale\n", plural(len(hosts), "host", "hosts"), failingHosts, stale)
	return err
}

func hostCommand() *command {
	return &command{
		name: "host", synopsis: "show one host: identity, facts, baseline, results with evidence", args: 1,
		usage: `Usage: plumbline host ID [--server URL] [--json]

Shows one host: identity, facts, the baseline that judged it, when it last
reported, then every check's latest result: open deviations first, with the
evidence that failed (key  expected → actual  path:line), then waived
failures, errors, and the rest.

` + commonFlags,
		fields: map[string]string{"id": "ID"},
		setup: func(fs *flag.FlagSet) runFunc {
			return func(ctx context.Context, inv *invocation) (int, error) {
				var h store.HostDetail
				if err := inv.call(ctx, 0, "GET", "/api/v1/hosts/"+url.PathEscape(inv.args[0]), nil, nil, &h); err != nil {
					return ExitError, err
				}
				if inv.json {
					return ExitOK, nil
				}
				return ExitOK, printHost(inv, &h)
			}
		},
	}
}

func printHost(inv *invocation, h *store.HostDetail) error {
	now := inv.now
	kv := newTable(inv.stdout)
	name := h.ID
	if h.Hostname != "" {
		name += " (" + h.Hostname + ")"
	}
	row(kv, "Host", name)
	if h.Group != "" {
		row(kv, "Group", h.Group)
	}
	ident := []string{"id from " + dash(h.Identity.IDSource)}
	for _, p := range [][2]string{{"instance", h.Identity.InstanceID}, {"region", h.Identity.Region},
		{"zone", h.Identity.Zone}, {"image", h.Identity.ImageID}, {"root", h.Identity.Root}} {
		if p[1] != "" {
			ident = append(ident, p[0]+" "+p[1])
		}
	}
	row(kv, "Identity", strings.Join(ident, ", "))
	row(kv, "Platform", facts(h.Facts))
	agent := dash(h.AgentVersion)
	if h.IntervalSeconds > 0 {
		agent += fmt.Sprintf(", scans every %s", span(secondsDuration(h.IntervalSeconds)))
	}
	row(kv, "Agent", agent)
	b := h.Baseline
	base := b.Name
	if b.Version != "" {
		base += " v" + b.Version
	}
	if b.Source != "" {
		base += " (" + b.Source + ")"
	}
	if b.SHA256 != "" {
		base += " sha256 " + b.SHA256[:min(12, len(b.SHA256))]
	}
	row(kv, "Baseline", base)
	for _, p := range h.Plugins {
		row(kv, "Plugin", fmt.Sprintf("%s %s sha256 %s", p.Name, p.Version, p.SHA256[:min(12, len(p.SHA256))]))
	}
	last := fmt.Sprintf("%s, seq %d, scan %s", when(now, h.LastReportAt), h.LastSequence, h.LastScanID)
	if h.Stale {
		last += " — STALE: no report within twice the scan interval"
	}
	row(kv, "Last report", last)
	if !h.LastHeartbeatAt.IsZero() {
		row(kv, "Heartbeat", when(now, h.LastHeartbeatAt))
	}
	if h.AgentError != "" {
		row(kv, "Agent", "last scan FAILED: "+h.AgentError)
	}
	if h.Spooled > 0 || h.SpoolDropped > 0 {
		row(kv, "Agent spool", fmt.Sprintf("%d reports waiting to be sent, %d dropped for space", h.Spooled, h.SpoolDropped))
	}
	row(kv, "First seen", when(now, h.FirstSeen))
	s := h.Summary
	row(kv, "Score", fmt.Sprintf("%s  %s, %d waived; %d pass, %d fail, %d error, %d n/a, %d skipped",
		score(h.Score), plural(h.OpenDeviations, "open deviation", "open deviations"), h.Waived,
		s.Pass, s.Fail, s.Error, s.NotApplicable, s.Skipped))
	if err := kv.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	fmt.Fprintln(inv.stdout)

	results := slices.Clone(h.Results)
	slices.SortStableFunc(results, func(a, b store.ResultRow) int { return cmp.Compare(resultRank(a), resultRank(b)) })
	tw := newTable(inv.stdout)
	row(tw, "STATUS", "SEVERITY", "SINCE", "CHECK", "TITLE")
	for _, r := range results {
		row(tw, r.Status.String(), r.Severity.String(), ago(now, r.Since), r.CheckID, r.Title)
		// Details go in the last column, which does not widen the others.
		detail := func(s string) { row(tw, "", "", "", "", "  "+s) }
		switch r.Status {
		case checks.StatusFail:
			if w := r.Waiver; w != nil {
				if w.Expires.After(now) {
					detail(fmt.Sprintf("waived by %s until %s: %s", w.Owner, until(now, w.Expires), w.Reason))
				} else {
					detail(fmt.Sprintf("waiver by %s expired %s: %s", w.Owner, ago(now, w.Expires), w.Reason))
				}
			}
			if r.Message != "" {
				detail(r.Message)
			}
			for _, e := range failing(r.Evidence) {
				detail(evidence(e))
			}
		case checks.StatusError:
			if r.Message != "" {
				detail(r.Message)
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// resultRank orders a host's results for triage: open deviations, waived
// failures, errors, then everything else.
func resultRank(r store.ResultRow) int {
	switch {
	case r.Deviation:
		return 0
	case r.Status == checks.StatusFail:
		return 1
	case r.Status == checks.StatusError:
		return 2
	}
	return 3
}

func facts(f report.Facts) string {
	parts := []string{dash(f.Platform)}
	var more []string
	for _, p := range [][2]string{{"", f.OS}, {"kernel ", f.Kernel}, {"", f.Arch}, {"", f.Virtualization}} {
		if p[1] != "" {
			more = append(more, p[0]+p[1])
		}
	}
	if f.CPUs > 0 {
		more = append(more, plural(f.CPUs, "CPU", "CPUs"))
	}
	if f.MemoryBytes > 0 {
		more = append(more, fmt.Sprintf("%.1f GiB", float64(f.MemoryBytes)/(1<<30)))
	}
	if len(more) > 0 {
		parts = append(parts, "("+strings.Join(more, ", ")+")")
	}
	return strings.Join(parts, " ")
}

func checksCommand() *command {
	return &command{
		name: "checks", synopsis: "list checks across the fleet, failing first, with the hosts failing them",
		usage: `Usage: plumbline checks [--server URL] [--json]

Lists every check reported by the fleet, the most failed first: how many
hosts have it as an open deviation (and which), and how many pass, error or
do not apply.

` + commonFlags,
		setup: func(fs *flag.FlagSet) runFunc {
			return func(ctx context.Context, inv *invocation) (int, error) {
				var l api.CheckList
				if err := inv.call(ctx, 0, "GET", "/api/v1/checks", nil, nil, &l); err != nil {
					return ExitError, err
				}
				if inv.json {
					return ExitOK, nil
				}
				return ExitOK, printChecks(inv, l.Checks)
			}
		},
	}
}

func printChecks(inv *invocation, cs []store.CheckSummary) error {
	if len(cs) == 0 {
		_, err := fmt.Fprintln(inv.stdout, "no checks reported yet")
		return err
	}
	slices.SortStableFunc(cs, func(a, b store.CheckSummary) int {
		return cmp.Or(
			cmp.Compare(len(b.FailingHosts), len(a.FailingHosts)),
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(a.ID, b.ID))
	})
	tw := newTable(inv.stdout)
	row(tw, "CHECK", "SEVERITY", "FAILING", "PASS", "ERROR", "N/A", "TITLE", "FAILING HOSTS")
	for _, c := range cs {
		row(tw, c.ID, c.Severity.String(), strconv.Itoa(len(c.FailingHosts)), strconv.Itoa(c.Summary.Pass),
			strconv.Itoa(c.Summary.Error), strconv.Itoa(c.Summary.NotApplicable), c.Title, dash(list(c.FailingHosts, 5)))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

func deviationsCommand() *command {
	return &command{
		name: "deviations", synopsis: "list open deviations (checks failing and not waived)",
		usage: `Usage: plumbline deviations [--host ID] [--check ID] [--waived] [--server URL] [--json]

Lists open deviations, highest severity first: checks whose latest result is
FAIL and that no live waiver covers, with the evidence that failed.

  --host ID     only deviations of host ID
  --check ID    only deviations of check ID
  --waived      also list waived failures, with their waiver
` + commonFlags,
		fields: map[string]string{"host": "--host", "check": "--check"},
		setup: func(fs *flag.FlagSet) runFunc {
			host := fs.String("host", "", "")
			check := fs.String("check", "", "")
			waived := fs.Bool("waived", false, "")
			return func(ctx context.Context, inv *invocation) (int, error) {
				q := map[string]string{"host": *host, "check": *check}
				if *waived {
					q["include_waived"] = "true"
				}
				var l api.DeviationList
				if err := inv.call(ctx, 0, "GET", "/api/v1/deviations", q, nil, &l); err != nil {
					return ExitError, err
				}
				if inv.json {
					return ExitOK, nil
				}
				return ExitOK, printDeviations(inv, l.Deviations)
			}
		},
	}
}

func printDeviations(inv *invocation, ds []store.Deviation) error {
	if len(ds) == 0 {
		_, err := fmt.Fprintln(inv.stdout, "no open deviations")
		return err
	}
	tw := newTable(inv.stdout)
	row(tw, "SEVERITY", "HOST", "CHECK", "FAILING SINCE", "TITLE")
	for _, d := range ds {
		row(tw, d.Severity.String(), d.HostID, d.CheckID, ago(inv.now, d.FirstSeen), d.Title)
		detail := func(s string) { row(tw, "", "", "", "", "  "+s) }
		if w := d.Waiver; w != nil {
			if w.Expires.After(inv.now) {
				detail(fmt.Sprintf("waived by %s until %s: %s", w.Owner, until(inv.now, w.Expires), w.Reason))
			} else {
				detail(fmt.Sprintf("waiver by %s expired %s", w.Owner, ago(inv.now, w.Expires)))
			}
		}
		for _, e := range failing(d.Evidence) {
			detail(evidence(e))
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// defaultDriftLimit keeps a terminal screen readable; --limit raises it.
const defaultDriftLimit = 100

func driftCommand() *command {
	return &command{
		name: "drift", synopsis: "list drift events (changes between reports), newest first",
		usage: fmt.Sprintf(`Usage: plumbline drift [--host ID] [--check ID] [--kind K] [--since 24h|RFC3339] [--limit N] [--server URL] [--json]

Lists drift events, newest first: regressed (PASS→FAIL), resolved, changed
(same status, different evidence), errored, recovered, added, removed,
new_host, stale.

  --host ID     only events of host ID
  --check ID    only events of check ID
  --kind K      only events of kind K (%s)
  --since T     only events since T: a duration ago (24h, 30m) or an RFC 3339 time
  --limit N     at most N events (default %d, at most %d)
`, kindNames(), defaultDriftLimit, api.MaxLimit) + commonFlags,
		fields: map[string]string{"host": "--host", "check": "--check", "kind": "--kind", "since": "--since", "limit": "--limit"},
		setup: func(fs *flag.FlagSet) runFunc {
			host := fs.String("host", "", "")
			check := fs.String("check", "", "")
			kind := fs.String("kind", "", "")
			since := fs.String("since", "", "")
			limit := fs.Int("limit", defaultDriftLimit, "")
			return func(ctx context.Context, inv *invocation) (int, error) {
				q := map[string]string{"host": *host, "check": *check, "kind": *kind, "since": *since,
					"limit": strconv.Itoa(*limit)}
				var l api.DriftList
				if err := inv.call(ctx, 0, "GET", "/api/v1/drift", q, nil, &l); err != nil {
					return ExitError, err
				}
				if inv.json {
					return ExitOK, nil
				}
				if err := printDrift(inv, l.Events); err != nil {
					return ExitError, err
				}
				if len(l.Events) == *limit {
					fmt.Fprintf(inv.stderr, "(the newest %d events; --limit shows more)\n", *limit)
				}
				return ExitOK, nil
			}
		},
	}
}

func kindNames() string {
	var names []string
	for _, k := range report.DriftKinds {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

func printDrift(inv *invocation, evs []report.DriftEvent) error {
	if len(evs) == 0 {
		_, err := fmt.Fprintln(inv.stdout, "no drift events match")
		return err
	}
	tw := newTable(inv.stdout)
	row(tw, "WHEN", "HOST", "KIND", "CHECK", "SEVERITY", "CHANGE", "DETAIL")
	for _, e := range evs {
		change := ""
		if e.From != 0 || e.To != 0 {
			change = statusOrDash(e.From) + " → " + statusOrDash(e.To)
		}
		sev := ""
		if e.Severity != 0 {
			sev = e.Severity.String()
		}
		row(tw, ago(inv.now, e.At), e.HostID, string(e.Kind), dash(e.CheckID), dash(sev), dash(change), driftDetail(e))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// driftDetail says what changed: the evidence values that moved, else the
// event's message.
func driftDetail(e report.DriftEvent) string {
	before := make(map[string]string, len(e.FromEvidence))
	for _, ev := range e.FromEvidence {
		before[ev.Key] = ev.Actual
	}
	var diffs []string
	for _, ev := range e.ToEvidence {
		if old, ok := before[ev.Key]; ok && old != ev.Actual {
			diffs = append(diffs, fmt.Sprintf("%s %s → %s", ev.Key, old, ev.Actual))
		}
	}
	if len(diffs) == 0 {
		return e.Message
	}
	if len(diffs) > 2 {
		return fmt.Sprintf("%s; +%d more", strings.Join(diffs[:2], "; "), len(diffs)-2)
	}
	return strings.Join(diffs, "; ")
}

func statusOrDash(s checks.Status) string {
	if s == 0 {
		return "-"
	}
	return s.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
