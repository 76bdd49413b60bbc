// Package natsd runs the NATS server that plumbline embeds by default and
// sets up the JetStream stream and durable consumer that carry agents'
// reports to the server.
//
// Embedding gives a zero set-up installation: one process, one data dir.
// The same stream and consumer set-up (EnsureStream, EnsureConsumer) works
// against an external NATS cluster, because it only needs a JetStream
// context; only Start is specific to the embedded server.
package natsd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Defaults for Options.
const (
	// DefaultListen is where the embedded server listens when
	// Options.Listen is empty: every interface, the standard NATS port,
	// because agents connect from other hosts.
	DefaultListen = "0.0.0.0:4222"
	// DefaultMaxPayload is the largest message a client may publish when
	// Options.MaxPayload is 0. It equals DefaultMaxMsgSize: a smaller
	// value would make the connection reject reports the stream accepts.
	// (NATS's own default is 1 MiB.)
	DefaultMaxPayload = DefaultMaxMsgSize
	// StartTimeout bounds how long Start waits for the server to accept
	// connections, so that a wedged start fails loudly instead of hanging.
	StartTimeout = 10 * time.Second
)

// maxPayloadLimit is NATS's default max_pending: a payload larger than a
// client's pending buffer could never be delivered, and NewServer rejects it.
const maxPayloadLimit = 64 << 20

// Errors reported by (*Server).Healthz, stable so that callers can tell
// them apart with errors.Is.
var (
	// ErrNotReady means the server is not (or no longer) accepting
	// connections.
	ErrNotReady = errors.New("nats server not ready for connections")
	// ErrJetStreamDisabled means the server runs but JetStream is off.
	// NATS disables JetStream at run time when the store runs out of disk
	// space or hits a write permission error; agents then cannot publish
	// reports and keep them in their spools.
	ErrJetStreamDisabled = errors.New("nats jetstream is disabled (store out of disk space or not writable? see the nats log)")
)

// Options configures the embedded NATS server.
type Options struct {
	// Listen is the client address, "host:port". Port -1 or 0 picks a
	// random free port (tests: "127.0.0.1:-1"); read the result from
	// ClientURL. Empty means DefaultListen.
	Listen string
	// StoreDir is the server's data dir. Required: without it NATS puts
	// JetStream data in a temporary dir. JetStream writes under
	// StoreDir/jetstream.
	StoreDir string
	// MaxConnections caps client connections; 0 keeps NATS's default of
	// 65,536, which is below a 100k-host fleet (each idle connection costs
	// about 50 KB of server memory).
	MaxConnections int
	// MaxPayload is the largest message, headers included, a client may
	// publish; 0 means DefaultMaxPayload. Keep it at least the stream's
	// MaxMsgSize.
	MaxPayload int32
	// SyncAlways makes JetStream fsync every message before acking it. By
	// default it syncs every 2 minutes, so a power loss (not a process
	// crash) can lose up to 2 minutes of acked reports; sync_always closes
	// that gap at roughly 40× lower publish throughput.
	SyncAlways bool
	// Logger receives the NATS server's log, as is: the caller adds
	// attributes such as component=nats. nil means slog.Default().
	// NATS debug and trace logging are on when the logger is enabled at
	// slog.LevelDebug and LevelTrace respectively.
	Logger *slog.Logger
}

// serverOptions validates o and translates it into nats-server options.
func (o Options) serverOptions() (*server.Options, error) {
	if o.StoreDir == "" {
		return nil, errors.New("nats store dir is required")
	}
	listen := o.Listen
	if listen == "" {
		listen = DefaultListen
	}
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("nats listen address %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < -1 || port > 65535 {
		return nil, fmt.Errorf("nats listen address %q: port must be -1..65535", listen)
	}
	if port == 0 {
		// NATS reads port 0 as "the default port 4222"; Go programmers
		// read it as "any free port". Honour the Go meaning.
		port = server.RANDOM_PORT
	}
	if o.MaxConnections < 0 {
		// NATS would accept the value and then refuse every client.
		return nil, fmt.Errorf("nats max connections %d: must be 0 (default) or more", o.MaxConnections)
	}
	maxPayload := o.MaxPayload
	if maxPayload == 0 {
		maxPayload = DefaultMaxPayload
	}
	if maxPayload < 0 || maxPayload > maxPayloadLimit {
		return nil, fmt.Errorf("nats max payload %d: must be 1..%d bytes", maxPayload, maxPayloadLimit)
	}
	return &server.Options{
		Host:       host,
		Port:       port,
		MaxConn:    o.MaxConnections,
		MaxPayload: maxPayload,
		JetStream:  true,
		StoreDir:   o.StoreDir,
		SyncAlways: o.SyncAlways,
		// Without NoSigs the embedded server traps SIGINT/SIGTERM and
		// calls os.Exit, skipping plumbline's own orderly shutdown.
		NoSigs:                 true,
		DisableJetStreamBanner: true,
	}, nil
}

