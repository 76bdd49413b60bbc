// Package api serves the plumbline server's HTTP JSON API: the fleet's
// hosts, checks, deviations and drift from the store, waivers, on-demand
// scans through NATS, and /healthz. The operator CLI and the web UI are its
// clients.
//
// Every response is a JSON object. Errors are {"error": "...", "field":
// "..."}, where field names the query parameter or body field at fault;
// unknown query parameters are refused rather than ignored, so that a
// misspelt filter cannot silently widen a listing.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/plumbline/plumbline/server/command"
	"github.com/plumbline/plumbline/server/store"
)

// Options configure the API handler.
type Options struct {
	// Store is the fleet state; required.
	Store *store.Store
	// Scans sends scan requests to agents; nil makes the scan endpoints
	// answer 503, saying that the server has no NATS connection.
	Scans *command.Client
	// Health reports whether the server works (NATS connected, ingest
	// running); nil means it does.
	Health func(ctx context.Context) error
	// Metrics, when set, is served at GET /metrics.
	Metrics http.Handler
	// Logger [discard] receives server-side failures.
	Logger *slog.Logger
	// Now [time.Now] is the clock for relative times in requests ("since
	// 24h", a waiver "for 720h").
	Now func() time.Time
}

// New returns the API handler. It panics when o.Store is nil, which is a
// wiring mistake rather than a runtime condition.
func New(o Options) http.Handler {
	if o.Store == nil {
		panic("api: Options.Store is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &server{o: o, log: o.Logger, mux: http.NewServeMux()}
	s.handle("GET /api/v1/hosts", s.hosts)
	s.handle("GET /api/v1/hosts/{id}", s.host)
	s.handle("POST /api/v1/hosts/{id}/scan", s.scanHost)
	s.handle("POST /api/v1/scan", s.scanFleet)
	s.handle("GET /api/v1/checks", s.checks)
	s.handle("GET /api/v1/deviations", s.deviations)
	s.handle("GET /api/v1/drift", s.drift)
	s.handle("GET /api/v1/waivers", s.waivers)
	s.handle("POST /api/v1/waivers", s.waive)
	s.handle("DELETE /api/v1/waivers/{host}/{check}", s.unwaive)
	s.handle("GET /api/v1/rejected", s.rejected)
	s.handle("GET /healthz", s.healthz)
	if o.Metrics != nil {
		s.mux.Handle("GET /metrics", o.Metrics)
	}
	return s
}

type server struct {
	o   Options
	log *slog.Logger
	mux *http.ServeMux
}

// handlerFunc is an endpoint: it writes a success response itself and
// returns an error for everything else, which serveError turns into a JSON
// error response.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *server) handle(pattern string, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.serveError(w, r, err)
		}
	})
}

// ServeHTTP routes through the mux, but answers unknown paths (404) and
// wrong methods (405, with the mux's Allow header) in JSON like every
// other error, instead of the mux's plain text.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, pattern := s.mux.Handler(r); pattern == "" {
		rec := &recorder{header: make(http.Header)}
		h.ServeHTTP(rec, r)
		switch rec.status {
		case http.StatusNotFound:
			writeJSON(w, http.StatusNotFound, Error{Error: fmt.Sprintf("no endpoint %s", r.URL.Path)})
			return
		case http.StatusMethodNotAllowed:
			if allow := rec.header.Get("Allow"); allow != "" {
				w.Header().Set("Allow", allow)
			}
			writeJSON(w, http.StatusMethodNotAllowed, Error{Error: fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path)})
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// recorder captures what the mux's fallback handlers write.
type recorder struct {
	header http.Header
	status int
}

func (rc *recorder) Header() http.Header { return rc.header }
func (rc *recorder) WriteHeader(code int) {
	if rc.status == 0 {
		rc.status = code
	}
}
func (rc *recorder) Write(b []byte) (int, error) {
	rc.WriteHeader(http.StatusOK)
	return len(b), nil
}

// httpError is an error with the status and field to answer it with.
type httpError struct {
	status int
	field  string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// badParam is a 400 naming the parameter (or body field) at fault.
func badParam(field, format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, field: field, msg: field + ": " + fmt.Sprintf(format, args...)}
}

// serveError answers err: its own status for an httpError, 404 for
// store.ErrNotFound, 400 for store.ErrInvalid, 503 when the database
// cannot take writes, and 500 (logged) for anything else.
func (s *server) serveError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	switch {
	case errors.As(err, &he):
		// An offline or silent agent (503, 504) is the fleet's state, not
		// the server's failure.
		if he.status >= 500 && he.status != http.StatusServiceUnavailable && he.status != http.StatusGatewayTimeout {
			s.log.Warn("api request failed", "method", r.Method, "path", r.URL.Path, "status", he.status, "err", he.msg)
		}
		writeJSON(w, he.status, Error{Error: he.msg, Field: he.field})
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusNotFound, Error{Error: err.Error()})
	case errors.Is(err, store.ErrInvalid):
		writeJSON(w, http.StatusBadRequest, Error{Error: err.Error()})
	case errors.Is(err, store.ErrFull), errors.Is(err, store.ErrReadOnly):
		s.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, Error{Error: err.Error()})
	case r.Context().Err() != nil:
		// The client went away; nobody reads this answer and it is not
		// the server's failure.
		writeJSON(w, http.StatusServiceUnavailable, Error{Error: "request canceled"})
	default:
		s.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusInternalServerError, Error{Error: err.Error()})
	}
}

// writeJSON encodes v completely before writing anything, so that an
// encoding failure becomes a 500 rather than a truncated 200.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data, _ = json.Marshal(Error{Error: "encode response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}

// decodeBody reads a JSON object of at most MaxBodyBytes into v, refusing
// unknown fields and trailing data. An empty body is allowed (v keeps its
// zero value) only when optional is set.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &httpError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("request body is larger than %d bytes", MaxBodyBytes)}
		}
		return &httpError{status: http.StatusBadRequest, msg: "read request body: " + err.Error()}
	}
	if len(bytes.TrimSpace(buf.Bytes())) == 0 {
		if optional {
			return nil
		}
		return &httpError{status: http.StatusBadRequest, msg: "request body is empty; want a JSON object"}
	}
	dec := json.NewDecoder(&buf)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return &httpError{status: http.StatusBadRequest, msg: "request body has data after the JSON object"}
	}
	return nil
}

// bodyError names the field a JSON decoding error is about, where it can.
func bodyError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return badParam(te.Field, "want a JSON %s, not %s", te.Type.Kind(), te.Value)
	case errors.As(err, &te):
		return &httpError{status: http.StatusBadRequest, msg: "request body must be a JSON object, not " + te.Value}
	case errors.As(err, &se):
		return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("request body is not valid JSON (offset %d): %v", se.Offset, err)}
	}
	var field string
	if _, err := fmt.Sscanf(err.Error(), "json: unknown field %q", &field); err == nil {
		return badParam(field, "unknown field")
	}
	return &httpError{status: http.StatusBadRequest, msg: "request body: " + err.Error()}
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) error {
	if s.o.Health != nil {
		if err := s.o.Health(r.Context()); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, Health{Status: "unhealthy", Error: err.Error()})
			return nil
		}
	}
	writeJSON(w, http.StatusOK, Health{Status: "ok"})
	return nil
}
