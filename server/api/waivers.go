package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/server/store"
)

func (s *server) waivers(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseQuery(r); err != nil {
		return err
	}
	ws, err := s.o.Store.Waivers(r.Context())
	if err != nil {
		return fmt.Errorf("list waivers: %w", err)
	}
	writeJSON(w, http.StatusOK, WaiverList{Waivers: nonNil(ws)})
	return nil
}

// waive creates or replaces a waiver. Every field is checked here, before
// the store sees it, so that the error names the field to fix.
func (s *server) waive(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseQuery(r); err != nil {
		return err
	}
	var req WaiverRequest
	if err := decodeBody(w, r, &req, false); err != nil {
		return err
	}
	now := s.o.Now()
	wv, err := req.waiver(now)
	if err != nil {
		return err
	}
	if err := s.o.Store.Waive(r.Context(), wv); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return &httpError{status: http.StatusNotFound, field: "host_id",
				msg: fmt.Sprintf("host %s has never reported; a waiver for it would hide nothing (use \"*\" for every host)", wv.HostID)}
		}
		return fmt.Errorf("waive %s on %s: %w", wv.CheckID, wv.HostID, err)
	}
	writeJSON(w, http.StatusCreated, wv)
	return nil
}

// waiver validates the request and resolves its expiry against now.
func (req WaiverRequest) waiver(now time.Time) (store.Waiver, error) {
	if req.HostID != store.AllHosts {
		if req.HostID == "" {
			return store.Waiver{}, badParam("host_id", "is required (a host id, or \"*\" for every host)")
		}
		if err := report.ValidHostID(req.HostID); err != nil {
			return store.Waiver{}, badParam("host_id", "%v (or \"*\" for every host)", err)
		}
	}
	if err := checkID("check_id", req.CheckID); err != nil {
		return store.Waiver{}, err
	}
	if err := checkText("owner", req.Owner, true); err != nil {
		return store.Waiver{}, err
	}
	if err := checkText("reason", req.Reason, true); err != nil {
		return store.Waiver{}, err
	}
	var expires time.Time
	switch {
	case req.Expires != "" && req.For != "":
		return store.Waiver{}, badParam("for", "give either expires or for, not both")
	case req.Expires != "":
		t, err := time.Parse(time.RFC3339Nano, req.Expires)
		if err != nil {
			return store.Waiver{}, badParam("expires", "%q is not an RFC 3339 time (2006-01-02T15:04:05Z)", req.Expires)
		}
		if !t.After(now) {
			return store.Waiver{}, badParam("expires", "%s is not in the future", req.Expires)
		}
		if t.After(now.AddDate(10, 0, 0)) {
			return store.Waiver{}, badParam("expires", "%s is more than 10 years away; a waiver must end", req.Expires)
		}
		expires = t
	case req.For != "":
		d, err := time.ParseDuration(req.For)
		if err != nil {
			return store.Waiver{}, badParam("for", "%q is not a duration (720h)", req.For)
		}
		if d <= 0 {
			return store.Waiver{}, badParam("for", "%s is not a positive duration", req.For)
		}
		if d > 10*365*24*time.Hour {
			return store.Waiver{}, badParam("for", "%s is more than 10 years; a waiver must end", req.For)
		}
		expires = now.Add(d)
	default:
		// A waiver without an end is a deviation forgotten; make the
		// operator pick one.
		return store.Waiver{}, badParam("expires", "a waiver needs an end: give expires (RFC 3339) or for (a duration)")
	}
	return store.Waiver{
		HostID: req.HostID, CheckID: req.CheckID,
		Owner: strings.TrimSpace(req.Owner), Reason: strings.TrimSpace(req.Reason),
		Expires: expires.UTC(), Created: now.UTC(),
	}, nil
}

func (s *server) unwaive(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseQuery(r); err != nil {
		return err
	}
	host, check := r.PathValue("host"), r.PathValue("check")
	if host != store.AllHosts {
		if err := report.ValidHostID(host); err != nil {
			return badParam("host", "%v (or \"*\" for every host)", err)
		}
	}
	if err := checkID("check", check); err != nil {
		return err
	}
	if err := s.o.Store.Unwaive(r.Context(), host, check); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return &httpError{status: http.StatusNotFound, msg: fmt.Sprintf("no waiver for check %s on host %s", check, host)}
		}
		return fmt.Errorf("unwaive %s on %s: %w", check, host, err)
	}
	writeJSON(w, http.StatusOK, Unwaived{HostID: host, CheckID: check, Removed: true})
	return nil
}
