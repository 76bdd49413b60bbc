package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plumbline/plumbline/server/api"
	"github.com/plumbline/plumbline/server/api/apitest"
	"github.com/plumbline/plumbline/server/cli"
)

// result is what one command printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the plumbline operator command args against the fleet's API
// (through PLUMBLINE_SERVER), on the fleet's clock.
func run(t *testing.T, f *apitest.Fleet, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	r := &cli.Runner{Stdout: &out, Stderr: &errb, Env: []string{"HOME=/root", "PLUMBLINE_SERVER=" + f.URL}, Now: f.Clock.Now}
	code := r.Run(context.Background(), args)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

var spaces = regexp.MustCompile(`\s+`)

// lines splits output into lines with runs of blanks collapsed, so that
// tests assert content rather than column widths.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		out = append(out, strings.TrimSpace(spaces.ReplaceAllString(l, " ")))
	}
	return out
}

// wantLines checks that each wanted line appears, in this order.
func wantLines(t *testing.T, output string, want ...string) {
	t.Helper()
	got := lines(output)
	i := 0
	for _, w := range want {
		for i < len(got) && got[i] != w {
			i++
		}
		if i == len(got) {
			t.Fatalf("output lacks line %q (in this order); output:\n%s", w, output)
		}
		i++
	}
}

