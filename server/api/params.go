package api

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plumbline/plumbline/checks/report"
)

// query is a request's query string, checked against the parameters its
// endpoint knows.
type query struct {
	v url.Values
}

// parseQuery refuses unknown and repeated parameters: a misspelt filter
// ("faling=true") must not silently return the unfiltered list.
func parseQuery(r *http.Request, known ...string) (query, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return query{}, &httpError{status: http.StatusBadRequest, msg: "malformed query string: " + err.Error()}
	}
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if !slices.Contains(known, k) {
			if len(known) == 0 {
				return query{}, badParam(k, "unknown parameter (this endpoint takes none)")
			}
			return query{}, badParam(k, "unknown parameter (want %s)", strings.Join(known, ", "))
		}
		if n := len(v[k]); n > 1 {
			return query{}, badParam(k, "given %d times, want it once", n)
		}
	}
	return query{v: v}, nil
}

// value returns a parameter's value and whether it was given; given but
// empty ("?host=") is an error, because it would silently widen a listing
// to the whole fleet.
func (q query) value(name string) (string, bool, error) {
	if !q.v.Has(name) {
		return "", false, nil
	}
	s := q.v.Get(name)
	if s == "" {
		return "", false, badParam(name, "is empty; leave the parameter out to not filter")
	}
	return s, true, nil
}

// boolean reads a flag: present without a value ("?failing") means true.
func (q query) boolean(name string) (bool, error) {
	if !q.v.Has(name) {
		return false, nil
	}
	s := q.v.Get(name)
	if s == "" {
		return true, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, badParam(name, "%q is not a boolean (want true or false)", s)
	}
	return b, nil
}

// hostID reads an optional host id, validated so that a malformed one is
// reported rather than matching nothing.
func (q query) hostID(name string) (string, error) {
	s, ok, err := q.value(name)
	if !ok {
		return "", err
	}
	if err := report.ValidHostID(s); err != nil {
		return "", badParam(name, "%v", err)
	}
	return s, nil
}

// group reads an optional agent group.
func (q query) group(name string) (string, error) {
	s, ok, err := q.value(name)
	if !ok {
		return "", err
	}
	if err := report.ValidGroup(s); err != nil {
		return "", badParam(name, "%v", err)
	}
	return s, nil
}

// limit reads a count in 1..MaxLimit; def when absent.
func (q query) limit(name string, def int) (int, error) {
	if !q.v.Has(name) {
		return def, nil
	}
	s := q.v.Get(name)
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, badParam(name, "%q is not a number from 1 to %d", s, MaxLimit)
	}
	return n, nil
}

// id reads an optional non-negative event id; given says it was present
// (after_id=0 means "from the first event", not "not given").
func (q query) id(name string) (n int64, given bool, err error) {
	s, ok, err := q.value(name)
	if !ok {
		return 0, false, err
	}
	n, perr := strconv.ParseInt(s, 10, 64)
	if perr != nil || n < 0 {
		return 0, false, badParam(name, "%q is not a non-negative integer", s)
	}
	return n, true, nil
}

// since reads a point in time: RFC 3339, or a Go duration meaning that
// long before now ("24h").
func (q query) since(name string, now time.Time) (time.Time, error) {
	s, ok, err := q.value(name)
	if !ok {
		return time.Time{}, err
	}
	return parseSince(name, s, now)
}

func parseSince(name, s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return time.Time{}, badParam(name, "%q is neither an RFC 3339 time (2006-01-02T15:04:05Z; encode + as %%2B) nor a duration (24h)", s)
	}
	if d < 0 {
		return time.Time{}, badParam(name, "duration %q is negative; it means that long ago", s)
	}
	return now.Add(-d), nil
}

// pathHostID validates the {name} path segment as a host id.
func pathHostID(r *http.Request, name string) (string, error) {
	id := r.PathValue(name)
	if err := report.ValidHostID(id); err != nil {
		return "", badParam(name, "%v", err)
	}
	return id, nil
}

// maxTextLen bounds free-text fields (reasons, owners): they end up in
// logs and tables, where a megabyte of text helps nobody.
const maxTextLen = 1000

func checkText(field, s string, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return badParam(field, "is required")
	case len(s) > maxTextLen:
		return badParam(field, "is %d bytes long, above the %d-byte limit", len(s), maxTextLen)
	}
	return nil
}

// checkID validates a check id given as a filter or a waiver's subject.
func checkID(field, s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return badParam(field, "is required")
	case len(s) > 256 || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return badParam(field, "%q is not a check id", s)
	}
	return nil
}

func (q query) checkID(name string) (string, error) {
	s, ok, err := q.value(name)
	if !ok {
		return "", err
	}
	if err := checkID(name, s); err != nil {
		return "", err
	}
	return s, nil
}
