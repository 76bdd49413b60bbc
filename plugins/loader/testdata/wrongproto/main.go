// Command wrongproto is a plugin built for plugin protocol version 2: the
// same handshake cookie, another version.
package main

import (
	"context"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/plugins/protocol"
	"github.com/plumbline/plumbline/plugins/sdk"
)

type pass struct{}

func (pass) Meta() checks.Meta {
	return checks.Meta{ID: "wrongproto.pass", Title: "passes", Family: "faults", Severity: checks.SeverityLow, Rationale: "test", Remediation: "none"}
}

func (pass) Run(context.Context, checks.Host, checks.Params) checks.Result { return checks.Pass("ok") }

func main() {
	const version = protocol.Version + 1
	hs := protocol.Handshake
	hs.ProtocolVersion = version
	impl := sdk.NewServer(sdk.Plugin{Name: "wrongproto", Version: "2.0", Checks: []sdk.Check{pass{}}})
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  hs,
		VersionedPlugins: map[int]plugin.PluginSet{version: {protocol.PluginKey: &protocol.GRPCPlugin{Impl: impl}}},
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Warn}),
	})
}
