// Package config is the server's configuration: /etc/plumbline/server.yaml
// over built-in defaults, then PLUMBLINE_* environment variables over both
// (PLUMBLINE_NATS_URL=nats://nats-1:4222 sets nats.url). packaging/server.yaml
// documents every key with its default; a test keeps it equal to Default.
package config

import (
	"time"

	"github.com/plumbline/plumbline/checks/settings"
)

const (
	// DefaultPath is where the server looks for its configuration when no
	// --config flag or PLUMBLINE_CONFIG names another file.
	DefaultPath = "/etc/plumbline/server.yaml"
	// EnvPrefix starts every variable that overrides a key.
	EnvPrefix = "PLUMBLINE_"
	// EnvConfig names the configuration file; it is the one PLUMBLINE_
	// variable that is not a key.
	EnvConfig = "PLUMBLINE_CONFIG"
)

// Limits Validate enforces.
const (
	// MaxNATSPayload is the largest max_payload nats-server accepts.
	MaxNATSPayload = settings.Size(64 << 20)
	// MinDriftInterval matches the agent's smallest scan interval.
	MinDriftInterval = time.Minute
)

// Server is the server's configuration.
type Server struct {
	DataDir string       `yaml:"data_dir" doc:"directory for the SQLite store and the embedded NATS server's JetStream files"`
	Listen  string       `yaml:"listen" doc:"address of the HTTP API and web UI, host:port"`
	NATS    NATS         `yaml:"nats"`
	Ingest  Ingest       `yaml:"ingest"`
	Drift   Drift        `yaml:"drift"`
	Log     settings.Log `yaml:"log"`
}

// NATS says which NATS the server uses: an embedded server (the default)
// or an external cluster.
type NATS struct {
	URL             string        `yaml:"url" doc:"external NATS server URLs, comma-separated; empty runs an embedded NATS server with JetStream"`
	Listen          string        `yaml:"listen" doc:"client address of the embedded NATS server, host:port (agents connect here)"`
	MaxConnections  int           `yaml:"max_connections" doc:"most client connections the embedded NATS server accepts"`
	SyncAlways      bool          `yaml:"sync_always" doc:"fsync every JetStream write; by default JetStream fsyncs every 2 minutes, and sync_always costs about 40x in publish throughput"`
	MaxPayload      settings.Size `yaml:"max_payload" doc:"largest message the embedded NATS server accepts (at most 64MiB)"`
	DuplicateWindow time.Duration `yaml:"duplicate_window" doc:"how long JetStream remembers report ids, so that a report re-sent from an agent's spool within it is stored once"`
}

// Ingest tunes how reports are taken from the stream.
type Ingest struct {
	Batch          int           `yaml:"batch" doc:"most reports fetched from the stream at once"`
	MaxWait        time.Duration `yaml:"max_wait" doc:"how long one fetch waits for a report when none is waiting; reports that are waiting are taken at once, up to batch"`
	MaxReportBytes settings.Size `yaml:"max_report_bytes" doc:"largest report accepted; larger ones are rejected and logged"`
	AckWait        time.Duration `yaml:"ack_wait" doc:"how long a report handed to a server that stopped without acknowledging it waits before JetStream redelivers it (at least 1s)"`
}

// Drift tunes the drift engine.
type Drift struct {
	DefaultInterval time.Duration `yaml:"default_interval" doc:"scan interval assumed for hosts whose reports do not say theirs, for the stale deadline (at least 1m)"`
	StaleGrace      time.Duration `yaml:"stale_grace" doc:"a host is stale when no report arrived within twice its scan interval plus this"`
	SweepEvery      time.Duration `yaml:"sweep_every" doc:"how often hosts are checked for staleness"`
}

