package natsd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// testLogger keeps the NATS server's notices out of test output but shows
// its warnings and errors.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// startServer starts an embedded server on a random loopback port with its
// store in dir, and shuts it down when the test ends.
func startServer(t testing.TB, dir string) *Server {
	t.Helper()
	s, err := Start(t.Context(), Options{Listen: "127.0.0.1:-1", StoreDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// connect opens a client connection to s, closed when the test ends.
func connect(t testing.TB, s *Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatalf("connect %s: %v", s.ClientURL(), err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return nc, js
}

func TestServerOptions(t *testing.T) {
	t.Parallel()
	valid := []struct {
		name     string
		in       Options
		wantHost string
		wantPort int
		wantMax  int32
	}{
		{"defaults", Options{StoreDir: "/d"}, "0.0.0.0", 4222, DefaultMaxPayload},
		{"nats random port", Options{Listen: "127.0.0.1:-1", StoreDir: "/d"}, "127.0.0.1", server.RANDOM_PORT, DefaultMaxPayload},
		{"go random port", Options{Listen: "127.0.0.1:0", StoreDir: "/d"}, "127.0.0.1", server.RANDOM_PORT, DefaultMaxPayload},
		{"explicit", Options{Listen: ":4333", StoreDir: "/d", MaxPayload: 1 << 20}, "", 4333, 1 << 20},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.serverOptions()
			if err != nil {
				t.Fatalf("serverOptions: %v", err)
			}
			if got.Host != tc.wantHost || got.Port != tc.wantPort || got.MaxPayload != tc.wantMax {
				t.Errorf("host, port, max payload = %q, %d, %d; want %q, %d, %d",
					got.Host, got.Port, got.MaxPayload, tc.wantHost, tc.wantPort, tc.wantMax)
			}
			// Without NoSigs, NATS would exit our process on SIGTERM.
			if !got.NoSigs || !got.JetStream || got.StoreDir != "/d" {
				t.Errorf("NoSigs, JetStream, StoreDir = %v, %v, %q; want true, true, /d", got.NoSigs, got.JetStream, got.StoreDir)
			}
		})
	}

	invalid := []struct {
		name string
		in   Options
		want string
	}{
		{"no store dir", Options{Listen: ":1"}, "store dir is required"},
		{"no port", Options{Listen: "localhost", StoreDir: "/d"}, "listen address"},
		{"bad port", Options{Listen: "localhost:http", StoreDir: "/d"}, "port must be"},
		{"port too large", Options{Listen: ":70000", StoreDir: "/d"}, "port must be"},
		{"negative connections", Options{StoreDir: "/d", MaxConnections: -1}, "max connections"},
		{"payload too large", Options{StoreDir: "/d", MaxPayload: 65 << 20}, "max payload"},
		{"negative payload", Options{StoreDir: "/d", MaxPayload: -1}, "max payload"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.in.serverOptions()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("serverOptions error = %v; want one containing %q", err, tc.want)
			}
		})
	}
}

func TestStartServesJetStream(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir())
	if !strings.HasPrefix(s.ClientURL(), "nats://127.0.0.1:") || strings.HasSuffix(s.ClientURL(), ":-1") {
		t.Errorf("ClientURL = %q; want nats://127.0.0.1:<actual port>", s.ClientURL())
	}
	if !s.JetStreamEnabled() {
		t.Error("JetStreamEnabled = false after Start")
	}
	if err := s.Healthz(); err != nil {
		t.Errorf("Healthz = %v; want nil", err)
	}
	_, js := connect(t, s)
	info, err := js.AccountInfo(t.Context())
	if err != nil {
		t.Fatalf("JetStream account info: %v", err)
	}
	if info.Tier.Store != 0 {
		t.Errorf("fresh store uses %d bytes; want 0", info.Tier.Store)
	}
}

func TestStartUsesStoreDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startServer(t, dir)
	_, js := connect(t, s)
	if _, err := EnsureStream(t.Context(), js, StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	// The stream must live in the data dir, not in a temp dir NATS picks.
	matches, err := filepath.Glob(filepath.Join(dir, "jetstream", "*", "streams", StreamName))
	if err != nil || len(matches) != 1 {
		t.Errorf("stream dir under %s: %v, %v; want one", dir, matches, err)
	}
}

