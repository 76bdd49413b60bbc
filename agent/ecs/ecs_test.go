package ecs

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeMetadata speaks the ECS metadata protocol on loopback.
type fakeMetadata struct {
	// hardened: PUT /latest/api/token grants a token and every GET needs it.
	hardened bool
	// tokenStatus answers the PUT when not hardened (0 means 404).
	tokenStatus int
	// requireToken makes GETs demand a token even when the PUT did not
	// grant one: a misbehaving service.
	requireToken bool
	// items are the meta-data answers; a missing item is 404.
	items map[string]string
	// status overrides the status of an item.
	status map[string]int
	// redirect answers every GET with a redirect to another server.
	redirect string

	mu       sync.Mutex
	requests []string // "METHOD path token"
}

const testToken = "AQAEAF-test-token=="

func (f *fakeMetadata) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path+" "+r.Header.Get(tokenHeader))
	f.mu.Unlock()
	switch {
	case r.URL.Path == tokenPath && r.Method == http.MethodPut:
		if !f.hardened {
			st := f.tokenStatus
			if st == 0 {
				st = http.StatusNotFound
			}
			w.WriteHeader(st)
			return
		}
		if r.Header.Get(tokenTTLHeader) != "21600" {
			http.Error(w, "ttl header missing", http.StatusBadRequest)
			return
		}
		w.Write([]byte(testToken))
	case strings.HasPrefix(r.URL.Path, metaPath) && r.Method == http.MethodGet:
		if (f.hardened || f.requireToken) && r.Header.Get(tokenHeader) != testToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if f.redirect != "" {
			http.Redirect(w, r, f.redirect+r.URL.Path, http.StatusFound)
			return
		}
		item := strings.TrimPrefix(r.URL.Path, metaPath)
		if st, ok := f.status[item]; ok {
			w.WriteHeader(st)
			return
		}
		v, ok := f.items[item]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(v))
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeMetadata) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func instanceItems() map[string]string {
	return map[string]string{
		"instance-id": "i-bp1abcdefghijk012345",
		"region-id":   "cn-hangzhou",
		"zone-id":     "cn-hangzhou-i",
		"image-id":    "aliyun_3_x64_20G_alibase_20240528.vhd",
		"hostname":    "iZbp1abcdefghijk012345Z\n",
	}
}

var wantFull = Metadata{
	InstanceID: "i-bp1abcdefghijk012345",
	RegionID:   "cn-hangzhou",
	ZoneID:     "cn-hangzhou-i",
	ImageID:    "aliyun_3_x64_20G_alibase_20240528.vhd",
	Hostname:   "iZbp1abcdefghijk012345Z",
}

