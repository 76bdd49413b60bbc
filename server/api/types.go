package api

import (
	"time"

	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/server/store"
)

// The bodies the API reads and writes. Every response is a JSON object, so
// that fields can be added without breaking clients; list endpoints wrap
// their list in a named field.

// Error is the body of every error response.
type Error struct {
	Error string `json:"error"`
	// Field names the query parameter or body field at fault, when one is.
	Field string `json:"field,omitempty"`
}

// HostList is the body of GET /api/v1/hosts.
type HostList struct {
	Hosts []store.HostSummary `json:"hosts"`
}

// CheckList is the body of GET /api/v1/checks.
type CheckList struct {
	Checks []store.CheckSummary `json:"checks"`
}

// DeviationList is the body of GET /api/v1/deviations.
type DeviationList struct {
	Deviations []store.Deviation `json:"deviations"`
}

// DriftList is the body of GET /api/v1/drift: events newest first.
type DriftList struct {
	Events []report.DriftEvent `json:"events"`
}

// WaiverList is the body of GET /api/v1/waivers, expired waivers included.
type WaiverList struct {
	Waivers []store.Waiver `json:"waivers"`
}

// RejectedList is the body of GET /api/v1/rejected, newest first. Each
// message's data is base64, as encoding/json writes bytes.
type RejectedList struct {
	Rejected []store.Rejection `json:"rejected"`
}

// WaiverRequest is the body of POST /api/v1/waivers. Exactly one of
// Expires and For says when the waiver ends.
type WaiverRequest struct {
	// HostID is a host id or "*" for every host.
	HostID  string `json:"host_id"`
	CheckID string `json:"check_id"`
	Owner   string `json:"owner"`
	Reason  string `json:"reason"`
	// Expires is an RFC 3339 time.
	Expires string `json:"expires,omitempty"`
	// For is a Go duration from now ("720h").
	For string `json:"for,omitempty"`
}

// Unwaived is the body of DELETE /api/v1/waivers/{host}/{check}.
type Unwaived struct {
	HostID  string `json:"host_id"`
	CheckID string `json:"check_id"`
	Removed bool   `json:"removed"`
}

// FleetScanRequest is the body of POST /api/v1/scan: exactly one of All
// and Group.
type FleetScanRequest struct {
	All    bool   `json:"all,omitempty"`
	Group  string `json:"group,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Window is how long to collect replies, a Go duration ("2s"); at most
	// MaxScanWindow.
	Window string `json:"window,omitempty"`
}

// FleetScanResponse is the answer to POST /api/v1/scan.
type FleetScanResponse struct {
	// Requested echoes the request with its defaults filled in.
	Requested FleetScanRequest `json:"requested"`
	// Replies are the agents that answered within the window, by host id.
	Replies []report.ScanReply `json:"replies"`
	// Missing lists hosts the server knows (in the group, if one was
	// asked) whose agent did not answer within the window.
	Missing []string `json:"missing"`
}

// Health is the body of GET /healthz.
type Health struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Limits of what a request may ask for.
const (
	// MaxBodyBytes bounds a request body; larger ones get 413.
	MaxBodyBytes = 1 << 20
	// MaxLimit bounds the limit parameter of list endpoints.
	MaxLimit = 10000
	// MaxScanWindow bounds how long POST /api/v1/scan may hold a request.
	MaxScanWindow = time.Minute
	// DefaultRejectedLimit is how many rejected messages are listed when
	// no limit is given.
	DefaultRejectedLimit = 100
)
