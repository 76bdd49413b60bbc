// Package sdk is what a plugin author writes against: implement
// checks.Check for each control, list them in a Plugin, and make Serve the
// whole of main. The agent launches the binary, pins it by sha256, and
// serves it the scanned host, so the plugin needs no privileges and runs
// unchanged against the live host, a mounted image or a test fixture.
//
//	func main() {
//		sdk.Serve(sdk.Plugin{Name: "acme", Version: "1.0.0", Checks: []sdk.Check{ntpSynced{}}})
//	}
package sdk

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/plugins/protocol"
)

// Check is the interface a plugin's checks implement: the same as a
// built-in check's. Read the host only through the checks.Host passed to
// Run, honour the context, and return ERROR when the check cannot decide.
type Check = checks.Check

// Version is the SDK version a plugin reports in Describe.
const Version = protocol.SDKVersion

// Plugin is what a plugin binary provides.
type Plugin struct {
	// Name is the plugin's name: lower case letters, digits and _, equal to
	// the binary's file name in the agent's plugin directory, and the
	// prefix of every check id ("acme" provides "acme.ntp_synced").
	Name string
	// Version is the plugin's own version, reported in every scan.
	Version string
	// Checks are the checks the plugin provides.
	Checks []Check
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,63}$`)

// ValidName reports whether name can name a plugin.
func ValidName(name string) bool { return namePattern.MatchString(name) }

// Validate reports every problem with the plugin's declaration at once.
func (p Plugin) Validate() error {
	var errs []error
	if !ValidName(p.Name) {
		errs = append(errs, fmt.Errorf("plugin name %q: want lower case letters, digits and _ (at most 64), starting with a letter or digit", p.Name))
	}
	if strings.TrimSpace(p.Version) == "" {
		errs = append(errs, fmt.Errorf("plugin %s: version is empty", p.Name))
	}
	if len(p.Checks) == 0 {
		errs = append(errs, fmt.Errorf("plugin %s: provides no checks", p.Name))
	}
	seen := map[string]bool{}
	for i, c := range p.Checks {
		if c == nil {
			errs = append(errs, fmt.Errorf("plugin %s: check %d is nil", p.Name, i+1))
			continue
		}
		m := c.Meta()
		if err := m.Validate(); err != nil {
			errs = append(errs, err)
		}
		if !strings.HasPrefix(m.ID, p.Name+".") {
			errs = append(errs, fmt.Errorf("check %s: id must start with the plugin name %q", m.ID, p.Name+"."))
		}
		if seen[m.ID] {
			errs = append(errs, fmt.Errorf("check %s: declared twice", m.ID))
		}
		seen[m.ID] = true
	}
	return errors.Join(errs...)
}

// Serve runs the plugin until the agent kills it; it is the whole of a
// plugin's main. Run by hand (not by an agent), the binary says what it is
// and exits 1. An invalid declaration exits 1 with every problem on stderr.
func Serve(p Plugin) {
	if err := p.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "plumbline plugin %s: invalid declaration:\n%v\n", p.Name, err)
		os.Exit(1)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  protocol.Handshake,
		VersionedPlugins: protocol.PluginSets(NewServer(p)),
		// Only the agent may call the plugin: its socket directory is
		// group-writable when the plugin runs as another user.
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, grpc.Creds(protocol.PeerCheck(protocol.AgentPeer())))...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: "plugin." + p.Name, Output: os.Stderr, Level: hclog.Warn,
		}),
	})
}
