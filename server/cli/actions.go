package cli

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"time"

	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/server/api"
	"github.com/plumbline/plumbline/server/store"
)

// The commands that change something: scan, waive, unwaive; and waivers,
// which lists what waive made.

func scanCommand() *command {
	return &command{
		name: "scan", synopsis: "ask one host, a group or the whole fleet to scan now",
		usage: fmt.Sprintf(`Usage: plumbline scan (--host ID | --group G | --all) [--reason R] [--window D] [--server URL] [--json]

Asks agents to scan now. Agents answer at once and scan afterwards; their
reports arrive as usual, so "plumbline host ID" shows the results a few
seconds later.

  --host ID     the agent of host ID
  --group G     every agent of group G
  --all         every agent
  --reason R    why, for the agents' logs (default: where the request came from)
  --window D    with --group or --all, how long to collect answers (default 2s, at most %s)
`, api.MaxScanWindow) + commonFlags + `
Exit status: 0 when an agent accepted; 1 when none did, or on error. Known
hosts that did not answer are listed but do not fail the command.
`,
		fields: map[string]string{"id": "--host", "group": "--group", "all": "--all", "reason": "--reason", "window": "--window"},
		setup: func(fs *flag.FlagSet) runFunc {
			host := fs.String("host", "", "")
			group := fs.String("group", "", "")
			all := fs.Bool("all", false, "")
			reason := fs.String("reason", "", "")
			window := fs.Duration("window", 0, "")
			return func(ctx context.Context, inv *invocation) (int, error) {
				n := 0
				for _, set := range []bool{*host != "", *group != "", *all} {
					if set {
						n++
					}
				}
				if n != 1 {
					return ExitError, usageError("say which agents: exactly one of --host ID, --group G, --all")
				}
				if *host != "" {
					if *window != 0 {
						return ExitError, usageError("--window applies to --group and --all only")
					}
					return scanHost(ctx, inv, *host, *reason)
				}
				req := api.FleetScanRequest{All: *all, Group: *group, Reason: *reason}
				if *window != 0 {
					req.Window = window.String()
				}
				return scanFleet(ctx, inv, req, *window)
			}
		},
	}
}

func scanHost(ctx context.Context, inv *invocation, host, reason string) (int, error) {
	var rep report.ScanReply
	err := inv.call(ctx, 0, "POST", "/api/v1/hosts/"+url.PathEscape(host)+"/scan", nil, report.ScanRequest{Reason: reason}, &rep)
	if err != nil {
		return ExitError, err
	}
	if !rep.Accepted {
		if !inv.json {
			fmt.Fprintf(inv.stdout, "%s refused the scan: %s\n", rep.HostID, dash(rep.Reason))
		}
		return ExitError, nil
	}
	if !inv.json {
		if rep.Queued {
			fmt.Fprintf(inv.stdout, "%s: scan queued behind the one running; its report follows that one's\n", rep.HostID)
		} else {
			fmt.Fprintf(inv.stdout, "%s: scan started; its report arrives when it finishes\n", rep.HostID)
		}
	}
	return ExitOK, nil
}

func scanFleet(ctx context.Context, inv *invocation, req api.FleetScanRequest, window time.Duration) (int, error) {
	var res api.FleetScanResponse
	if err := inv.call(ctx, max(window, 2*time.Second), "POST", "/api/v1/scan", nil, req, &res); err != nil {
		return ExitError, err
	}
	accepted := 0
	for _, rep := range res.Replies {
		if rep.Accepted {
			accepted++
		}
	}
	code := ExitOK
	if accepted == 0 {
		code = ExitError
	}
	if inv.json {
		return code, nil
	}
	target := "every agent"
	if res.Requested.Group != "" {
		target = "group " + res.Requested.Group
	}
	if len(res.Replies) > 0 {
		tw := newTable(inv.stdout)
		row(tw, "HOST", "ANSWER")
		for _, rep := range res.Replies {
			answer := "scan started"
			switch {
			case !rep.Accepted:
				answer = "refused: " + dash(rep.Reason)
			case rep.Queued:
				answer = "queued behind the running scan"
			}
			row(tw, rep.HostID, answer)
		}
		if err := tw.Flush(); err != nil {
			return ExitError, fmt.Errorf("write output: %w", err)
		}
		fmt.Fprintln(inv.stdout)
	}
	fmt.Fprintf(inv.stdout, "asked %s: %s answered within %s, %d accepted\n",
		target, plural(len(res.Replies), "agent", "agents"), res.Requested.Window, accepted)
	if len(res.Missing) > 0 {
		fmt.Fprintf(inv.stdout, "no answer from %s: %s\n", plural(len(res.Missing), "known host", "known hosts"), list(res.Missing, 20))
	}
	return code, nil
}

