package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/server/api"
	"github.com/plumbline/plumbline/server/api/apitest"
	"github.com/plumbline/plumbline/server/store"
)

// response is one API answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, url, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// decode parses the body into v, failing unless it is one JSON object.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json", ct)
	}
	if !bytes.HasPrefix(bytes.TrimSpace(r.body), []byte("{")) {
		t.Fatalf("body is not a JSON object: %s", r.body)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// wantError checks an error response's status and field.
func (r response) wantError(t *testing.T, status int, field string) api.Error {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	var e api.Error
	r.decode(t, &e)
	if e.Error == "" || e.Field != field {
		t.Fatalf("error body = %+v, want a message and field %q", e, field)
	}
	return e
}

func hostIDs(hs []store.HostSummary) []string {
	var ids []string
	for _, h := range hs {
		ids = append(ids, h.ID)
	}
	return ids
}

func TestReadEndpoints(t *testing.T) {
	t.Parallel()
	f := apitest.NewFleet(t, apitest.Options{})
	tests := []struct {
		path  string
		check func(t *testing.T, r response)
	}{
		{"/api/v1/hosts", wantHosts("db-1", "web-1", "web-2")},
		{"/api/v1/hosts?failing=true", wantHosts("db-1", "web-1")},
		{"/api/v1/hosts?failing", wantHosts("db-1", "web-1")},
		{"/api/v1/hosts?failing=false", wantHosts("db-1", "web-1", "web-2")},
		{"/api/v1/hosts?stale=true", wantHosts("db-1")},
		{"/api/v1/hosts?group=web", wantHosts("web-1", "web-2")},
		{"/api/v1/hosts?group=web&failing=1", wantHosts("web-1")},
		{"/api/v1/hosts?group=nobody", wantHosts()},
		{"/api/v1/hosts/web-1", func(t *testing.T, r response) {
			var h store.HostDetail
			r.decode(t, &h)
			if h.ID != "web-1" || h.Score == nil || *h.Score != 50 || h.OpenDeviations != 1 || len(h.Results) != 3 {
				t.Fatalf("host = %+v", h)
			}
			first := h.Results[0]
			if first.CheckID != "pwd.max_days" || !first.Deviation || len(first.Evidence) != 1 || first.Evidence[0].Actual != "99999" {
				t.Fatalf("first result = %+v, want the open deviation with its evidence", first)
			}
			// Statuses and severities are names on the wire, not numbers.
			if !bytes.Contains(r.body, []byte(`"status":"FAIL","severity":"medium"`)) {
				t.Fatalf("status/severity not marshalled as names: %s", r.body)
			}
		}},
		{"/api/v1/checks", func(t *testing.T, r response) {
			var l api.CheckList
			r.decode(t, &l)
			i := slices.IndexFunc(l.Checks, func(c store.CheckSummary) bool { return c.ID == "pwd.max_days" })
			if len(l.Checks) != 4 || i < 0 || !slices.Equal(l.Checks[i].FailingHosts, []string{"db-1", "web-1"}) {
				t.Fatalf("checks = %+v", l.Checks)
			}
			if !bytes.Contains(r.body, []byte(`"failing_hosts":[]`)) {
				t.Fatalf("a check without failing hosts should list [] not null: %s", r.body)
			}
		}},
		{"/api/v1/deviations", wantDeviations("db-1/sudo.installed", "db-1/pwd.max_days", "web-1/pwd.max_days")},
		{"/api/v1/deviations?host=web-1", wantDeviations("web-1/pwd.max_days")},
		{"/api/v1/deviations?check=sudo.installed", wantDeviations("db-1/sudo.installed")},
		{"/api/v1/deviations?host=web-2", wantDeviations()},
		{"/api/v1/drift", wantDrift(6, "stale", "regressed", "errored", "new_host", "new_host", "new_host")},
		{"/api/v1/drift?host=web-1", wantDrift(5, "regressed", "errored", "new_host")},
		{"/api/v1/drift?kind=regressed", wantDrift(5, "regressed")},
		{"/api/v1/drift?check=luks.cipher", wantDrift(4, "errored")},
		{"/api/v1/drift?limit=2", wantDrift(6, "stale", "regressed")},
		{"/api/v1/drift?since=30m", wantDrift(6, "stale")},
		{"/api/v1/drift?since=2025-03-01T12:05:00Z", wantDrift(6, "stale", "regressed", "errored")},
		{"/api/v1/drift?after_id=4", wantDrift(6, "stale", "regressed")},
		// Tailing from the start gives the oldest events, not the newest.
		{"/api/v1/drift?after_id=0&limit=2", wantDrift(2, "new_host", "new_host")},
		{"/api/v1/drift?before_id=3", wantDrift(2, "new_host", "new_host")},
		{"/api/v1/waivers", func(t *testing.T, r response) {
			if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"waivers":[]}` {
				t.Fatalf("waivers = %d %s", r.status, r.body)
			}
		}},
		{"/healthz", func(t *testing.T, r response) {
			var h api.Health
			r.decode(t, &h)
			if r.status != http.StatusOK || h.Status != "ok" {
				t.Fatalf("healthz = %d %+v", r.status, h)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			r := do(t, http.MethodGet, f.URL+tt.path, "")
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			tt.check(t, r)
		})
	}
}

func wantHosts(ids ...string) func(*testing.T, response) {
	return func(t *testing.T, r response) {
		t.Helper()
		var l api.HostList
		r.decode(t, &l)
		if l.Hosts == nil || !slices.Equal(hostIDs(l.Hosts), ids) {
			t.Fatalf("hosts = %v, want %v (body %s)", hostIDs(l.Hosts), ids, r.body)
		}
	}
}

func wantDeviations(keys ...string) func(*testing.T, response) {
	return func(t *testing.T, r response) {
		t.Helper()
		var l api.DeviationList
		r.decode(t, &l)
		var got []string
		for _, d := range l.Deviations {
			got = append(got, d.HostID+"/"+d.CheckID)
		}
		if l.Deviations == nil || !slices.Equal(got, keys) {
			t.Fatalf("deviations = %v, want %v", got, keys)
		}
	}
}

// wantDrift checks the kinds of the events, newest first, and the id of
// the newest.
func wantDrift(newestID int64, kinds ...report.DriftKind) func(*testing.T, response) {
	return func(t *testing.T, r response) {
		t.Helper()
		var l api.DriftList
		r.decode(t, &l)
		var got []report.DriftKind
		for _, e := range l.Events {
			got = append(got, e.Kind)
		}
		if !slices.Equal(got, kinds) || l.Events[0].ID != newestID {
			t.Fatalf("drift = %v (newest id %d), want %v (newest id %d)", got, l.Events[0].ID, kinds, newestID)
		}
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	f := apitest.NewFleet(t, apitest.Options{})
	tests := []struct {
		method, path, body string
		status             int
		field              string
	}{
		{"GET", "/api/v1/hosts?faling=true", "", 400, "faling"},
		{"GET", "/api/v1/hosts?failing=maybe", "", 400, "failing"},
		{"GET", "/api/v1/hosts?stale=2", "", 400, "stale"},
		{"GET", "/api/v1/hosts?group=a.b", "", 400, "group"},
		{"GET", "/api/v1/hosts?group=web&group=db", "", 400, "group"},
		{"GET", "/api/v1/hosts/nope", "", 404, ""},
		{"GET", "/api/v1/hosts/a.b", "", 400, "id"},
		{"GET", "/api/v1/hosts/web-1?verbose=1", "", 400, "verbose"},
		{"GET", "/api/v1/checks?x=1", "", 400, "x"},
		{"GET", "/api/v1/deviations?host=*", "", 400, "host"},
		{"GET", "/api/v1/deviations?include_waived=yes", "", 400, "include_waived"},
		{"GET", "/api/v1/deviations?check=a%20b", "", 400, "check"},
		{"GET", "/api/v1/drift?kind=broken", "", 400, "kind"},
		{"GET", "/api/v1/drift?since=yesterday", "", 400, "since"},
		{"GET", "/api/v1/drift?since=-24h", "", 400, "since"},
		{"GET", "/api/v1/drift?limit=0", "", 400, "limit"},
		{"GET", "/api/v1/drift?limit=10001", "", 400, "limit"},
		{"GET", "/api/v1/drift?limit=ten", "", 400, "limit"},
		{"GET", "/api/v1/drift?after_id=-1", "", 400, "after_id"},
		{"GET", "/api/v1/drift?before_id=x", "", 400, "before_id"},
		{"GET", "/api/v1/rejected?limit=0", "", 400, "limit"},
		{"GET", "/api/v1/drift?host=%zz", "", 400, ""},
		// Given but empty must not mean "the whole fleet".
		{"GET", "/api/v1/deviations?host=", "", 400, "host"},
		{"GET", "/api/v1/hosts?group=", "", 400, "group"},
		{"GET", "/api/v1/drift?kind=", "", 400, "kind"},
		{"GET", "/api/v1/drift?since=", "", 400, "since"},
		{"GET", "/api/v1/drift?check=", "", 400, "check"},
		{"GET", "/api/v1/drift?after_id=", "", 400, "after_id"},
		{"POST", "/api/v1/scan", `{"all":true}}`, 400, ""},
		{"POST", "/api/v1/scan", `{"all":true}]`, 400, ""},
		{"GET", "/api/v1/nothing", "", 404, ""},
		{"GET", "/nothing", "", 404, ""},
		{"DELETE", "/api/v1/hosts", "", 405, ""},
		{"GET", "/api/v1/hosts/web-1/scan", "", 405, ""},
		{"PUT", "/api/v1/waivers", "{}", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			r := do(t, tt.method, f.URL+tt.path, tt.body)
			r.wantError(t, tt.status, tt.field)
			if tt.status == 405 && r.header.Get("Allow") == "" {
				t.Fatal("405 without an Allow header")
			}
		})
	}
}

func TestRejectedServesStoredMessages(t *testing.T) {
	t.Parallel()
	f := apitest.NewFleet(t, apitest.Options{})
	data := []byte("{not json")
	if err := f.Store.Reject(context.Background(), store.Rejection{Subject: report.ReportSubject("web-1"), Reason: "decode: bad", Data: data}); err != nil {
		t.Fatal(err)
	}
	r := do(t, "GET", f.URL+"/api/v1/rejected?limit=5", "")
	var l api.RejectedList
	r.decode(t, &l)
	if len(l.Rejected) != 1 || !bytes.Equal(l.Rejected[0].Data, data) || l.Rejected[0].Subject != "plumbline.v1.report.web-1" {
		t.Fatalf("rejected = %+v", l.Rejected)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	f := apitest.NewFleet(t, apitest.Options{
		Empty:   true,
		Health:  func(context.Context) error { return errors.New("nats: disconnected") },
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "plumbline_hosts 0\n") }),
	})
	r := do(t, "GET", f.URL+"/healthz", "")
	var h api.Health
	r.decode(t, &h)
	if r.status != http.StatusServiceUnavailable || h.Status != "unhealthy" || h.Error != "nats: disconnected" {
		t.Fatalf("healthz = %d %+v", r.status, h)
	}
	if r := do(t, "GET", f.URL+"/metrics", ""); r.status != 200 || string(r.body) != "plumbline_hosts 0\n" {
		t.Fatalf("metrics = %d %q", r.status, r.body)
	}
	// An empty fleet lists [] rather than null.
	if r := do(t, "GET", f.URL+"/api/v1/hosts", ""); strings.TrimSpace(string(r.body)) != `{"hosts":[]}` {
		t.Fatalf("empty hosts = %s", r.body)
	}
}

func TestWaiverLifecycle(t *testing.T) {
	t.Parallel()
	f := apitest.NewFleet(t, apitest.Options{})
	deviations := func(query string) []string {
		t.Helper()
		var l api.DeviationList
		do(t, "GET", f.URL+"/api/v1/deviations"+query, "").decode(t, &l)
		var out []string
		for _, d := range l.Deviations {
			key := d.HostID + "/" + d.CheckID
			if d.Waiver != nil {
				key += " waived by " + d.Waiver.Owner
			}
			out = append(out, key)
		}
		return out
	}
	want := func(query string, keys ...string) {
		t.Helper()
		if got := deviations(query); !slices.Equal(got, keys) {
			t.Fatalf("deviations%s = %v, want %v", query, got, keys)
		}
	}

	r := do(t, "POST", f.URL+"/api/v1/waivers",
		`{"host_id":"web-1","check_id":"pwd.max_days","owner":"alice","reason":"legacy app, CHG-42","for":"1h"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("waive: %d %s", r.status, r.body)
	}
	var wv store.Waiver
	r.decode(t, &wv)
	if wv.Owner != "alice" || !wv.Expires.Equal(f.Clock.Now().Add(time.Hour)) {
		t.Fatalf("created waiver = %+v", wv)
	}
	want("", "db-1/sudo.installed", "db-1/pwd.max_days")
	want("?include_waived=true", "db-1/sudo.installed", "db-1/pwd.max_days", "web-1/pwd.max_days waived by alice")

	var h store.HostDetail
	do(t, "GET", f.URL+"/api/v1/hosts/web-1", "").decode(t, &h)
	i := slices.IndexFunc(h.Results, func(r store.ResultRow) bool { return r.CheckID == "pwd.max_days" })
	if h.OpenDeviations != 0 || h.Waived != 1 || i < 0 || h.Results[i].Deviation || h.Results[i].Waiver == nil {
		t.Fatalf("waived host = %+v", h)
	}
	var failing api.HostList
	do(t, "GET", f.URL+"/api/v1/hosts?failing=true", "").decode(t, &failing)
	if !slices.Equal(hostIDs(failing.Hosts), []string{"db-1"}) {
		t.Fatalf("failing hosts while web-1 is waived = %v", hostIDs(failing.Hosts))
	}

	// A waiver for every host.
	r = do(t, "POST", f.URL+"/api/v1/waivers",
		`{"host_id":"*","check_id":"sudo.installed","owner":"bob","reason":"containers","expires":"2025-03-02T00:00:00Z"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("waive *: %d %s", r.status, r.body)
	}
	want("", "db-1/pwd.max_days")
	var wl api.WaiverList
	do(t, "GET", f.URL+"/api/v1/waivers", "").decode(t, &wl)
	if len(wl.Waivers) != 2 {
		t.Fatalf("waivers = %+v", wl.Waivers)
	}

	// Expiry re-opens the deviation, which still shows the lapsed waiver;
	// the fleet-wide waiver, which runs until midnight, still holds.
	f.Clock.Advance(2 * time.Hour)
	want("", "db-1/pwd.max_days", "web-1/pwd.max_days waived by alice")
	var dl api.DeviationList
	do(t, "GET", f.URL+"/api/v1/deviations?host=web-1", "").decode(t, &dl)
	if len(dl.Deviations) != 1 || dl.Deviations[0].Waiver == nil || !dl.Deviations[0].Waiver.Expires.Before(f.Clock.Now()) {
		t.Fatalf("re-opened deviation = %+v", dl.Deviations)
	}

	// Removing a waiver re-opens at once; removing it twice is a 404.
	r = do(t, "DELETE", f.URL+"/api/v1/waivers/*/sudo.installed", "")
	var u api.Unwaived
	r.decode(t, &u)
	if r.status != http.StatusOK || u != (api.Unwaived{HostID: "*", CheckID: "sudo.installed", Removed: true}) {
		t.Fatalf("unwaive = %d %+v", r.status, u)
	}
	want("", "db-1/sudo.installed", "db-1/pwd.max_days", "web-1/pwd.max_days waived by alice")
	do(t, "DELETE", f.URL+"/api/v1/waivers/*/sudo.installed", "").wantError(t, http.StatusNotFound, "")
	do(t, "DELETE", f.URL+"/api/v1/waivers/a.b/sudo.installed", "").wantError(t, http.StatusBadRequest, "host")
	if r := do(t, "DELETE", f.URL+"/api/v1/waivers/web-1/pwd.max_days", ""); r.status != http.StatusOK {
		t.Fatalf("unwaive expired waiver: %d %s", r.status, r.body)
	}
	do(t, "GET", f.URL+"/api/v1/waivers", "").decode(t, &wl)
	if len(wl.Waivers) != 0 {
		t.Fatalf("waivers after removal = %+v", wl.Waivers)
	}
}

func TestWaiverValidation(t *testing.T) {
	t.Parallel()
	f := apitest.NewFleet(t, apitest.Options{})
	const ok = `"host_id":"web-1","check_id":"pwd.max_days","owner":"alice","reason":"r"`
	tests := []struct {
		name, body string
		status     int
		field      string
	}{
		{"no end", `{` + ok + `}`, 400, "expires"},
		{"both ends", `{` + ok + `,"for":"1h","expires":"2030-01-01T00:00:00Z"}`, 400, "for"},
		{"past expiry", `{` + ok + `,"expires":"2025-01-01T00:00:00Z"}`, 400, "expires"},
		{"bad expiry", `{` + ok + `,"expires":"tomorrow"}`, 400, "expires"},
		{"bad duration", `{` + ok + `,"for":"a month"}`, 400, "for"},
		{"negative duration", `{` + ok + `,"for":"-1h"}`, 400, "for"},
		{"far-future expiry", `{` + ok + `,"expires":"9999-01-01T00:00:00Z"}`, 400, "expires"},
		{"endless duration", `{` + ok + `,"for":"1000000h"}`, 400, "for"},
		{"no owner", `{"host_id":"web-1","check_id":"pwd.max_days","reason":"r","for":"1h"}`, 400, "owner"},
		{"blank reason", `{"host_id":"web-1","check_id":"pwd.max_days","owner":"a","reason":"  ","for":"1h"}`, 400, "reason"},
		{"no check", `{"host_id":"web-1","owner":"a","reason":"r","for":"1h"}`, 400, "check_id"},
		{"no host", `{"check_id":"pwd.max_days","owner":"a","reason":"r","for":"1h"}`, 400, "host_id"},
		{"bad host", `{"host_id":"web.1","check_id":"pwd.max_days","owner":"a","reason":"r","for":"1h"}`, 400, "host_id"},
		{"unknown host", `{"host_id":"web-9","check_id":"pwd.max_days","owner":"a","reason":"r","for":"1h"}`, 404, "host_id"},
		{"unknown field", `{` + ok + `,"for":"1h","until":"x"}`, 400, "until"},
		{"wrong type", `{"host_id":"web-1","check_id":"pwd.max_days","owner":7,"reason":"r","for":"1h"}`, 400, "owner"},
		{"not JSON", `host=web-1`, 400, ""},
		{"array", `[]`, 400, ""},
		{"trailing data", `{` + ok + `,"for":"1h"} {}`, 400, ""},
		{"empty", ``, 400, ""},
		{"too large", `{` + ok + `,"for":"1h","reason":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}`, 413, ""},
		{"long reason", `{"host_id":"web-1","check_id":"pwd.max_days","owner":"a","for":"1h","reason":"` + strings.Repeat("x", 2000) + `"}`, 400, "reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			do(t, "POST", f.URL+"/api/v1/waivers", tt.body).wantError(t, tt.status, tt.field)
		})
	}
	var wl api.WaiverList
	do(t, "GET", f.URL+"/api/v1/waivers", "").decode(t, &wl)
	if len(wl.Waivers) != 0 {
		t.Fatalf("a refused request stored a waiver: %+v", wl.Waivers)
	}
}

func TestScanEndpoints(t *testing.T) {
	t.Parallel()
	web1 := &apitest.Agent{HostID: "web-1", Group: "web"}
	db1 := &apitest.Agent{HostID: "db-1", Group: "db"}
	refusing := &apitest.Agent{HostID: "new-host", Group: "web", Refuse: "bad request: eof"}
	// web-2 has no agent connected.
	f := apitest.NewFleet(t, apitest.Options{Agents: []*apitest.Agent{web1, db1, refusing}})

	t.Run("host", func(t *testing.T) {
		r := do(t, "POST", f.URL+"/api/v1/hosts/web-1/scan", `{"reason":"ticket 9"}`)
		var rep report.ScanReply
		r.decode(t, &rep)
		if r.status != 200 || rep != (report.ScanReply{HostID: "web-1", Accepted: true}) {
			t.Fatalf("scan web-1 = %d %+v", r.status, rep)
		}
		if rs := web1.Reasons(); len(rs) == 0 || rs[len(rs)-1] != "ticket 9" {
			t.Fatalf("agent saw reasons %q", rs)
		}
		// Without a body the agent still learns where the request came from.
		if r := do(t, "POST", f.URL+"/api/v1/hosts/db-1/scan", ""); r.status != 200 {
			t.Fatalf("scan db-1 without body = %d %s", r.status, r.body)
		}
		if rs := db1.Reasons(); len(rs) == 0 || !strings.HasPrefix(rs[len(rs)-1], "API request from 127.0.0.1:") {
			t.Fatalf("default reason = %q", rs)
		}
	})
	t.Run("refusing agent", func(t *testing.T) {
		r := do(t, "POST", f.URL+"/api/v1/hosts/new-host/scan", "{}")
		var rep report.ScanReply
		r.decode(t, &rep)
		if r.status != 200 || rep.Accepted || rep.Reason != "bad request: eof" {
			t.Fatalf("scan refusing = %d %+v", r.status, rep)
		}
	})
	t.Run("unknown host", func(t *testing.T) {
		// A typo is a 404, not an outage a script would retry forever.
		do(t, "POST", f.URL+"/api/v1/hosts/web-9/scan", "").wantError(t, http.StatusNotFound, "id")
	})
	t.Run("agent not connected", func(t *testing.T) {
		e := do(t, "POST", f.URL+"/api/v1/hosts/web-2/scan", "").wantError(t, http.StatusServiceUnavailable, "")
		if !strings.Contains(e.Error, "not connected") {
			t.Fatalf("error = %q, want it to say the agent is not connected", e.Error)
		}
	})
	t.Run("fleet", func(t *testing.T) {
		r := do(t, "POST", f.URL+"/api/v1/scan", `{"all":true,"window":"300ms","reason":"audit"}`)
		var res api.FleetScanResponse
		r.decode(t, &res)
		var ids []string
		for _, rep := range res.Replies {
			ids = append(ids, rep.HostID)
		}
		if r.status != 200 || !slices.Equal(ids, []string{"db-1", "new-host", "web-1"}) || !slices.Equal(res.Missing, []string{"web-2"}) {
			t.Fatalf("scan all = %d %s", r.status, r.body)
		}
		if res.Requested != (api.FleetScanRequest{All: true, Reason: "audit", Window: "300ms"}) {
			t.Fatalf("requested = %+v", res.Requested)
		}
	})
	t.Run("group", func(t *testing.T) {
		r := do(t, "POST", f.URL+"/api/v1/scan", `{"group":"web","window":"300ms"}`)
		var res api.FleetScanResponse
		r.decode(t, &res)
		var ids []string
		for _, rep := range res.Replies {
			ids = append(ids, rep.HostID)
		}
		if !slices.Equal(ids, []string{"new-host", "web-1"}) || !slices.Equal(res.Missing, []string{"web-2"}) || res.Requested.Window != "300ms" {
			t.Fatalf("scan group web = %s", r.body)
		}
	})
	t.Run("default window", func(t *testing.T) {
		r := do(t, "POST", f.URL+"/api/v1/scan", `{"group":"db"}`)
		var res api.FleetScanResponse
		r.decode(t, &res)
		if res.Requested.Window != "2s" || len(res.Replies) != 1 || len(res.Missing) != 0 {
			t.Fatalf("scan group db = %s", r.body)
		}
	})
	bad := []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"no target", "/api/v1/scan", `{}`, 400, "all"},
		{"two targets", "/api/v1/scan", `{"all":true,"group":"web"}`, 400, "group"},
		{"bad group", "/api/v1/scan", `{"group":"web.*"}`, 400, "group"},
		{"long window", "/api/v1/scan", `{"all":true,"window":"2m"}`, 400, "window"},
		{"zero window", "/api/v1/scan", `{"all":true,"window":"0s"}`, 400, "window"},
		{"bad window", "/api/v1/scan", `{"all":true,"window":"soon"}`, 400, "window"},
		{"window as number", "/api/v1/scan", `{"all":true,"window":2}`, 400, "window"},
		{"no body", "/api/v1/scan", ``, 400, ""},
		{"host unknown field", "/api/v1/hosts/web-1/scan", `{"why":"x"}`, 400, "why"},
		{"host bad id", "/api/v1/hosts/a.b/scan", ``, 400, "id"},
		{"host long reason", "/api/v1/hosts/web-1/scan", `{"reason":"` + strings.Repeat("r", 1001) + `"}`, 400, "reason"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			do(t, "POST", f.URL+tt.path, tt.body).wantError(t, tt.status, tt.field)
		})
	}
}

func TestScanWithoutNATS(t *testing.T) {
	t.Parallel()
	f := apitest.NewFleet(t, apitest.Options{})
	for _, tt := range []struct{ path, body string }{
		{"/api/v1/hosts/web-1/scan", ""},
		{"/api/v1/scan", `{"all":true}`},
	} {
		e := do(t, "POST", f.URL+tt.path, tt.body).wantError(t, http.StatusServiceUnavailable, "")
		if !strings.Contains(e.Error, "NATS") {
			t.Fatalf("%s: error %q does not say why", tt.path, e.Error)
		}
	}
}

func TestNewRequiresStore(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("New without a store did not panic")
		}
	}()
	api.New(api.Options{})
}