func TestIdentity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fake    *fakeMetadata
		want    Metadata
		wantErr string
		// tokenOnGets: every GET carried the token.
		tokenOnGets bool
	}{
		{name: "plain mode, token endpoint 404", fake: &fakeMetadata{items: instanceItems()}, want: wantFull},
		{name: "plain mode, token endpoint 403", fake: &fakeMetadata{tokenStatus: 403, items: instanceItems()}, want: wantFull},
		{name: "plain mode, token endpoint 405", fake: &fakeMetadata{tokenStatus: 405, items: instanceItems()}, want: wantFull},
		{name: "hardened mode", fake: &fakeMetadata{hardened: true, items: instanceItems()}, want: wantFull, tokenOnGets: true},
		{
			name: "optional items missing",
			fake: &fakeMetadata{items: map[string]string{"instance-id": "i-abc", "region-id": "cn-beijing"}},
			want: Metadata{InstanceID: "i-abc", RegionID: "cn-beijing"},
		},
		{
			name:    "token endpoint failing otherwise is an error",
			fake:    &fakeMetadata{tokenStatus: 500, items: instanceItems()},
			wantErr: "token: HTTP status 500",
		},
		{
			name:    "GET without the token is refused",
			fake:    &fakeMetadata{requireToken: true, items: instanceItems()},
			wantErr: "instance-id: HTTP status 401",
		},
		{
			name:    "instance-id not found",
			fake:    &fakeMetadata{items: map[string]string{"region-id": "cn-hangzhou"}},
			wantErr: "instance-id: not found (404)",
		},
		{
			name:    "instance-id empty",
			fake:    &fakeMetadata{items: map[string]string{"instance-id": " \n"}},
			wantErr: "instance-id: empty answer",
		},
		{
			name:    "instance-id garbage",
			fake:    &fakeMetadata{items: map[string]string{"instance-id": "\x00\x01PNG\x89"}},
			wantErr: "instance-id: answer is not printable text (byte 0x00 at 0)",
		},
		{
			name:    "instance-id with a space inside",
			fake:    &fakeMetadata{items: map[string]string{"instance-id": "<html> hello"}},
			wantErr: "instance-id: answer is not printable text (byte 0x20 at 6)",
		},
		{
			name:    "instance-id oversized",
			fake:    &fakeMetadata{items: map[string]string{"instance-id": strings.Repeat("i", 4097)}},
			wantErr: "instance-id: answer larger than 4096 bytes",
		},
		{
			name: "instance-id at the size cap",
			fake: &fakeMetadata{items: map[string]string{"instance-id": strings.Repeat("i", 4096)}},
			want: Metadata{InstanceID: strings.Repeat("i", 4096)},
		},
		{
			name:    "optional item failing is an error",
			fake:    &fakeMetadata{items: instanceItems(), status: map[string]int{"zone-id": 500}},
			wantErr: "zone-id: HTTP status 500",
		},
		{
			name:    "optional item garbage is an error",
			fake:    &fakeMetadata{items: map[string]string{"instance-id": "i-abc", "hostname": "a\tb"}},
			wantErr: "hostname: answer is not printable text",
		},
		{
			name:    "redirects are not followed",
			fake:    &fakeMetadata{hardened: true, items: instanceItems(), redirect: "http://127.0.0.1:1"},
			wantErr: "instance-id: HTTP status 302",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tt.fake)
			defer srv.Close()
			c := &Client{BaseURL: srv.URL + "/", Timeout: 5 * time.Second}
			got, err := c.Identity(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if errors.Is(err, ErrUnreachable) {
					t.Errorf("a service that answered is reported unreachable: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Identity = %+v, want %+v", got, tt.want)
			}
			reqs := tt.fake.log()
			if !strings.HasPrefix(reqs[0], "PUT "+tokenPath) {
				t.Errorf("first request %q, want the token PUT", reqs[0])
			}
			for _, r := range reqs[1:] {
				if has := strings.HasSuffix(r, " "+testToken); has != tt.tokenOnGets {
					t.Errorf("request %q: token sent %v, want %v", r, has, tt.tokenOnGets)
				}
			}
		})
	}
}

// TestIdentityHangingService is what a non-ECS machine whose packets to the
// metadata address vanish looks like: the call must give up within its
// timeout, say why, and leave nothing running. Not parallel, so that the
// goroutine count is this test's alone.
func TestIdentityHangingService(t *testing.T) {
	before := runtime.NumGoroutine()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))

	c := &Client{BaseURL: srv.URL} // default timeout: 1s
	start := time.Now()
	_, err := c.Identity(context.Background())
	elapsed := time.Since(start)
	close(release)
	srv.Close()

	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "not reachable") || !strings.Contains(err.Error(), "within 1s") {
		t.Errorf("error %v, want ErrUnreachable within 1s", err)
	}
	if elapsed < 900*time.Millisecond || elapsed > 2500*time.Millisecond {
		t.Errorf("gave up after %v, want about the 1s timeout", elapsed)
	}
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines left running (%d before):\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestIdentityNothingListening(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := &Client{BaseURL: "http://" + addr, Timeout: 5 * time.Second}
	start := time.Now()
	_, err = c.Identity(context.Background())
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %v, want ErrUnreachable: connection refused", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("a refused connection took %v", time.Since(start))
	}
}

func TestIdentityCancelled(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&fakeMetadata{items: instanceItems()})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&Client{BaseURL: srv.URL}).Identity(ctx)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("error %v, want a cancelled call", err)
	}
}

func TestDefaultHTTPClientBypassesProxies(t *testing.T) {
	t.Parallel()
	hc := newHTTPClient()
	tr := hc.Transport.(*http.Transport)
	if tr.Proxy != nil {
		t.Error("the metadata client would use HTTP_PROXY: a proxy would answer for itself, not for this instance")
	}
	if hc.CheckRedirect == nil {
		t.Error("the metadata client follows redirects, carrying the token elsewhere")
	}
}
