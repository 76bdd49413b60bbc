package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/plumbline/plumbline/server/api"
)

// DefaultServer is the API address used when neither --server nor
// PLUMBLINE_SERVER says otherwise: where "plumbline server" listens by
// default.
const DefaultServer = "http://127.0.0.1:8080"

// Client calls the plumbline server's HTTP API.
type Client struct {
	// BaseURL is the server's URL without a trailing slash.
	BaseURL string
	// HTTP [http.DefaultClient] sends the requests; deadlines come from
	// the context of each call.
	HTTP *http.Client
}

// NewClient checks server (an URL, or host:port meaning http://host:port)
// and returns a client for it.
func NewClient(server string, hc *http.Client) (*Client, error) {
	s := strings.TrimSpace(server)
	if s == "" {
		return nil, errors.New("server URL is empty")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("server URL %q: %w", server, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("server URL %q: want http(s)://host[:port][/path]", server)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{BaseURL: strings.TrimRight(u.String(), "/"), HTTP: hc}, nil
}

// APIError is an error answer of the API.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Message is the API's error text.
	Message string
	// Field is the query parameter or body field at fault, if any.
	Field string
}

// Error returns the API's message.
func (e *APIError) Error() string { return e.Message }

// UnreachableError means no HTTP answer came from the server at all
// (refused, timed out, DNS failure), as opposed to an error answer.
type UnreachableError struct {
	// URL is the server's base URL.
	URL string
	// Err is the transport's error (connection refused, timeout).
	Err error
}

// Error names the server and why it could not be reached.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the plumbline server at %s: %v", e.URL, e.Err)
}

// Unwrap returns the transport error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// Do sends a request with in (if not nil) as its JSON body, decodes a
// success answer into out (if not nil) and returns the raw answer, which
// --json prints. An error answer is an *APIError; no answer at all is an
// *UnreachableError.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, in, out any) ([]byte, error) {
	target := c.BaseURL + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode request to %s: %w", path, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, target, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: %w", method, target, ctx.Err())
		}
		return nil, &UnreachableError{URL: c.BaseURL, Err: unwrapURLError(err)}
	}
	defer res.Body.Close()
	// Bounded, so that pointing --server at the wrong thing cannot
	// exhaust memory.
	data, err := io.ReadAll(io.LimitReader(res.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, target, err)
	}
	if ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); ct != "application/json" {
		return nil, fmt.Errorf("%s %s: answer is %s %q, not JSON: is %s a plumbline server?",
			method, target, res.Status, res.Header.Get("Content-Type"), c.BaseURL)
	}
	if res.StatusCode >= 400 {
		var e api.Error
		if err := json.Unmarshal(data, &e); err != nil || e.Error == "" {
			return nil, &APIError{Status: res.StatusCode, Message: fmt.Sprintf("%s %s: %s", method, path, res.Status)}
		}
		return nil, &APIError{Status: res.StatusCode, Message: e.Error, Field: e.Field}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("%s %s: decode answer: %w", method, target, err)
		}
	}
	return data, nil
}

// unwrapURLError drops url.Error's repetition of method and URL, which the
// message around it already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
