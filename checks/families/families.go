// Package families links the built-in check families into a binary: import
// it for its side effect of registering every built-in check, the
// declarative CIS content included.
package families

import (
	_ "github.com/plumbline/plumbline/checks/cis"                // CIS Level 1 and 2 declarative checks
	_ "github.com/plumbline/plumbline/checks/families/diskcrypt" // encryption at rest with AES-256
	_ "github.com/plumbline/plumbline/checks/families/dlp"       // DLP software present
	_ "github.com/plumbline/plumbline/checks/families/password"  // password policy
	_ "github.com/plumbline/plumbline/checks/families/sudolog"   // sudo activity logged and forwarded
)
