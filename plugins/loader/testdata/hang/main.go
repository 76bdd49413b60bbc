// Command hang is a plugin that hangs in Run, ignoring its context, and
// ignores Stop too. It records each Stop it receives in .hang.stops beside
// its binary, so that a test can tell that the agent asked before it killed.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/plugins/pluginpb"
	"github.com/plumbline/plumbline/plugins/protocol"
	"github.com/plumbline/plumbline/plugins/sdk"
)

type block struct{}

func (block) Meta() checks.Meta {
	return checks.Meta{ID: "hang.block", Title: "blocks", Family: "faults", Severity: checks.SeverityLow, Rationale: "test", Remediation: "none"}
}

func (block) Run(context.Context, checks.Host, checks.Params) checks.Result {
	return checks.Errorf("not run: the hang server answers by hand")
}

// server is the SDK's server with Run and Stop replaced.
type server struct {
	pluginpb.PluginServer
}

// SetBroker hands go-plugin's broker to the SDK's server, which Configure
// needs; embedding the interface does not promote it.
func (s server) SetBroker(b *plugin.GRPCBroker) {
	s.PluginServer.(interface{ SetBroker(*plugin.GRPCBroker) }).SetBroker(b)
}

func (server) Run(*pluginpb.RunRequest, pluginpb.Plugin_RunServer) error {
	select {}
}

func (server) Stop(context.Context, *pluginpb.StopRequest) (*pluginpb.StopResponse, error) {
	if exe, err := os.Executable(); err == nil {
		if f, err := os.OpenFile(filepath.Join(filepath.Dir(exe), "."+filepath.Base(exe)+".stops"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
			fmt.Fprintf(f, "%d\n", hostPid())
			f.Close()
		}
	}
	select {}
}

func main() {
	p := sdk.Plugin{Name: "hang", Version: "1.0", Checks: []sdk.Check{block{}}}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  protocol.Handshake,
		VersionedPlugins: protocol.PluginSets(server{sdk.NewServer(p)}),
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Warn}),
	})
}

// hostPid is this process's pid as the agent sees it: the plugin runs in a
// PID namespace of its own (where it is 1), but /proc is the host's.
func hostPid() int {
	if s, err := os.Readlink("/proc/self"); err == nil {
		if pid, err := strconv.Atoi(s); err == nil {
			return pid
		}
	}
	return os.Getpid()
}
