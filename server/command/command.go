// Package command sends on-demand scan requests to agents over NATS: to one
// host by request/reply, or to the whole fleet or one group by
// scatter-gather. The scans themselves run after the agents reply; their
// reports arrive later through the report stream like any other.
package command

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/plumbline/plumbline/checks/report"
)

// Defaults for the zero values of Client.Timeout and ScanAll's window.
const (
	// DefaultTimeout is how long ScanHost waits for the agent's reply. An
	// agent replies before it scans, so a healthy one answers in
	// milliseconds; seconds leave room for a loaded host.
	DefaultTimeout = 5 * time.Second
	// DefaultWindow is how long ScanAll collects replies.
	DefaultWindow = 2 * time.Second
)

// ErrNotConnected means no agent is subscribed for the host: NATS answered
// the request with "no responders" at once.
var ErrNotConnected = errors.New("agent is not connected")

// ErrNoReply means an agent is subscribed but did not answer in time.
var ErrNoReply = errors.New("agent did not reply")

// ErrDisconnected means the server's own NATS connection is down, so no
// agent can be asked; without this check a request made while the client
// reconnects would wait out the timeout and blame the agent.
var ErrDisconnected = errors.New("server is not connected to NATS")

// Client asks agents to scan now. It is safe for concurrent use.
type Client struct {
	// Conn is the server's NATS connection.
	Conn *nats.Conn
	// Timeout bounds ScanHost's wait for a reply [DefaultTimeout]; an
	// earlier deadline on the context wins.
	Timeout time.Duration
}

// ScanHost asks the agent of hostID to scan now and returns its reply. A
// reply with Accepted false (the agent refused) is not an error; the reply
// says why. The error wraps ErrNotConnected when no agent listens for the
// host, ErrNoReply when it did not answer within the timeout, and
// ErrDisconnected when the server itself is not connected to NATS.
func (c *Client) ScanHost(ctx context.Context, hostID, reason string) (report.ScanReply, error) {
	if err := report.ValidHostID(hostID); err != nil {
		return report.ScanReply{}, fmt.Errorf("scan host: %w", err)
	}
	if c.Conn == nil || !c.Conn.IsConnected() {
		return report.ScanReply{}, fmt.Errorf("scan host %s: %w", hostID, ErrDisconnected)
	}
	data, err := json.Marshal(report.ScanRequest{Reason: reason})
	if err != nil {
		return report.ScanReply{}, fmt.Errorf("scan host %s: encode request: %w", hostID, err)
	}
	timeout := cmp.Or(c.Timeout, DefaultTimeout)
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	subject := report.ScanSubject(hostID)
	m, err := c.Conn.RequestWithContext(rctx, subject, data)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return report.ScanReply{}, fmt.Errorf("scan host %s: %w (nothing listens on %s; is plumbline-agent running there and connected to NATS?)", hostID, ErrNotConnected, subject)
	case err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
		// Our own timeout, not the caller's: the agent is there but silent.
		return report.ScanReply{}, fmt.Errorf("scan host %s: %w within %s", hostID, ErrNoReply, timeout)
	case err != nil:
		return report.ScanReply{}, fmt.Errorf("scan host %s: request on %s: %w", hostID, subject, err)
	}
	var rep report.ScanReply
	if err := json.Unmarshal(m.Data, &rep); err != nil {
		return report.ScanReply{}, fmt.Errorf("scan host %s: decode reply: %w", hostID, err)
	}
	if rep.HostID == "" {
		rep.HostID = hostID
	}
	return rep, nil
}

// ScanAll asks every agent (group empty) or every agent of group to scan
// now, and collects the replies that arrive within window
// [DefaultWindow]. It returns them sorted by host id; agents that did not
// answer in time are simply absent, and so are replies that are not a
// ScanReply. When no agent at all listens on the subject it returns at
// once with no replies. If ctx ends first, it returns the replies so far
// with ctx's error.
func (c *Client) ScanAll(ctx context.Context, reason, group string, window time.Duration) ([]report.ScanReply, error) {
	subject := report.FleetScanSubject
	if group != "" {
		if err := report.ValidGroup(group); err != nil {
			return nil, fmt.Errorf("scan group: %w", err)
		}
		subject = report.GroupScanSubject(group)
	}
	if c.Conn == nil || !c.Conn.IsConnected() {
		return nil, fmt.Errorf("scan fleet: %w", ErrDisconnected)
	}
	data, err := json.Marshal(report.ScanRequest{Reason: reason})
	if err != nil {
		return nil, fmt.Errorf("scan fleet: encode request: %w", err)
	}
	window = cmp.Or(window, DefaultWindow)

	// A fresh inbox per call, subscribed before publishing, so that no
	// early reply is lost and no other call's replies are mixed in.
	inbox := c.Conn.NewInbox()
	sub, err := c.Conn.SubscribeSync(inbox)
	if err != nil {
		return nil, fmt.Errorf("scan fleet: subscribe %s: %w", inbox, err)
	}
	defer sub.Unsubscribe()
	// Replies to a large fleet arrive in a burst; do not let the client
	// drop them as a slow consumer.
	if err := sub.SetPendingLimits(-1, 64<<20); err != nil {
		return nil, fmt.Errorf("scan fleet: set pending limits: %w", err)
	}
	if err := c.Conn.PublishRequest(subject, inbox, data); err != nil {
		return nil, fmt.Errorf("scan fleet: publish %s: %w", subject, err)
	}

	wctx, cancel := context.WithTimeout(ctx, window)
	defer cancel()
	var replies []report.ScanReply
	for {
		m, err := sub.NextMsgWithContext(wctx)
		if err != nil {
			if ctx.Err() != nil {
				sortReplies(replies)
				return replies, fmt.Errorf("scan fleet: %w", ctx.Err())
			}
			if errors.Is(err, context.DeadlineExceeded) {
				break
			}
			if errors.Is(err, nats.ErrNoResponders) {
				// Nobody subscribes to the subject, so waiting out the
				// window would only delay the answer.
				break
			}
			return nil, fmt.Errorf("scan fleet: wait for replies on %s: %w", inbox, err)
		}
		var rep report.ScanReply
		if json.Unmarshal(m.Data, &rep) != nil || rep.HostID == "" {
			continue
		}
		replies = append(replies, rep)
	}
	sortReplies(replies)
	return replies, nil
}

func sortReplies(rs []report.ScanReply) {
	slices.SortStableFunc(rs, func(a, b report.ScanReply) int { return cmp.Compare(a.HostID, b.HostID) })
}
