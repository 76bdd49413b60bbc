// Command startcrash is a plugin that fails before the go-plugin handshake,
// as one does whose configuration is missing: a line on stderr, exit 3.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "startcrash: open /etc/startcrash.conf: no such file or directory")
	os.Exit(3)
}