func waiveCommand() *command {
	return &command{
		name: "waive", synopsis: "accept a deviation until a date, with owner and reason",
		usage: `Usage: plumbline waive --host ID|'*' --check ID --owner O --reason R (--for 720h | --until RFC3339) [--server URL] [--json]

Accepts a deviation: while the waiver lasts, a FAIL of the check on the host
(or on every host, with --host '*') is listed as waived, not open. When it
expires the deviation opens again. Waiving the same host and check again
replaces the waiver.

  --host ID     the host, or '*' for every host
  --check ID    the check
  --owner O     who accepts the deviation
  --reason R    why (a ticket, a compensating control)
  --for D       how long, from now (720h)
  --until T     until when (RFC 3339, 2025-12-31T00:00:00Z)
` + commonFlags,
		fields: map[string]string{"host_id": "--host", "check_id": "--check", "owner": "--owner",
			"reason": "--reason", "for": "--for", "expires": "--until"},
		setup: func(fs *flag.FlagSet) runFunc {
			host := fs.String("host", "", "")
			check := fs.String("check", "", "")
			owner := fs.String("owner", "", "")
			reason := fs.String("reason", "", "")
			forDur := fs.String("for", "", "")
			untilFlag := fs.String("until", "", "")
			return func(ctx context.Context, inv *invocation) (int, error) {
				for _, f := range []struct{ name, v string }{{"--host", *host}, {"--check", *check}, {"--owner", *owner}, {"--reason", *reason}} {
					if f.v == "" {
						return ExitError, usageError(f.name + " is required")
					}
				}
				if (*forDur == "") == (*untilFlag == "") {
					return ExitError, usageError("say when the waiver ends: exactly one of --for or --until")
				}
				req := api.WaiverRequest{HostID: *host, CheckID: *check, Owner: *owner, Reason: *reason, For: *forDur, Expires: *untilFlag}
				var w store.Waiver
				if err := inv.call(ctx, 0, "POST", "/api/v1/waivers", nil, req, &w); err != nil {
					return ExitError, err
				}
				if !inv.json {
					on := "host " + w.HostID
					if w.HostID == store.AllHosts {
						on = "every host"
					}
					fmt.Fprintf(inv.stdout, "waived %s on %s until %s, owner %s\n", w.CheckID, on, until(inv.now, w.Expires), w.Owner)
				}
				return ExitOK, nil
			}
		},
	}
}

func unwaiveCommand() *command {
	return &command{
		name: "unwaive", synopsis: "remove a waiver",
		usage: `Usage: plumbline unwaive --host ID|'*' --check ID [--server URL] [--json]

Removes a waiver: if the check still fails on the host, the deviation is
open again at once.

  --host ID     the waiver's host, or '*'
  --check ID    the waiver's check
` + commonFlags,
		fields: map[string]string{"host": "--host", "check": "--check"},
		setup: func(fs *flag.FlagSet) runFunc {
			host := fs.String("host", "", "")
			check := fs.String("check", "", "")
			return func(ctx context.Context, inv *invocation) (int, error) {
				if *host == "" || *check == "" {
					return ExitError, usageError("--host and --check are required")
				}
				var u api.Unwaived
				path := "/api/v1/waivers/" + url.PathEscape(*host) + "/" + url.PathEscape(*check)
				if err := inv.call(ctx, 0, "DELETE", path, nil, nil, &u); err != nil {
					return ExitError, err
				}
				if !inv.json {
					fmt.Fprintf(inv.stdout, "removed the waiver of %s on %s\n", u.CheckID, u.HostID)
				}
				return ExitOK, nil
			}
		},
	}
}

func waiversCommand() *command {
	return &command{
		name: "waivers", synopsis: "list waivers, expired ones included",
		usage: `Usage: plumbline waivers [--server URL] [--json]

Lists every waiver with its owner, reason and expiry; expired waivers stay
listed (they explain why a deviation re-opened) until removed with
"plumbline unwaive".

` + commonFlags,
		setup: func(fs *flag.FlagSet) runFunc {
			return func(ctx context.Context, inv *invocation) (int, error) {
				var l api.WaiverList
				if err := inv.call(ctx, 0, "GET", "/api/v1/waivers", nil, nil, &l); err != nil {
					return ExitError, err
				}
				if inv.json {
					return ExitOK, nil
				}
				if len(l.Waivers) == 0 {
					fmt.Fprintln(inv.stdout, "no waivers")
					return ExitOK, nil
				}
				tw := newTable(inv.stdout)
				row(tw, "HOST", "CHECK", "OWNER", "EXPIRES", "REASON")
				for _, w := range l.Waivers {
					exp := ago(inv.now, w.Expires)
					if !w.Expires.After(inv.now) {
						exp = "EXPIRED " + exp
					}
					row(tw, w.HostID, w.CheckID, w.Owner, exp, w.Reason)
				}
				if err := tw.Flush(); err != nil {
					return ExitError, fmt.Errorf("write output: %w", err)
				}
				return ExitOK, nil
			}
		},
	}
}

// usageError is the operator's misuse of a command; Run prints the
// command's usage after it.
type usageError string

func (e usageError) Error() string { return string(e) }
