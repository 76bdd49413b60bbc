package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/server/command"
	"github.com/plumbline/plumbline/server/store"
)

// errNoScans answers scan requests on a server without a NATS connection
// for commands.
var errNoScans = &httpError{status: http.StatusServiceUnavailable,
	msg: "on-demand scans are unavailable: this server has no NATS connection for commands"}

func (s *server) scanHost(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseQuery(r); err != nil {
		return err
	}
	id, err := pathHostID(r, "id")
	if err != nil {
		return err
	}
	var req report.ScanRequest
	if err := decodeBody(w, r, &req, true); err != nil {
		return err
	}
	if err := checkText("reason", req.Reason, false); err != nil {
		return err
	}
	if s.o.Scans == nil {
		return errNoScans
	}
	rep, err := s.o.Scans.ScanHost(r.Context(), id, s.reason(r, req.Reason))
	if err != nil {
		// No agent answers and the host never reported: most likely a
		// typo, which a retrying script must not take for an outage.
		if errors.Is(err, command.ErrNotConnected) {
			if _, herr := s.o.Store.Host(r.Context(), id); errors.Is(herr, store.ErrNotFound) {
				return &httpError{status: http.StatusNotFound, field: "id",
					msg: fmt.Sprintf("no host %q has reported, and no agent answers for it", id)}
			}
		}
		return scanError(r, err)
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *server) scanFleet(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseQuery(r); err != nil {
		return err
	}
	var req FleetScanRequest
	if err := decodeBody(w, r, &req, false); err != nil {
		return err
	}
	switch {
	case req.All && req.Group != "":
		return badParam("group", "give either all or group, not both")
	case !req.All && req.Group == "":
		return badParam("all", "say which agents: {\"all\": true} or {\"group\": \"name\"}")
	case req.Group != "":
		if err := report.ValidGroup(req.Group); err != nil {
			return badParam("group", "%v", err)
		}
	}
	if err := checkText("reason", req.Reason, false); err != nil {
		return err
	}
	window := command.DefaultWindow
	if req.Window != "" {
		d, err := time.ParseDuration(req.Window)
		if err != nil {
			return badParam("window", "%q is not a duration (2s)", req.Window)
		}
		if d <= 0 || d > MaxScanWindow {
			return badParam("window", "%s is outside (0, %s]", req.Window, MaxScanWindow)
		}
		window = d
	}
	if s.o.Scans == nil {
		return errNoScans
	}
	req.Reason = s.reason(r, req.Reason)
	req.Window = window.String()
	replies, err := s.o.Scans.ScanAll(r.Context(), req.Reason, req.Group, window)
	if err != nil {
		return scanError(r, err)
	}
	known, err := s.o.Store.Hosts(r.Context(), store.HostFilter{Group: req.Group})
	if err != nil {
		return fmt.Errorf("list hosts to find silent agents: %w", err)
	}
	replied := make(map[string]bool, len(replies))
	for _, rep := range replies {
		replied[rep.HostID] = true
	}
	missing := []string{}
	for _, h := range known {
		if !replied[h.ID] {
			missing = append(missing, h.ID)
		}
	}
	writeJSON(w, http.StatusOK, FleetScanResponse{Requested: req, Replies: nonNil(replies), Missing: missing})
	return nil
}

// reason is what the agent logs as the cause of the scan; without one
// from the operator it at least says where the request came from.
func (s *server) reason(r *http.Request, given string) string {
	if given != "" {
		return given
	}
	return "API request from " + r.RemoteAddr
}

// scanError maps command errors: 503 when the agent (or the server) is
// not connected to NATS, 504 when the agent did not answer, 502 for
// anything else NATS or the agent got wrong.
func scanError(r *http.Request, err error) error {
	switch {
	case r.Context().Err() != nil:
		return err
	case errors.Is(err, command.ErrNotConnected), errors.Is(err, command.ErrDisconnected):
		return &httpError{status: http.StatusServiceUnavailable, msg: err.Error()}
	case errors.Is(err, command.ErrNoReply):
		return &httpError{status: http.StatusGatewayTimeout, msg: err.Error()}
	}
	return &httpError{status: http.StatusBadGateway, msg: err.Error()}
}
