// Command example is the plugin sdktest's own tests build and run: two
// small checks of /etc/hostname.
package main

import (
	"github.com/plumbline/plumbline/plugins/sdk"
	"github.com/plumbline/plumbline/plugins/sdk/sdktest/testdata/example/hostname"
)

func main() {
	sdk.Serve(hostname.Plugin)
}