func TestViews(t *testing.T) {
	t.Parallel()
	f := apitest.NewFleet(t, apitest.Options{})
	tests := []struct {
		args    []string
		code    int
		want    []string
		notWant []string
		stderr  string
	}{
		{args: []string{"hosts"}, want: []string{
			"HOST HOSTNAME GROUP PLATFORM SCORE OPEN WAIVED ERROR LAST REPORT",
			"db-1 db-1.example.com db debian:12 0.0% 2 0 0 1h ago, STALE",
			"web-1 web-1.example.com web debian:12 50.0% 1 0 1 50m ago",
			"web-2 web-2.example.com web debian:12 100.0% 0 0 0 1h ago",
			"3 hosts, 2 failing, 1 stale",
		}},
		{args: []string{"hosts", "--failing"}, code: cli.ExitFailing,
			want:    []string{"db-1 db-1.example.com db debian:12 0.0% 2 0 0 1h ago, STALE", "web-1 web-1.example.com web debian:12 50.0% 1 0 1 50m ago"},
			notWant: []string{"web-2"}},
		{args: []string{"hosts", "--group", "web", "--failing"}, code: cli.ExitFailing,
			want: []string{"web-1 web-1.example.com web debian:12 50.0% 1 0 1 50m ago", "1 host, 1 failing, 0 stale"}, notWant: []string{"db-1", "web-2"}},
		{args: []string{"hosts", "--stale", "--group", "web"}, want: []string{"no hosts match"}},
		{args: []string{"host", "web-1"}, want: []string{
			"Host web-1 (web-1.example.com)",
			"Group web",
			"Identity id from config, region cn-hangzhou",
			"Platform debian:12 (linux, kernel 6.1.0-18-amd64, amd64)",
			"Agent 1.0.0-test, scans every 1h",
			"Baseline debian-12 v1 (builtin) sha256 0b6f1ed5a2d6",
			"Last report 50m ago (2025-03-01T12:10:00Z), seq 2, scan web-1-scan-2",
			"First seen 1h ago (2025-03-01T12:00:00Z)",
			"Score 50.0% 1 open deviation, 0 waived; 1 pass, 1 fail, 1 error, 0 n/a, 0 skipped",
			"STATUS SEVERITY SINCE CHECK TITLE",
			"FAIL medium 50m ago pwd.max_days Passwords expire within 90 days",
			"passwords never expire",
			"PASS_MAX_DAYS <= 90 → 99999 /etc/login.defs:12",
			"ERROR high 50m ago luks.cipher Data volumes use AES-256",
			"cryptsetup luksDump: timed out after 5s",
			"PASS high 1h ago sudo.installed sudo is installed",
		}},
		{args: []string{"host", "db-1"}, want: []string{
			"Last report 1h ago (2025-03-01T12:00:00Z), seq 1, scan db-1-scan-1 — STALE: no report within twice the scan interval",
			"FAIL high 1h ago sudo.installed sudo is installed",
			"package sudo installed → absent /var/lib/dpkg/status",
			"FAIL medium 1h ago pwd.max_days Passwords expire within 90 days",
			"NOT_APPLICABLE high 1h ago dlp.agent_present DLP agent is installed",
		}},
		{args: []string{"checks"}, want: []string{
			"CHECK SEVERITY FAILING PASS ERROR N/A TITLE FAILING HOSTS",
			"pwd.max_days medium 2 1 0 0 Passwords expire within 90 days db-1, web-1",
			"sudo.installed high 1 2 0 0 sudo is installed db-1",
			"dlp.agent_present high 0 0 0 1 DLP agent is installed -",
		}},
		{args: []string{"deviations"}, want: []string{
			"high db-1 sudo.installed 1h ago sudo is installed",
			"medium db-1 pwd.max_days 1h ago Passwords expire within 90 days",
			"medium web-1 pwd.max_days 50m ago Passwords expire within 90 days",
			"PASS_MAX_DAYS <= 90 → 99999 /etc/login.defs:12",
		}},
		{args: []string{"deviations", "--host", "web-2"}, want: []string{"no open deviations"}},
		{args: []string{"drift"}, want: []string{
			"WHEN HOST KIND CHECK SEVERITY CHANGE DETAIL",
			"just now db-1 stale - - - no report since 2025-03-01T12:00:00Z (scan interval 1m0s, stale after 2×interval + 5m0s)",
			"50m ago web-1 regressed pwd.max_days medium PASS → FAIL PASS_MAX_DAYS 90 → 99999",
			"50m ago web-1 errored luks.cipher high PASS → ERROR cryptsetup luksDump: timed out after 5s",
			"1h ago db-1 new_host - - - first report: 3 checks (0 pass, 2 fail, 0 error, 1 not applicable, 0 skipped)",
		}},
		{args: []string{"drift", "--host", "web-1", "--kind", "regressed"}, want: []string{
			"50m ago web-1 regressed pwd.max_days medium PASS → FAIL PASS_MAX_DAYS 90 → 99999",
		}, notWant: []string{"errored", "new_host"}},
		{args: []string{"drift", "--since", "30m"}, want: []string{"just now db-1 stale - - - no report since 2025-03-01T12:00:00Z (scan interval 1m0s, stale after 2×interval + 5m0s)"}, notWant: []string{"regressed"}},
		{args: []string{"drift", "--since", "2025-03-01T12:05:00Z", "--check", "luks.cipher"}, want: []string{"50m ago web-1 errored luks.cipher high PASS → ERROR cryptsetup luksDump: timed out after 5s"}},
		{args: []string{"drift", "--limit", "2"}, want: []string{"WHEN HOST KIND CHECK SEVERITY CHANGE DETAIL"}, notWant: []string{"new_host"}, stderr: "newest 2 events"},
		{args: []string{"waivers"}, want: []string{"no waivers"}},
		// Errors.
		{args: []string{"host", "nope"}, code: 1, stderr: "plumbline host: host nope not found"},
		{args: []string{"host", "bad.id"}, code: 1, stderr: "plumbline host: ID: host id \"bad.id\""},
		{args: []string{"host"}, code: 1, stderr: "missing argument"},
		{args: []string{"host", "web-1", "web-2"}, code: 1, stderr: `unexpected argument "web-2"`},
		{args: []string{"hosts", "extra"}, code: 1, stderr: `unexpected argument "extra"`},
		{args: []string{"hosts", "--bogus"}, code: 1, stderr: "flag provided but not defined: -bogus"},
		// "--group $G" with G unset must not list the whole fleet.
		{args: []string{"hosts", "--failing", "--group", ""}, code: 1, stderr: "--group is empty"},
		{args: []string{"drift", "--host="}, code: 1, stderr: "--host is empty"},
		{args: []string{"hosts", "--group", "a.b"}, code: 1, stderr: "plumbline hosts: --group: group \"a.b\""},
		{args: []string{"drift", "--kind", "broken"}, code: 1, stderr: "plumbline drift: --kind: unknown drift kind \"broken\""},
		{args: []string{"drift", "--since", "yesterday"}, code: 1, stderr: "plumbline drift: --since: \"yesterday\" is neither"},
		{args: []string{"drift", "--limit", "0"}, code: 1, stderr: "plumbline drift: --limit:"},
		{args: []string{"drift", "--limit", "many"}, code: 1, stderr: "invalid value \"many\" for flag -limit"},
		{args: []string{"frobnicate"}, code: 1, stderr: `unknown command "frobnicate"`},
		{args: []string{}, code: 1, stderr: "Operator commands"},
		{args: []string{"hosts", "--server", "ftp://example.com"}, code: 1, stderr: "--server: server URL \"ftp://example.com\""},
		// Help.
		{args: []string{"help"}, want: []string{"plumbline drift list drift events (changes between reports), newest first"}},
		{args: []string{"help", "drift"}, want: []string{"Usage: plumbline drift [--host ID] [--check ID] [--kind K] [--since 24h|RFC3339] [--limit N] [--server URL] [--json]"}},
		{args: []string{"drift", "-h"}, stderr: "Usage: plumbline drift"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			r := run(t, f, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			wantLines(t, r.stdout, tt.want...)
			for _, nw := range tt.notWant {
				if strings.Contains(r.stdout, nw) {
					t.Fatalf("output mentions %q:\n%s", nw, r.stdout)
				}
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("stderr lacks %q:\n%s", tt.stderr, r.stderr)
			}
			if tt.stderr == "" && r.stderr != "" {
				t.Fatalf("unexpected stderr:\n%s", r.stderr)
			}
		})
	}
}

