// Command garbage is a well-formed plugin that prints a banner to stdout
// before serving, which corrupts the go-plugin handshake line.
package main

import (
	"context"
	"fmt"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/plugins/sdk"
)

type pass struct{}

func (pass) Meta() checks.Meta {
	return checks.Meta{ID: "garbage.pass", Title: "passes", Family: "faults", Severity: checks.SeverityLow, Rationale: "test", Remediation: "none"}
}

func (pass) Run(context.Context, checks.Host, checks.Params) checks.Result { return checks.Pass("ok") }

func main() {
	fmt.Println("garbage plugin v0.1 starting up")
	sdk.Serve(sdk.Plugin{Name: "garbage", Version: "0.1", Checks: []sdk.Check{pass{}}})
}
