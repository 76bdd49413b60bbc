package command

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/plumbline/plumbline/checks/report"
)

// startNATS starts a real in-process NATS server on a random port and
// returns a connection to it.
func startNATS(t *testing.T) *nats.Conn {
	t.Helper()
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(s.Shutdown)
	return connect(t, s.ClientURL())
}

func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// fakeAgent is what an agent's command listener looks like from the
// server: subscriptions on its scan subjects that reply with a ScanReply.
type fakeAgent struct {
	hostID string
	// reply, when set, replaces the normal reply; nil data means "stay
	// silent".
	reply func(req report.ScanRequest) []byte
	delay time.Duration

	mu      sync.Mutex
	reasons []string
}

func (a *fakeAgent) start(t *testing.T, url, group string) {
	t.Helper()
	nc := connect(t, url)
	subjects := []string{report.ScanSubject(a.hostID), report.FleetScanSubject}
	if group != "" {
		subjects = append(subjects, report.GroupScanSubject(group))
	}
	for _, s := range subjects {
		if _, err := nc.Subscribe(s, a.handle); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

func (a *fakeAgent) handle(m *nats.Msg) {
	var req report.ScanRequest
	_ = json.Unmarshal(m.Data, &req)
	a.mu.Lock()
	a.reasons = append(a.reasons, req.Reason)
	a.mu.Unlock()
	time.Sleep(a.delay)
	data, _ := json.Marshal(report.ScanReply{HostID: a.hostID, Accepted: true})
	if a.reply != nil {
		data = a.reply(req)
	}
	if data != nil {
		_ = m.Respond(data)
	}
}

func (a *fakeAgent) lastReason() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.reasons) == 0 {
		return ""
	}
	return a.reasons[len(a.reasons)-1]
}

