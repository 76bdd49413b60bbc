// Package dlp holds the checks behind the security measure "DLP software is
// installed on devices".
//
// # dlp.agent_present
//
// The products parameter lists the DLP products that satisfy the measure;
// the check passes when at least one of them is present. A product is a
// mapping:
//
//	products:
//	- name: Acme DLP                 # display name, required
//	  packages: [acme-dlp]           # any of these installed (dpkg or rpm database)
//	  services: [acme-dlp.service]   # any of these enabled and not masked (unit files and links)
//	  processes: [acme-dlpd]         # any of these running (/proc)
//	  min_version: "4.2"             # optional; installed package version at least this
//
// At least one of packages, services and processes is required, and every
// part that is listed must hold. Versions are compared by the package
// database's own rules (dpkg or rpmvercmp). The parameter is validated when
// the baseline is loaded (checks.ParamValidator): a list item that is not a
// mapping, lacks a name, lists none of packages, services or processes, has
// an unknown field or a value of the wrong type is rejected with its index
// and field ("products[1] (\"Acme DLP\"): packages: item 0: want a string,
// got int 3").
//
// Whether a process is running can only be seen on a live host. The
// require_running parameter says when it is judged: "auto" (the default)
// on live hosts only, so that a mounted image or fixture tree is judged on
// installed and enabled alone and the result says "running: not judged on
// an offline image"; "always" also from the scanned tree's /proc, and ERROR
// when it shows no processes; "never" not at all.
//
// Results: PASS names the products found and what was seen (package and
// version, the enabling link, process ids). FAIL names every configured
// product and why it does not count. ERROR when no product counts but one
// could not be judged (no package database, unreadable unit, no /proc with
// require_running "always"), or when the list is empty.
//
// # Default products
//
// The shipped list is deliberately conservative and must be confirmed by the
// operator (README.md in this directory says how sure we are of each name):
//
//   - Forcepoint DLP Endpoint: service and process wsdlpd (best-effort).
//   - Symantec DLP Agent (Broadcom): service edpa, processes edpa or wdp
//     (best-effort).
//   - Trellix DLP Endpoint (McAfee DLP): service fcags, processes fcags or
//     fcagswd (best-effort, names taken from the Windows agent).
//   - Digital Guardian Agent: service and process dgagent (best-effort).
//   - Alibaba Cloud Security Center agent (aegis): service aegis, processes
//     AliYunDun or AliYunDunMonitor (from Alibaba Cloud's documentation).
//
// No package names or versions are shipped: a wrong guess in a listed part
// would make an installed agent fail. Operators add packages and
// min_version for the product they run.
package dlp