// Default returns the built-in configuration.
func Default() Server {
	return Server{
		DataDir: "/var/lib/plumbline-server",
		Listen:  "127.0.0.1:8080",
		NATS: NATS{
			Listen:          "0.0.0.0:4222",
			MaxConnections:  200000,
			MaxPayload:      4 << 20,
			DuplicateWindow: 2 * time.Hour,
		},
		Ingest: Ingest{Batch: 256, MaxWait: 500 * time.Millisecond, MaxReportBytes: 4 << 20, AckWait: 30 * time.Second},
		Drift:  Drift{DefaultInterval: time.Hour, StaleGrace: 5 * time.Minute, SweepEvery: 30 * time.Second},
		Log:    settings.DefaultLog(),
	}
}

// Path picks the configuration file: the --config flag's value, else
// PLUMBLINE_CONFIG, else DefaultPath. explicit is false only for the
// default, which may be absent.
func Path(flag string, env []string) (path string, explicit bool) {
	return settings.Path(flag, env, EnvConfig, DefaultPath)
}

// Load reads the configuration: defaults, then the file at path, then the
// PLUMBLINE_* variables of env (os.Environ form), then Validate. A missing
// file is fine unless explicit. Every problem is reported at once, each
// naming the file line or variable that set the value.
func Load(path string, explicit bool, env []string) (*Server, error) {
	s := Default()
	src := settings.Source{Path: path, Explicit: explicit, Env: env, EnvPrefix: EnvPrefix, EnvAllow: []string{EnvConfig}}
	if _, err := settings.Load(&s, src, s.Validate); err != nil {
		return nil, err
	}
	return &s, nil
}

// Fields documents every key: its variable, default and doc.
func Fields() []settings.Field { return settings.Fields(Default(), EnvPrefix) }

// Embedded reports whether the server runs its own NATS server.
func (s *Server) Embedded() bool { return s.NATS.URL == "" }

// Validate reports every problem with s's values at once, as
// settings.Errors keyed by the dotted key.
func (s *Server) Validate() error {
	var errs settings.Errors
	if s.DataDir == "" {
		errs.Addf("data_dir", "must not be empty")
	}
	if err := settings.CheckHostPort(s.Listen); err != nil {
		errs.Addf("listen", "%v", err)
	}

	if s.NATS.URL != "" {
		if err := settings.CheckURLs(s.NATS.URL, "nats", "tls", "ws", "wss"); err != nil {
			errs.Addf("nats.url", "%v", err)
		}
	}
	if err := settings.CheckHostPort(s.NATS.Listen); err != nil {
		errs.Addf("nats.listen", "%v", err)
	}
	if s.NATS.MaxConnections < 1 {
		errs.Addf("nats.max_connections", "at least 1, got %d", s.NATS.MaxConnections)
	}
	if s.NATS.MaxPayload < 1 || s.NATS.MaxPayload > MaxNATSPayload {
		errs.Addf("nats.max_payload", "want 1 to %s, got %s", MaxNATSPayload, s.NATS.MaxPayload)
	}
	positive(&errs, "nats.duplicate_window", s.NATS.DuplicateWindow)

	if s.Ingest.Batch < 1 {
		errs.Addf("ingest.batch", "at least 1, got %d", s.Ingest.Batch)
	}
	positive(&errs, "ingest.max_wait", s.Ingest.MaxWait)
	if s.Ingest.AckWait < time.Second {
		errs.Addf("ingest.ack_wait", "at least 1s, got %s", settings.FormatDuration(s.Ingest.AckWait))
	}
	if s.Ingest.MaxReportBytes < 1 {
		errs.Addf("ingest.max_report_bytes", "at least 1, got %s", s.Ingest.MaxReportBytes)
	}

	if s.Drift.DefaultInterval < MinDriftInterval {
		errs.Addf("drift.default_interval", "at least %s, got %s", settings.FormatDuration(MinDriftInterval), settings.FormatDuration(s.Drift.DefaultInterval))
	}
	positive(&errs, "drift.sweep_every", s.Drift.SweepEvery)

	s.Log.Validate(&errs, "log")
	return errs.Err()
}

func positive(errs *settings.Errors, key string, d time.Duration) {
	if d <= 0 {
		errs.Addf(key, "must be more than 0s")
	}
}