// TestJSONIsTheAPIAnswer checks that --json prints exactly what the API
// answered (indented), for every view.
func TestJSONIsTheAPIAnswer(t *testing.T) {
	t.Parallel()
	f := apitest.NewFleet(t, apitest.Options{})
	tests := []struct {
		args []string
		path string
		code int
	}{
		{[]string{"hosts", "--json"}, "/api/v1/hosts", 0},
		{[]string{"hosts", "--failing", "--json"}, "/api/v1/hosts?failing=true", cli.ExitFailing},
		{[]string{"host", "web-1", "--json"}, "/api/v1/hosts/web-1", 0},
		{[]string{"checks", "--json"}, "/api/v1/checks", 0},
		{[]string{"deviations", "--json", "--waived"}, "/api/v1/deviations?include_waived=true", 0},
		{[]string{"drift", "--json", "--host", "web-1"}, "/api/v1/drift?host=web-1&limit=100", 0},
		{[]string{"waivers", "--json"}, "/api/v1/waivers", 0},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			r := run(t, f, tt.args...)
			if r.code != tt.code || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if !strings.HasPrefix(r.stdout, "{\n  \"") {
				t.Fatalf("--json output is not an indented object:\n%s", r.stdout)
			}
			res, err := http.Get(f.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			direct, _ := io.ReadAll(res.Body)
			var got, want any
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("--json output does not parse: %v\n%s", err, r.stdout)
			}
			if err := json.Unmarshal(direct, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("--json output differs from the API's answer\ngot:  %s\nwant: %s", r.stdout, direct)
			}
		})
	}
}

