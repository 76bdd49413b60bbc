// Package protocol is what the agent and a plugin agree on: the go-plugin
// handshake, the protocol version, the plugin set, and the conversions
// between the checks vocabulary and the generated contract in pluginpb.
// Both sides import it; neither redefines it.
package protocol

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/plumbline/plumbline/plugins/pluginpb"
)

// Version is the plugin protocol version this build speaks. A plugin built
// for another version is refused at the handshake with both versions named.
const Version = 1

// SDKVersion is the version of the author SDK, reported by Describe.
const SDKVersion = "1.0.0"

// PluginKey names the one plugin a plumbline plugin binary dispenses.
const PluginKey = "checks"

// Handshake is the go-plugin handshake. The cookie only tells a binary that
// it was started by a plumbline agent (and not run by hand); it is not a
// secret and not a security measure.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  Version,
	MagicCookieKey:   "PLUMBLINE_PLUGIN",
	MagicCookieValue: "7c3f0d2a-checks-v1",
}

// GRPCPlugin is the go-plugin glue for the Plugin service. On the plugin
// side Impl serves the calls; on the agent side GRPCClient returns a *Client.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is set on the plugin side only.
	Impl pluginpb.PluginServer
}

// GRPCServer registers Impl, giving it the broker through which it dials the
// agent's host service.
func (p *GRPCPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	if b, ok := p.Impl.(interface{ SetBroker(*plugin.GRPCBroker) }); ok {
		b.SetBroker(broker)
	}
	pluginpb.RegisterPluginServer(s, p.Impl)
	return nil
}

// GRPCClient returns the agent-side client.
func (p *GRPCPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &Client{Plugin: pluginpb.NewPluginClient(c), Broker: broker}, nil
}

// Client is the agent's handle on a running plugin.
type Client struct {
	Plugin pluginpb.PluginClient
	Broker *plugin.GRPCBroker
}

// PluginSets is what both sides pass as go-plugin's VersionedPlugins.
func PluginSets(impl pluginpb.PluginServer) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{Version: {PluginKey: &GRPCPlugin{Impl: impl}}}
}

// Dispense returns the *Client of a started go-plugin client.
func Dispense(rpc plugin.ClientProtocol) (*Client, error) {
	raw, err := rpc.Dispense(PluginKey)
	if err != nil {
		return nil, fmt.Errorf("dispense %s: %w", PluginKey, err)
	}
	c, ok := raw.(*Client)
	if !ok {
		return nil, fmt.Errorf("dispense %s: got %T", PluginKey, raw)
	}
	return c, nil
}
