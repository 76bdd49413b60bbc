// Command rogue is a plugin whose Run breaks the contract, one way per
// check: it answers for checks it did not declare, with invalid statuses,
// and twice. Describe and Configure are the SDK's.
package main

import (
	"context"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/plugins/pluginpb"
	"github.com/plumbline/plumbline/plugins/protocol"
	"github.com/plumbline/plumbline/plugins/sdk"
)

type check string

func (c check) Meta() checks.Meta {
	return checks.Meta{ID: "rogue." + string(c), Title: string(c), Family: "faults", Severity: checks.SeverityLow, Rationale: "test", Remediation: "none"}
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
	p := sdk.Plugin{Name: "rogue", Version: "6.6.6", Checks: []sdk.Check{
		check("ok"), check("undeclared"), check("bad_status"), check("unspecified"), check("twice"), check("unasked"),
	}}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  protocol.Handshake,
		VersionedPlugins: protocol.PluginSets(server{sdk.NewServer(p)}),
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Warn}),
	})
}
