// Package ecs asks the Alibaba Cloud ECS instance metadata service who this
// instance is. It speaks both modes of the service: plain GETs, and the
// hardened mode where a session token from PUT /latest/api/token must
// accompany every GET (like AWS IMDSv2).
//
// The agent asks once, at start, on every machine, ECS or not; so the whole
// exchange is bounded by a short timeout, and a machine without the service
// gets ErrUnreachable quickly rather than a long TCP timeout.
package ecs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults for a zero Client.
const (
	DefaultBaseURL = "http://100.100.100.200"
	DefaultTimeout = time.Second
)

// Protocol constants of the metadata service.
const (
	tokenPath      = "/latest/api/token"
	metaPath       = "/latest/meta-data/"
	tokenTTLHeader = "X-aliyun-ecs-metadata-token-ttl-seconds"
	tokenHeader    = "X-aliyun-ecs-metadata-token"
	// tokenTTL is the longest the service grants (6 hours); the token is
	// used for a handful of requests, but asking for less gains nothing.
	tokenTTL = "21600"
	// maxBody caps every read: ids and names are tens of bytes, and a
	// large answer means something other than the metadata service.
	maxBody = 4 << 10
)

// ErrUnreachable is returned (wrapped) when the metadata service does not
// answer at all, as on machines that are not ECS instances.
var ErrUnreachable = errors.New("ECS metadata service not reachable")

// Client asks the metadata service. The zero value is ready to use.
type Client struct {
	// BaseURL is the service's address; default DefaultBaseURL.
	BaseURL string
	// Timeout bounds a whole Identity call; default DefaultTimeout.
	Timeout time.Duration
	// HTTP, when set, is used for the requests (tests). By default each
	// call uses a client that never goes through a proxy (a proxy would
	// answer for itself, not for this instance) and never follows
	// redirects (which would carry the token elsewhere).
	HTTP *http.Client
}

// Metadata is what the service says about this instance.
type Metadata struct {
	InstanceID string
	RegionID   string
	ZoneID     string
	ImageID    string
	Hostname   string
}

// Identity returns the instance's metadata. The instance id is required;
// the other fields are empty when the service does not have them (404).
// Errors wrap ErrUnreachable when the service did not answer in time.
func (c *Client) Identity(ctx context.Context) (Metadata, error) {
	base := strings.TrimRight(c.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	hc := c.HTTP
	if hc == nil {
		hc = newHTTPClient()
		defer hc.CloseIdleConnections()
	}
	s := session{http: hc, base: base, timeout: timeout}
	if err := s.getToken(ctx); err != nil {
		return Metadata{}, err
	}
	var md Metadata
	var err error
	if md.InstanceID, err = s.get(ctx, "instance-id"); err != nil {
		return Metadata{}, err
	}
	if md.InstanceID == "" {
		return Metadata{}, fmt.Errorf("ECS metadata at %s: instance-id: not found (404)", base)
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"region-id", &md.RegionID},
		{"zone-id", &md.ZoneID},
		{"image-id", &md.ImageID},
		{"hostname", &md.Hostname},
	} {
		if *f.dst, err = s.get(ctx, f.name); err != nil {
			return Metadata{}, err
		}
	}
	return md, nil
}

func newHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:       nil,
			DialContext: (&net.Dialer{}).DialContext,
			// One call makes a few requests once per agent start; keeping
			// connections would only leave goroutines behind.
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// session is one Identity call: a token, if the service is hardened.
type session struct {
	http    *http.Client
	base    string
	timeout time.Duration
	token   string
}

// getToken asks for a session token. A service that does not do hardened
// mode answers 403, 404 or 405, and then plain GETs are used.
func (s *session) getToken(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.base+tokenPath, nil)
	if err != nil {
		return fmt.Errorf("ECS metadata token: %w", err)
	}
	req.Header.Set(tokenTTLHeader, tokenTTL)
	status, body, err := s.do(req)
	if err != nil {
		return err
	}
	switch status {
	case http.StatusOK:
		tok, err := text(body)
		if err != nil {
			return fmt.Errorf("ECS metadata at %s: token: %w", s.base, err)
		}
		s.token = tok
		return nil
	case http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed:
		return nil
	}
	return fmt.Errorf("ECS metadata at %s: token: HTTP status %d", s.base, status)
}

// get returns one metadata item, or "" when the service does not have it.
func (s *session) get(ctx context.Context, item string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+metaPath+item, nil)
	if err != nil {
		return "", fmt.Errorf("ECS metadata %s: %w", item, err)
	}
	if s.token != "" {
		req.Header.Set(tokenHeader, s.token)
	}
	status, body, err := s.do(req)
	if err != nil {
		return "", err
	}
	switch status {
	case http.StatusOK:
		v, err := text(body)
		if err != nil {
			return "", fmt.Errorf("ECS metadata at %s: %s: %w", s.base, item, err)
		}
		return v, nil
	case http.StatusNotFound:
		return "", nil
	}
	return "", fmt.Errorf("ECS metadata at %s: %s: HTTP status %d", s.base, item, status)
}

// do sends req and reads at most maxBody+1 bytes of the answer, so that an
// oversized answer is recognised without reading it all.
func (s *session) do(req *http.Request) (int, []byte, error) {
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%w at %s within %s: %v", ErrUnreachable, s.base, s.timeout, unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, fmt.Errorf("%w at %s within %s: reading %s: %v", ErrUnreachable, s.base, s.timeout, req.URL.Path, err)
	}
	return resp.StatusCode, body, nil
}

// unwrapURLError drops *url.Error's "Get \"http://...\":" prefix, which
// repeats what the message already says.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// text validates a metadata answer: one short line of visible ASCII, as
// ids, tokens and host names are. Anything else is not the metadata service
// speaking, and must not become a host id.
func text(body []byte) (string, error) {
	if len(body) > maxBody {
		return "", fmt.Errorf("answer larger than %d bytes", maxBody)
	}
	v := strings.TrimSpace(string(body))
	if v == "" {
		return "", errors.New("empty answer")
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return "", fmt.Errorf("answer is not printable text (byte %#02x at %d)", v[i], i)
		}
	}
	return v, nil
}
