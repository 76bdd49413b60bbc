// Command slowstart is a plugin that never reaches the go-plugin handshake
// (stuck on a lock or a network call in its init).
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	fmt.Fprintln(os.Stderr, "slowstart: waiting for the license server")
	time.Sleep(time.Hour)
}
