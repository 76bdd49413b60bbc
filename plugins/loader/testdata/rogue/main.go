// Command rogue is a plugin whose Run breaks the contract, one way per
// check: it answers for checks it did not declare, with invalid statuses,
// twice, with results or an error too large for a report. Describe and
// Configure are the SDK's; its version is set at link time
// (-ldflags "-X main.version=...").
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/plugins/pluginpb"
	"github.com/plumbline/plumbline/plugins/protocol"
	"github.com/plumbline/plumbline/plugins/sdk"
)

var version = "6.6.6"

// titleSuffix lengthens every check's title (set at link time).
var titleSuffix = ""

// bulky is how many rogue.bulky_N checks there are: each answers with as
// much text as a single result may carry, together far more than a report.
const bulky = 5

type check string

func (c check) Meta() checks.Meta {
	return checks.Meta{ID: "rogue." + string(c), Title: string(c) + titleSuffix, Family: "faults", Severity: checks.SeverityLow, Rationale: "test", Remediation: "none"}
}

func (check) Run(context.Context, checks.Host, checks.Params) checks.Result {
	return checks.Errorf("not run: the rogue server answers by hand")
}

// server is the SDK's server with Run replaced.
type server struct {
	pluginpb.PluginServer
}

// SetBroker hands go-plugin's broker to the SDK's server, which Configure
// needs; embedding the interface does not promote it.
func (s server) SetBroker(b *plugin.GRPCBroker) {
	s.PluginServer.(interface{ SetBroker(*plugin.GRPCBroker) }).SetBroker(b)
}

func (s server) Run(req *pluginpb.RunRequest, stream pluginpb.Plugin_RunServer) error {
	pass := func(id string) *pluginpb.RunResult {
		return &pluginpb.RunResult{CheckId: id, Status: pluginpb.Status_STATUS_PASS, Message: "ok"}
	}
	for _, inv := range req.GetInvocations() {
		id := inv.GetCheckId()
		var out []*pluginpb.RunResult
		switch id {
		case "rogue.ok":
			out = append(out, pass(id))
		case "rogue.undeclared":
			// Answers for a check it never declared, for another plugin's
			// check, and for one of its own that was not asked for; never
			// for the one asked.
			out = append(out, pass("rogue.ghost"), pass("good.pass"), pass("rogue.unasked"))
		case "rogue.bad_status":
			out = append(out, &pluginpb.RunResult{CheckId: id, Status: pluginpb.Status(42), Message: "forty-two"})
		case "rogue.unspecified":
			out = append(out, &pluginpb.RunResult{CheckId: id, Message: "no status at all"})
		case "rogue.twice":
			out = append(out, pass(id), &pluginpb.RunResult{CheckId: id, Status: pluginpb.Status_STATUS_FAIL, Message: "changed my mind"})
		case "rogue.loud_error":
			// Fails the whole run with an error of a megabyte.
			return status.Error(codes.Internal, "loud: "+strings.Repeat("x", 1<<20))
		}
		if strings.HasPrefix(id, "rogue.bulky_") {
			field := strings.Repeat("y", 4096)
			r := &pluginpb.RunResult{CheckId: id, Status: pluginpb.Status_STATUS_FAIL, Message: field}
			for range 64 {
				r.Evidence = append(r.Evidence, &pluginpb.Evidence{Key: field, Expected: field, Actual: field, Path: field})
			}
			out = append(out, r)
		}
		for _, r := range out {
			if err := stream.Send(r); err != nil {
				return err
			}
		}
	}
	return nil
}

func main() {
	cs := []sdk.Check{
		check("ok"), check("undeclared"), check("bad_status"), check("unspecified"), check("twice"), check("unasked"), check("loud_error"),
	}
	for i := 1; i <= bulky; i++ {
		cs = append(cs, check(fmt.Sprintf("bulky_%d", i)))
	}
	p := sdk.Plugin{Name: "rogue", Version: version, Checks: cs}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  protocol.Handshake,
		VersionedPlugins: protocol.PluginSets(server{sdk.NewServer(p)}),
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Warn}),
	})
}