func TestScanHost(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	url := nc.ConnectedUrl()
	ok := &fakeAgent{hostID: "host-ok"}
	ok.start(t, url, "")
	refusing := &fakeAgent{hostID: "host-refusing", reply: func(report.ScanRequest) []byte {
		return []byte(`{"host_id":"host-refusing","accepted":false,"reason":"bad request"}`)
	}}
	refusing.start(t, url, "")
	silent := &fakeAgent{hostID: "host-silent", reply: func(report.ScanRequest) []byte { return nil }}
	silent.start(t, url, "")
	garbled := &fakeAgent{hostID: "host-garbled", reply: func(report.ScanRequest) []byte { return []byte("{") }}
	garbled.start(t, url, "")

	c := &Client{Conn: nc, Timeout: 300 * time.Millisecond}
	tests := []struct {
		name    string
		host    string
		want    report.ScanReply
		wantErr error
		errText bool // only that some error is returned
	}{
		{name: "accepted", host: "host-ok", want: report.ScanReply{HostID: "host-ok", Accepted: true}},
		{name: "refused is a reply, not an error", host: "host-refusing", want: report.ScanReply{HostID: "host-refusing", Reason: "bad request"}},
		{name: "no agent", host: "host-absent", wantErr: ErrNotConnected},
		{name: "silent agent", host: "host-silent", wantErr: ErrNoReply},
		{name: "garbled reply", host: "host-garbled", errText: true},
		{name: "host id that is not one subject token", host: "a.b", errText: true},
		{name: "wildcard host id", host: "*", errText: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.ScanHost(context.Background(), tt.host, "operator "+tt.host)
			switch {
			case tt.wantErr != nil || tt.errText:
				if err == nil {
					t.Fatalf("ScanHost(%q) = %+v, want an error", tt.host, got)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("ScanHost(%q) error = %v, want %v", tt.host, err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("ScanHost(%q): %v", tt.host, err)
			case got != tt.want:
				t.Fatalf("ScanHost(%q) = %+v, want %+v", tt.host, got, tt.want)
			}
		})
	}
	t.Run("reason reaches the agent", func(t *testing.T) {
		t.Parallel()
		a := &fakeAgent{hostID: "host-reason"}
		a.start(t, url, "")
		if _, err := c.ScanHost(context.Background(), "host-reason", "ticket 7"); err != nil {
			t.Fatal(err)
		}
		if got := a.lastReason(); got != "ticket 7" {
			t.Errorf("agent saw reason %q, want %q", got, "ticket 7")
		}
	})
}

func TestScanHostNotConnectedIsImmediate(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	c := &Client{Conn: nc, Timeout: 10 * time.Second}
	start := time.Now()
	_, err := c.ScanHost(context.Background(), "nobody", "")
	if !errors.Is(err, ErrNotConnected) {
		t.Fatalf("error = %v, want ErrNotConnected", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s: no-responders should not wait for the timeout", d)
	}
}

func TestScanHostCallerCancelIsNotNoReply(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	silent := &fakeAgent{hostID: "host-silent", reply: func(report.ScanRequest) []byte { return nil }}
	silent.start(t, nc.ConnectedUrl(), "")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := (&Client{Conn: nc, Timeout: time.Minute}).ScanHost(ctx, "host-silent", "")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrNoReply) {
		t.Fatalf("error = %v, want the caller's deadline, not ErrNoReply", err)
	}
}

func TestScanAll(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	url := nc.ConnectedUrl()
	(&fakeAgent{hostID: "web-2"}).start(t, url, "web")
	(&fakeAgent{hostID: "web-1"}).start(t, url, "web")
	(&fakeAgent{hostID: "db-1"}).start(t, url, "db")
	(&fakeAgent{hostID: "lone"}).start(t, url, "")
	(&fakeAgent{hostID: "busy", reply: func(report.ScanRequest) []byte {
		return []byte(`{"host_id":"busy","accepted":true,"queued":true}`)
	}}).start(t, url, "db")
	(&fakeAgent{hostID: "garbled", reply: func(report.ScanRequest) []byte { return []byte("not json") }}).start(t, url, "db")
	(&fakeAgent{hostID: "late", delay: 2 * time.Second}).start(t, url, "db")

	c := &Client{Conn: nc}
	tests := []struct {
		name  string
		group string
		want  []report.ScanReply
	}{
		{name: "fleet", want: []report.ScanReply{
			{HostID: "busy", Accepted: true, Queued: true}, {HostID: "db-1", Accepted: true},
			{HostID: "lone", Accepted: true}, {HostID: "web-1", Accepted: true}, {HostID: "web-2", Accepted: true},
		}},
		{name: "group", group: "web", want: []report.ScanReply{{HostID: "web-1", Accepted: true}, {HostID: "web-2", Accepted: true}}},
		{name: "empty group", group: "nobody", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.ScanAll(context.Background(), "fleet test", tt.group, 500*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ScanAll(group %q) = %+v, want %+v", tt.group, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("ScanAll(group %q) = %+v, want %+v", tt.group, got, tt.want)
				}
			}
		})
	}
}

func TestScanAllWithoutAgentsReturnsEarly(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	start := time.Now()
	got, err := (&Client{Conn: nc}).ScanAll(context.Background(), "", "", 10*time.Second)
	if err != nil || len(got) != 0 {
		t.Fatalf("ScanAll = %+v, %v; want no replies, no error", got, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s: with no subscriber at all it should not wait out the window", d)
	}
}

func TestScanAllPassesReasonAndHonoursContext(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	a := &fakeAgent{hostID: "h1"}
	a.start(t, nc.ConnectedUrl(), "")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	got, err := (&Client{Conn: nc}).ScanAll(ctx, "ticket 42", "", time.Minute)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want the context's deadline", err)
	}
	if len(got) != 1 || got[0].HostID != "h1" {
		t.Fatalf("replies = %+v, want the one that arrived before the deadline", got)
	}
	if r := a.lastReason(); r != "ticket 42" {
		t.Fatalf("agent saw reason %q", r)
	}
}

func TestScanAllRejectsBadGroup(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	if _, err := (&Client{Conn: nc}).ScanAll(context.Background(), "", "a.>", time.Second); err == nil {
		t.Fatal("group with subject wildcards accepted")
	}
}

func TestScanWhileDisconnected(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	nc.Close()
	c := &Client{Conn: nc}
	if _, err := c.ScanHost(context.Background(), "h1", ""); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("ScanHost error = %v, want ErrDisconnected", err)
	}
	if _, err := c.ScanAll(context.Background(), "", "", time.Second); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("ScanAll error = %v, want ErrDisconnected", err)
	}
}
