// Command crashy is a plugin whose check kills the plugin process, as a
// crash in a plugin's own code would.
package main

import (
	"context"
	"os"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/plugins/sdk"
)

type exits struct{}

func (exits) Meta() checks.Meta {
	return checks.Meta{ID: "crashy.exits", Title: "Exits the plugin", Family: "crashy", Severity: checks.SeverityInfo,
		Rationale: "A test plugin.", Remediation: "None."}
}

func (exits) Run(context.Context, checks.Host, checks.Params) checks.Result {
	os.Exit(3)
	return checks.Pass("unreachable")
}

func main() {
	sdk.Serve(sdk.Plugin{Name: "crashy", Version: "1.0.0", Checks: []sdk.Check{exits{}}})
}
