// Command hang is a plugin for the agent's tests: its check records the
// plugin's pid in the file named by its pidfile parameter and then never
// returns, ignoring its deadline.
package main

import (
	"context"
	"os"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/plugins/sdk"
)

type forever struct{}

func (forever) Meta() checks.Meta {
	return checks.Meta{
		ID: "hang.forever", Title: "Never answers", Family: "hang", Severity: checks.SeverityLow,
		Rationale: "test plugin", Remediation: "none",
		Params: []checks.ParamSpec{{Name: "pidfile", Kind: checks.KindString, Default: "", Doc: "where to write the pid"}},
	}
}

func (forever) Run(_ context.Context, _ checks.Host, p checks.Params) checks.Result {
	if f := p.String("pidfile"); f != "" {
		// The pid as the agent sees it: the plugin is 1 in its own PID
		// namespace, but /proc is the host's.
		pid, _ := os.Readlink("/proc/self")
		_ = os.WriteFile(f, []byte(pid), 0o644)
	}
	select {}
}

func main() {
	sdk.Serve(sdk.Plugin{Name: "hang", Version: "1", Checks: []sdk.Check{forever{}}})
}