func TestStartFailsFast(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { taken.Close() })
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		opts Options
		want string
	}{
		// NATS reports both only through Fatalf, which must neither exit
		// the process nor leave Start waiting for StartTimeout.
		{"port taken", Options{Listen: taken.Addr().String(), StoreDir: t.TempDir()}, "listening"},
		{"store dir is a file", Options{Listen: "127.0.0.1:-1", StoreDir: notADir}, "JetStream"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.opts.Logger = testLogger(t)
			begin := time.Now()
			s, err := Start(t.Context(), tc.opts)
			if err == nil {
				s.Shutdown()
				t.Fatal("Start succeeded; want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Start error = %v; want one containing %q", err, tc.want)
			}
			if d := time.Since(begin); d > StartTimeout/2 {
				t.Errorf("Start took %s to fail; want it to fail fast", d)
			}
		})
	}
}

func TestStartHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s, err := Start(ctx, Options{Listen: "127.0.0.1:-1", StoreDir: t.TempDir(), Logger: testLogger(t)})
	if err == nil {
		s.Shutdown()
		t.Fatal("Start with a cancelled context succeeded")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Start error = %v; want context.Canceled", err)
	}
}

func TestFatalfDoesNotExit(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := newSlogLogger(slog.New(slog.NewJSONHandler(&buf, nil)))
	l.Fatalf("Error listening on port: %d", 4222)
	l.Fatalf("second fatal must not block") // the channel holds one message
	// Reaching this line is the test: NATS's own logger would os.Exit.

	var rec map[string]any
	if err := json.Unmarshal(bytes.Split(buf.Bytes(), []byte("\n"))[0], &rec); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	if rec["level"] != "ERROR" || rec["fatal"] != true || rec["msg"] != "Error listening on port: 4222" {
		t.Errorf("fatal log record = %v; want level ERROR, fatal true, formatted msg", rec)
	}
	select {
	case msg := <-l.fatal:
		if msg != "Error listening on port: 4222" {
			t.Errorf("fatal message for Start = %q; want the first one", msg)
		}
	default:
		t.Error("Fatalf did not hand its message to Start")
	}
}

func TestLoggerLevels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		log  func(l *slogLogger)
		want slog.Level
	}{
		{func(l *slogLogger) { l.Tracef("m %d", 1) }, LevelTrace},
		{func(l *slogLogger) { l.Debugf("m %d", 1) }, slog.LevelDebug},
		{func(l *slogLogger) { l.Noticef("m %d", 1) }, slog.LevelInfo},
		{func(l *slogLogger) { l.Warnf("m %d", 1) }, slog.LevelWarn},
		{func(l *slogLogger) { l.Errorf("m %d", 1) }, slog.LevelError},
	}
	for _, tc := range tests {
		t.Run(tc.want.String(), func(t *testing.T) {
			var buf bytes.Buffer
			h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: LevelTrace})
			tc.log(newSlogLogger(slog.New(h)))
			var rec struct{ Level, Msg string }
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("log line %q: %v", buf.String(), err)
			}
			if rec.Level != tc.want.String() || rec.Msg != "m 1" {
				t.Errorf("logged level %s msg %q; want %s %q", rec.Level, rec.Msg, tc.want, "m 1")
			}
		})
	}
}

// TestSIGTERMNotStolen sends SIGTERM to the test process. Were NoSigs off,
// the embedded server would trap it, shut down and call os.Exit, which the
// testing package reports as a failure.
func TestSIGTERMNotStolen(t *testing.T) {
	s := startServer(t, t.TempDir())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	defer signal.Stop(sigs)

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sigs:
	case <-time.After(5 * time.Second):
		t.Fatal("SIGTERM not delivered to the application")
	}
	time.Sleep(200 * time.Millisecond) // give a trapping server time to act
	if err := s.Healthz(); err != nil {
		t.Errorf("Healthz after SIGTERM = %v; want the server still running", err)
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	t.Run("jetstream disabled", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, t.TempDir())
		// What NATS does when the disk fills up (handleOutOfSpace).
		if err := s.ns.ShutdownJetStream(); err != nil {
			t.Fatal(err)
		}
		if s.JetStreamEnabled() {
			t.Error("JetStreamEnabled = true after JetStream was disabled")
		}
		if err := s.Healthz(); !errors.Is(err, ErrJetStreamDisabled) {
			t.Errorf("Healthz = %v; want ErrJetStreamDisabled", err)
		}
	})
	t.Run("shut down", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, t.TempDir())
		s.Shutdown()
		if err := s.Healthz(); !errors.Is(err, ErrNotReady) {
			t.Errorf("Healthz = %v; want ErrNotReady", err)
		}
	})
}