// Server is a running embedded NATS server with JetStream.
type Server struct {
	ns        *server.Server
	clientURL string
}

// Start starts an embedded NATS server with JetStream and returns once it
// accepts connections. ctx bounds only the start (at most StartTimeout);
// stop the server with Shutdown.
func Start(ctx context.Context, o Options) (*Server, error) {
	sopts, err := o.serverOptions()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start nats server: %w", err)
	}
	ns, err := server.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("configure nats server: %w", err)
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	nl := newSlogLogger(log)
	ns.SetLoggerV2(nl, log.Enabled(ctx, slog.LevelDebug), log.Enabled(ctx, LevelTrace), false)

	started := make(chan struct{})
	go func() {
		defer close(started)
		ns.Start()
	}()
	if err := waitReady(ctx, ns, nl.fatal); err != nil {
		ns.Shutdown()
		<-started
		ns.WaitForShutdown()
		return nil, fmt.Errorf("start nats server on %s: %w", net.JoinHostPort(sopts.Host, strconv.Itoa(sopts.Port)), err)
	}
	s := &Server{ns: ns, clientURL: clientURL(ns, sopts.Host)}
	log.Info("nats server ready", "client_url", s.clientURL, "store_dir", o.StoreDir, "sync_always", o.SyncAlways)
	return s, nil
}

// waitReady waits until ns accepts connections, a fatal error is logged
// (NATS reports start failures such as a taken port only through its
// logger), ctx ends or StartTimeout passes.
func waitReady(ctx context.Context, ns *server.Server, fatal <-chan string) error {
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	for !ns.ReadyForConnections(50 * time.Millisecond) {
		select {
		case msg := <-fatal:
			return errors.New(msg)
		case <-ctx.Done():
			return fmt.Errorf("not ready for connections: %w", ctx.Err())
		default:
		}
	}
	if !ns.JetStreamEnabled() {
		return ErrJetStreamDisabled
	}
	return nil
}

// clientURL is where local clients reach ns: an unspecified listen host
// (all interfaces) is reached through loopback.
func clientURL(ns *server.Server, host string) string {
	port := 0
	if a, ok := ns.Addr().(*net.TCPAddr); ok {
		port = a.Port
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "nats://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// ClientURL is the URL local clients connect to, with the actual port when
// a random one was asked for.
func (s *Server) ClientURL() string { return s.clientURL }

// Shutdown stops the server and waits until it has stopped, so that its
// store is closed and the same StoreDir can be opened again.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// JetStreamEnabled reports whether JetStream is on. It turns false at run
// time when NATS disables JetStream, e.g. after the disk filled up.
func (s *Server) JetStreamEnabled() bool { return s.ns.JetStreamEnabled() }

// Healthz reports why the server cannot take reports right now:
// ErrNotReady, ErrJetStreamDisabled, or a NATS health check failure (e.g.
// a stream not recovered from disk); nil when healthy.
func (s *Server) Healthz() error {
	if !s.ns.Running() {
		return ErrNotReady
	}
	if !s.ns.JetStreamEnabled() {
		return ErrJetStreamDisabled
	}
	h := s.ns.Healthz(nil)
	if h.StatusCode == http.StatusOK {
		return nil
	}
	msgs := []string{h.Error}
	for _, e := range h.Errors {
		msgs = append(msgs, e.Error)
	}
	return fmt.Errorf("nats health check: %s (status %d)", strings.TrimSpace(strings.Join(msgs, "; ")), h.StatusCode)
}
