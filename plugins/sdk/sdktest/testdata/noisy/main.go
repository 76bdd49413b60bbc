// Command noisy is a plugin with the mistake CheckHandshake exists to
// catch: it prints to stdout before sdk.Serve, ahead of the handshake.
package main

import (
	"context"
	"fmt"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/plugins/sdk"
)

type alwaysPass struct{}

func (alwaysPass) Meta() checks.Meta {
	return checks.Meta{ID: "noisy.always_pass", Title: "Always passes", Family: "noisy", Severity: checks.SeverityInfo,
		Rationale: "A test plugin.", Remediation: "None."}
}

func (alwaysPass) Run(context.Context, checks.Host, checks.Params) checks.Result {
	return checks.Pass("passed")
}

func main() {
	fmt.Println("noisy plugin starting")
	sdk.Serve(sdk.Plugin{Name: "noisy", Version: "1.0.0", Checks: []sdk.Check{alwaysPass{}}})
}
