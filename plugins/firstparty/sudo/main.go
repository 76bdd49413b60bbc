// Command sudo is the first-party sudo check family as a standalone plugin
// binary. The agent links the same code in; this build lets the family run
// out of process (and be updated without the agent) when pinned in the
// agent's plugin directory.
package main

import (
	"github.com/plumbline/plumbline/checks"
	_ "github.com/plumbline/plumbline/checks/families/sudolog" // registers the family
	"github.com/plumbline/plumbline/plugins/sdk"
)

// version is set by the linker (make plugins).
var version = "dev"

func main() {
	sdk.Serve(sdk.Plugin{Name: "sudo", Version: version, Checks: checks.All()})
}
