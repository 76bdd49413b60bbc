package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/server/store"
)

// The read-only fleet views. Lists are never null in JSON: an empty fleet
// is [], which clients need not special-case.

func (s *server) hosts(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r, "failing", "stale", "group")
	if err != nil {
		return err
	}
	var f store.HostFilter
	if f.Failing, err = q.boolean("failing"); err != nil {
		return err
	}
	if f.Stale, err = q.boolean("stale"); err != nil {
		return err
	}
	if f.Group, err = q.group("group"); err != nil {
		return err
	}
	hosts, err := s.o.Store.Hosts(r.Context(), f)
	if err != nil {
		return fmt.Errorf("list hosts: %w", err)
	}
	writeJSON(w, http.StatusOK, HostList{Hosts: nonNil(hosts)})
	return nil
}

func (s *server) host(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseQuery(r); err != nil {
		return err
	}
	id, err := pathHostID(r, "id")
	if err != nil {
		return err
	}
	h, err := s.o.Store.Host(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return &httpError{status: http.StatusNotFound, msg: fmt.Sprintf("host %s not found: no report from it has reached this server", id)}
	}
	if err != nil {
		return fmt.Errorf("host %s: %w", id, err)
	}
	if h.Results == nil {
		h.Results = []store.ResultRow{}
	}
	if h.Plugins == nil {
		h.Plugins = []report.PluginRef{}
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

func (s *server) checks(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseQuery(r); err != nil {
		return err
	}
	cs, err := s.o.Store.Checks(r.Context())
	if err != nil {
		return fmt.Errorf("list checks: %w", err)
	}
	for i := range cs {
		cs[i].FailingHosts = nonNil(cs[i].FailingHosts)
	}
	writeJSON(w, http.StatusOK, CheckList{Checks: nonNil(cs)})
	return nil
}

func (s *server) deviations(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r, "host", "check", "include_waived")
	if err != nil {
		return err
	}
	var f store.DeviationFilter
	if f.HostID, err = q.hostID("host"); err != nil {
		return err
	}
	if f.CheckID, err = q.checkID("check"); err != nil {
		return err
	}
	if f.IncludeWaived, err = q.boolean("include_waived"); err != nil {
		return err
	}
	ds, err := s.o.Store.Deviations(r.Context(), f)
	if err != nil {
		return fmt.Errorf("list deviations: %w", err)
	}
	writeJSON(w, http.StatusOK, DeviationList{Deviations: nonNil(ds)})
	return nil
}

func (s *server) drift(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r, "host", "check", "kind", "since", "after_id", "before_id", "limit")
	if err != nil {
		return err
	}
	var f store.DriftFilter
	if f.HostID, err = q.hostID("host"); err != nil {
		return err
	}
	if f.CheckID, err = q.checkID("check"); err != nil {
		return err
	}
	if k, ok, err := q.value("kind"); err != nil {
		return err
	} else if ok {
		if f.Kind, err = report.ParseDriftKind(k); err != nil {
			return badParam("kind", "%v", err)
		}
	}
	if f.Since, err = q.since("since", s.o.Now()); err != nil {
		return err
	}
	if f.AfterID, f.Tail, err = q.id("after_id"); err != nil {
		return err
	}
	if f.BeforeID, _, err = q.id("before_id"); err != nil {
		return err
	}
	if f.Limit, err = q.limit("limit", store.DefaultDriftLimit); err != nil {
		return err
	}
	evs, err := s.o.Store.Drift(r.Context(), f)
	if err != nil {
		return fmt.Errorf("list drift: %w", err)
	}
	writeJSON(w, http.StatusOK, DriftList{Events: nonNil(evs)})
	return nil
}

func (s *server) rejected(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r, "limit")
	if err != nil {
		return err
	}
	limit, err := q.limit("limit", DefaultRejectedLimit)
	if err != nil {
		return err
	}
	rjs, err := s.o.Store.Rejected(r.Context(), limit)
	if err != nil {
		return fmt.Errorf("list rejected messages: %w", err)
	}
	writeJSON(w, http.StatusOK, RejectedList{Rejected: nonNil(rjs)})
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