func TestWaiverLifecycle(t *testing.T) {
	t.Parallel()
	f := apitest.NewFleet(t, apitest.Options{})
	steps := []struct {
		args   []string
		code   int
		want   []string
		stderr string
	}{
		{args: []string{"waive", "--host", "web-1", "--check", "pwd.max_days", "--owner", "alice", "--reason", "CHG-42", "--for", "720h"},
			want: []string{"waived pwd.max_days on host web-1 until 2025-03-31T13:00:00Z (in 30d), owner alice"}},
		{args: []string{"hosts", "--failing"}, code: cli.ExitFailing, want: []string{"1 host, 1 failing, 1 stale"}},
		{args: []string{"deviations", "--host", "web-1"}, want: []string{"no open deviations"}},
		{args: []string{"deviations", "--host", "web-1", "--waived"}, want: []string{
			"medium web-1 pwd.max_days 50m ago Passwords expire within 90 days",
			"waived by alice until 2025-03-31T13:00:00Z (in 30d): CHG-42",
		}},
		{args: []string{"host", "web-1"}, want: []string{
			"Score 100.0% 0 open deviations, 1 waived; 1 pass, 1 fail, 1 error, 0 n/a, 0 skipped",
			"FAIL medium 50m ago pwd.max_days Passwords expire within 90 days",
			"waived by alice until 2025-03-31T13:00:00Z (in 30d): CHG-42",
			"PASS_MAX_DAYS <= 90 → 99999 /etc/login.defs:12",
		}},
		{args: []string{"waive", "--host", "*", "--check", "sudo.installed", "--owner", "bob", "--reason", "containers", "--until", "2025-03-01T14:00:00Z"},
			want: []string{"waived sudo.installed on every host until 2025-03-01T14:00:00Z (in 1h), owner bob"}},
		{args: []string{"waivers"}, want: []string{
			"HOST CHECK OWNER EXPIRES REASON",
			"* sudo.installed bob in 1h containers",
			"web-1 pwd.max_days alice in 30d CHG-42",
		}},
		{args: []string{"unwaive", "--host", "web-1", "--check", "pwd.max_days"}, want: []string{"removed the waiver of pwd.max_days on web-1"}},
		{args: []string{"deviations", "--host", "web-1"}, want: []string{"medium web-1 pwd.max_days 50m ago Passwords expire within 90 days"}},
		{args: []string{"unwaive", "--host", "web-1", "--check", "pwd.max_days"}, code: 1, stderr: "no waiver for check pwd.max_days on host web-1"},
		// Refusals, with the flag to fix named.
		{args: []string{"waive", "--host", "web-9", "--check", "c.d", "--owner", "a", "--reason", "r", "--for", "1h"}, code: 1,
			stderr: "plumbline waive: --host: host web-9 has never reported"},
		{args: []string{"waive", "--host", "web-1", "--check", "c.d", "--owner", "a", "--reason", "r", "--until", "2020-01-01T00:00:00Z"}, code: 1,
			stderr: "plumbline waive: --until: 2020-01-01T00:00:00Z is not in the future"},
		{args: []string{"waive", "--host", "web-1", "--check", "c.d", "--owner", "a", "--reason", "r", "--for", "soon"}, code: 1,
			stderr: "plumbline waive: --for: \"soon\" is not a duration"},
		{args: []string{"waive", "--host", "web-1", "--check", "c.d", "--reason", "r", "--for", "1h"}, code: 1,
			stderr: "plumbline waive: --owner is required"},
		{args: []string{"waive", "--host", "web-1", "--check", "c.d", "--owner", "a", "--reason", "r", "--for", "1h", "--until", "2030-01-01T00:00:00Z"}, code: 1,
			stderr: "exactly one of --for or --until"},
		{args: []string{"unwaive", "--host", "web-1"}, code: 1, stderr: "--host and --check are required"},
	}
	// Steps run in order: each depends on the waivers the previous left.
	for _, s := range steps {
		r := run(t, f, s.args...)
		if r.code != s.code {
			t.Fatalf("plumbline %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(s.args, " "), r.code, s.code, r.stdout, r.stderr)
		}
		wantLines(t, r.stdout, s.want...)
		if !strings.Contains(r.stderr, s.stderr) {
			t.Fatalf("plumbline %s: stderr lacks %q:\n%s", strings.Join(s.args, " "), s.stderr, r.stderr)
		}
	}
	// The fleet-wide waiver lapses: the deviation is open again, and the
	// waiver list says so.
	f.Clock.Advance(2 * time.Hour)
	wantLines(t, run(t, f, "deviations", "--host", "db-1").stdout,
		"high db-1 sudo.installed 3h ago sudo is installed", "waiver by bob expired 1h ago")
	wantLines(t, run(t, f, "waivers").stdout, "* sudo.installed bob EXPIRED 1h ago containers")
}

func TestScan(t *testing.T) {
	t.Parallel()
	web1 := &apitest.Agent{HostID: "web-1", Group: "web"}
	refusing := &apitest.Agent{HostID: "db-1", Group: "db", Refuse: "scans disabled by config"}
	f := apitest.NewFleet(t, apitest.Options{Agents: []*apitest.Agent{web1, refusing}})
	tests := []struct {
		args   []string
		code   int
		want   []string
		stderr string
	}{
		{args: []string{"scan", "--host", "web-1", "--reason", "ticket 9"}, want: []string{"web-1: scan started; its report arrives when it finishes"}},
		{args: []string{"scan", "--host", "db-1"}, code: 1, want: []string{"db-1 refused the scan: scans disabled by config"}},
		{args: []string{"scan", "--host", "web-2"}, code: 1, stderr: "agent is not connected"},
		{args: []string{"scan", "--group", "web", "--window", "300ms"}, want: []string{
			"HOST ANSWER", "web-1 scan started",
			"asked group web: 1 agent answered within 300ms, 1 accepted",
			"no answer from 1 known host: web-2",
		}},
		{args: []string{"scan", "--all", "--window", "300ms"}, want: []string{
			"db-1 refused: scans disabled by config", "web-1 scan started",
			"asked every agent: 2 agents answered within 300ms, 1 accepted",
			"no answer from 1 known host: web-2",
		}},
		{args: []string{"scan", "--group", "nobody", "--window", "200ms"}, code: 1, want: []string{"asked group nobody: 0 agents answered within 200ms, 0 accepted"}},
		{args: []string{"scan"}, code: 1, stderr: "exactly one of --host ID, --group G, --all"},
		{args: []string{"scan", "--host", "web-1", "--all"}, code: 1, stderr: "exactly one of"},
		{args: []string{"scan", "--host", "web-1", "--window", "1s"}, code: 1, stderr: "--window applies to --group and --all only"},
		{args: []string{"scan", "--all", "--window", "5m"}, code: 1, stderr: "plumbline scan: --window: 5m0s is outside"},
		{args: []string{"scan", "--group", "a.b"}, code: 1, stderr: "plumbline scan: --group: group \"a.b\""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			r := run(t, f, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			wantLines(t, r.stdout, tt.want...)
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("stderr lacks %q:\n%s", tt.stderr, r.stderr)
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		r := run(t, f, "scan", "--group", "web", "--window", "300ms", "--json")
		var res api.FleetScanResponse
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 {
			t.Fatalf("exit %d, %v:\n%s", r.code, err, r.stdout)
		}
		if len(res.Replies) != 1 || res.Replies[0].HostID != "web-1" || len(res.Missing) != 1 || res.Missing[0] != "web-2" {
			t.Fatalf("scan --json = %+v", res)
		}
	})
	t.Run("reason reaches the agent", func(t *testing.T) {
		t.Parallel()
		if r := run(t, f, "scan", "--host", "web-1", "--reason", "audit 2025"); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		rs := web1.Reasons()
		if len(rs) == 0 || !strings.Contains(strings.Join(rs, "|"), "audit 2025") {
			t.Fatalf("agent saw reasons %q", rs)
		}
	})
}

func TestServerSelection(t *testing.T) {
	t.Parallel()
	f := apitest.NewFleet(t, apitest.Options{})
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html>hello</html>")
	}))
	t.Cleanup(html.Close)

	runWith := func(env []string, args ...string) result {
		var out, errb bytes.Buffer
		code := cli.Run(context.Background(), args, &out, &errb, env)
		return result{code, out.String(), errb.String()}
	}
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		r := runWith(nil, "hosts", "--server", deadURL)
		if r.code != 1 || !strings.Contains(r.stderr, "cannot reach the plumbline server at "+deadURL) ||
			!strings.Contains(r.stderr, "plumbline server") || !strings.Contains(r.stderr, "--server URL or PLUMBLINE_SERVER") {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("flag beats environment", func(t *testing.T) {
		t.Parallel()
		r := runWith([]string{"PLUMBLINE_SERVER=" + deadURL}, "hosts", "--server", f.URL)
		if r.code != 0 || !strings.Contains(r.stdout, "web-1") {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("environment", func(t *testing.T) {
		t.Parallel()
		r := runWith([]string{"PLUMBLINE_SERVER=" + strings.TrimPrefix(f.URL, "http://")}, "checks")
		if r.code != 0 || !strings.Contains(r.stdout, "pwd.max_days") {
			t.Fatalf("host:port in PLUMBLINE_SERVER: exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("not a plumbline server", func(t *testing.T) {
		t.Parallel()
		r := runWith(nil, "hosts", "--server", html.URL)
		if r.code != 1 || !strings.Contains(r.stderr, "not JSON") {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})
}

func TestCommandsAndUsage(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	cli.Usage(&b)
	if cli.IsCommand("server") || !cli.IsCommand("drift") {
		t.Error("IsCommand disagrees with the command list")
	}
	for _, name := range cli.Commands() {
		if !strings.Contains(b.String(), "plumbline "+name+" ") {
			t.Errorf("usage does not list %s:\n%s", name, b.String())
		}
		var out bytes.Buffer
		if code := cli.Run(context.Background(), []string{"help", name}, &out, io.Discard, nil); code != 0 ||
			!strings.HasPrefix(out.String(), "Usage: plumbline "+name) {
			t.Errorf("help %s: exit %d:\n%s", name, code, out.String())
		}
	}
}
