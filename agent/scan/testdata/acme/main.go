// Command acme is a third-party-style plugin for the scan tests: one
// check, with a parameter, that is in no built-in baseline.
package main

import (
	"context"
	"errors"
	"io/fs"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/plugins/sdk"
)

type motd struct{}

func (motd) Meta() checks.Meta {
	return checks.Meta{
		ID: "acme.motd_present", Title: "A login banner exists", Family: "acme", Severity: checks.SeverityLow,
		Rationale: "a banner states the terms of use", Remediation: "write the banner to the file",
		Params: []checks.ParamSpec{{Name: "path", Kind: checks.KindString, Default: "/etc/motd", Doc: "banner file"}},
	}
}

func (motd) Run(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	path := p.String("path")
	_, err := h.Stat(ctx, path)
	switch {
	case err == nil:
		return checks.Pass("banner present", checks.Evidence{Key: "banner", Expected: "present", Actual: "present", OK: true, Path: path})
	case errors.Is(err, fs.ErrNotExist):
		return checks.Fail("no banner", checks.Evidence{Key: "banner", Expected: "present", Actual: "missing", Path: path})
	}
	return checks.Errorf("stat %s: %v", path, err)
}

func main() {
	sdk.Serve(sdk.Plugin{Name: "acme", Version: "0.1.0", Checks: []sdk.Check{motd{}}})
}
