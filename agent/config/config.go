// Package config is the agent's configuration: /etc/plumbline/agent.yaml
// over built-in defaults, then PLUMBLINE_* environment variables over both
// (PLUMBLINE_SCAN_INTERVAL=30m sets scan.interval). packaging/agent.yaml
// documents every key with its default; a test keeps it equal to Default.
package config

import (
	"path/filepath"
	"time"

	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/checks/settings"
)

const (
	// DefaultPath is where the agent looks for its configuration when no
	// --config flag or PLUMBLINE_CONFIG names another file.
	DefaultPath = "/etc/plumbline/agent.yaml"
	// EnvPrefix starts every variable that overrides a key.
	EnvPrefix = "PLUMBLINE_"
	// EnvConfig names the configuration file; it is the one PLUMBLINE_
	// variable that is not a key.
	EnvConfig = "PLUMBLINE_CONFIG"
)

// Limits Validate enforces.
const (
	// MinScanInterval keeps a misconfigured fleet from scanning (and
	// publishing) continuously.
	MinScanInterval = time.Minute
	// MinHeartbeatInterval bounds heartbeat traffic: 100k agents at 5s is
	// already 20k messages a second.
	MinHeartbeatInterval = 5 * time.Second
	// MinSpoolBytes is room for at least one large report.
	MinSpoolBytes = settings.Size(1 << 20)
)

// Agent is the agent's configuration.
type Agent struct {
	HostID    string       `yaml:"host_id" doc:"host id to report instead of the ECS instance id or /etc/machine-id; 1-128 of A-Z a-z 0-9 _ -"`
	Group     string       `yaml:"group" doc:"group the host belongs to, for group scan commands and group baselines; 1-128 of A-Z a-z 0-9 _ -, empty for none"`
	DataDir   string       `yaml:"data_dir" doc:"directory for the agent's state and its spool of unsent reports"`
	NATS      NATS         `yaml:"nats"`
	Scan      Scan         `yaml:"scan"`
	Heartbeat Heartbeat    `yaml:"heartbeat"`
	Spool     Spool        `yaml:"spool"`
	Identity  Identity     `yaml:"identity"`
	Plugins   Plugins      `yaml:"plugins"`
	Log       settings.Log `yaml:"log"`
}

// NATS says how the agent reaches the NATS servers it publishes to.
type NATS struct {
	URL             string        `yaml:"url" doc:"NATS server URLs, comma-separated (nats:// or tls://, also ws:// and wss://)"`
	Credentials     string        `yaml:"credentials" doc:"path to a NATS .creds file (user JWT and nkey seed); empty for none"`
	Name            string        `yaml:"name" doc:"connection name shown by the NATS server's monitoring; empty means plumbline-agent/<host id>"`
	ReconnectWait   time.Duration `yaml:"reconnect_wait" doc:"pause between reconnect attempts to the same server"`
	ReconnectJitter time.Duration `yaml:"reconnect_jitter" doc:"random extra pause added to reconnect_wait, so that a fleet does not reconnect in step after a server restart"`
	PublishTimeout  time.Duration `yaml:"publish_timeout" doc:"how long to wait for JetStream to acknowledge a report before spooling it"`
}

// Scan says when and how the agent scans.
type Scan struct {
	Interval     time.Duration `yaml:"interval" doc:"time between scans (at least 1m); the server flags a host stale after twice this plus its grace"`
	Jitter       time.Duration `yaml:"jitter" doc:"random 0..jitter added to every interval and to the first scan, so that agents restarted together do not scan together; less than interval"`
	Baseline     string        `yaml:"baseline" doc:"built-in baseline name or baseline file; empty picks the built-in one for the host's /etc/os-release"`
	Root         string        `yaml:"root" doc:"directory that is / for the scanned system, e.g. /host in a container"`
	ChecksDir    string        `yaml:"checks_dir" doc:"directory of your own declarative check files (*.yaml, schema plumbline.checks/v1); their checks join the baseline. Skipped when it does not exist; an invalid file stops the agent"`
	CheckTimeout time.Duration `yaml:"check_timeout" doc:"deadline of each check; a check that runs out reports ERROR, never FAIL"`
	AtStart      bool          `yaml:"at_start" doc:"scan when the agent starts (after a random 0..jitter), rather than one interval later"`
}

// Heartbeat says how often the agent says it is alive between reports.
type Heartbeat struct {
	Interval time.Duration `yaml:"interval" doc:"time between heartbeats (at least 5s)"`
}

// Spool bounds the on-disk outbox of reports that could not be published.
type Spool struct {
	MaxBytes   settings.Size `yaml:"max_bytes" doc:"largest total size of spooled reports (at least 1MiB); the oldest are dropped beyond it"`
	MaxReports int           `yaml:"max_reports" doc:"most reports kept in the spool; the oldest are dropped beyond it"`
}

// Plugins says which plugin binaries run and within what bounds. A plugin
// runs only when its sha256 is pinned in the lock file; each check's
// deadline is scan.check_timeout.
type Plugins struct {
	Dir          string        `yaml:"dir" doc:"directory of plugin binaries (a plugin's file name is its name); it and every binary must not be writable by group or others. When neither it nor lock_file exists, no plugins run"`
	LockFile     string        `yaml:"lock_file" doc:"the pins: sha256 of each plugin binary in sha256sum's format, one \"<sha256>  <name>\" per line (cd DIR && sha256sum NAME >> LOCK_FILE); only pinned plugins are launched"`
	User         string        `yaml:"user" doc:"user plugins run as when the agent runs as root; they read the host through the agent, so they need no rights of their own. Empty runs them as root"`
	Budget       time.Duration `yaml:"budget" doc:"longest a plugin may take in one scan, from launch to its last result; then it is stopped and killed and its unfinished checks report ERROR"`
	StartTimeout time.Duration `yaml:"start_timeout" doc:"how long a plugin has to start and describe itself"`
	OutputBytes  settings.Size `yaml:"output_bytes" doc:"how much of each plugin's stdout and stderr is kept (the last lines go into the ERROR of a crashed plugin's checks)"`
}

// Identity says where the host id comes from when host_id is not set.
type Identity struct {
	ECSMetadata        bool          `yaml:"ecs_metadata" doc:"ask the Alibaba Cloud ECS metadata service for the instance id (live host only); else, or when it does not answer, /etc/machine-id is the host id"`
	ECSMetadataURL     string        `yaml:"ecs_metadata_url" doc:"base URL of the ECS metadata service"`
	ECSMetadataTimeout time.Duration `yaml:"ecs_metadata_timeout" doc:"how long to wait for the metadata service at start; on machines that are not ECS instances this is the delay before falling back"`
}

// Default returns the built-in configuration.
func Default() Agent {
	return Agent{
		DataDir: "/var/lib/plumbline",
		NATS: NATS{
			URL:             "nats://127.0.0.1:4222",
			ReconnectWait:   2 * time.Second,
			ReconnectJitter: 5 * time.Second,
			PublishTimeout:  10 * time.Second,
		},
		Scan: Scan{
			Interval:     time.Hour,
			Jitter:       5 * time.Minute,
			Root:         "/",
			ChecksDir:    "/etc/plumbline/checks.d",
			CheckTimeout: 10 * time.Second,
			AtStart:      true,
		},
		Heartbeat: Heartbeat{Interval: 60 * time.Second},
		Spool:     Spool{MaxBytes: 64 << 20, MaxReports: 1000},
		Identity: Identity{
			ECSMetadata:        true,
			ECSMetadataURL:     "http://100.100.100.200",
			ECSMetadataTimeout: time.Second,
		},
		Plugins: Plugins{
			Dir:          "/usr/lib/plumbline/plugins",
			LockFile:     "/etc/plumbline/plugins.lock",
			User:         "nobody",
			Budget:       60 * time.Second,
			StartTimeout: 10 * time.Second,
			OutputBytes:  64 << 10,
		},
		Log: settings.DefaultLog(),
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
func Load(path string, explicit bool, env []string) (*Agent, error) {
	a := Default()
	src := settings.Source{Path: path, Explicit: explicit, Env: env, EnvPrefix: EnvPrefix, EnvAllow: []string{EnvConfig}}
	if _, err := settings.Load(&a, src, a.Validate); err != nil {
		return nil, err
	}
	return &a, nil
}

// Fields documents every key: its variable, default and doc.
func Fields() []settings.Field { return settings.Fields(Default(), EnvPrefix) }

// Validate reports every problem with a's values at once, as
// settings.Errors keyed by the dotted key.
func (a *Agent) Validate() error {
	var errs settings.Errors
	if a.HostID != "" {
		if err := report.ValidHostID(a.HostID); err != nil {
			errs.Addf("host_id", "%v", err)
		}
	}
	if a.Group != "" {
		if err := report.ValidGroup(a.Group); err != nil {
			errs.Addf("group", "%v", err)
		}
	}
	if a.DataDir == "" {
		errs.Addf("data_dir", "must not be empty")
	}

	if err := settings.CheckURLs(a.NATS.URL, "nats", "tls", "ws", "wss"); err != nil {
		errs.Addf("nats.url", "%v", err)
	}
	positive(&errs, "nats.reconnect_wait", a.NATS.ReconnectWait)
	positive(&errs, "nats.publish_timeout", a.NATS.PublishTimeout)

	if a.Scan.Interval < MinScanInterval {
		errs.Addf("scan.interval", "at least %s, got %s", settings.FormatDuration(MinScanInterval), settings.FormatDuration(a.Scan.Interval))
	}
	if a.Scan.Jitter >= a.Scan.Interval {
		// Jitter as large as the interval would let two scans run back to
		// back and make the stale deadline unreliable.
		errs.Addf("scan.jitter", "must be less than scan.interval (%s), got %s", settings.FormatDuration(a.Scan.Interval), settings.FormatDuration(a.Scan.Jitter))
	}
	if !filepath.IsAbs(a.Scan.Root) {
		errs.Addf("scan.root", "want an absolute directory, got %q", a.Scan.Root)
	}
	positive(&errs, "scan.check_timeout", a.Scan.CheckTimeout)

	if a.Heartbeat.Interval < MinHeartbeatInterval {
		errs.Addf("heartbeat.interval", "at least %s, got %s", settings.FormatDuration(MinHeartbeatInterval), settings.FormatDuration(a.Heartbeat.Interval))
	}

	if a.Spool.MaxBytes < MinSpoolBytes {
		errs.Addf("spool.max_bytes", "at least %s, got %s", MinSpoolBytes, a.Spool.MaxBytes)
	}
	if a.Spool.MaxReports < 1 {
		errs.Addf("spool.max_reports", "at least 1, got %d", a.Spool.MaxReports)
	}

	if a.Identity.ECSMetadata {
		if err := settings.CheckURL(a.Identity.ECSMetadataURL, "http", "https"); err != nil {
			errs.Addf("identity.ecs_metadata_url", "%v", err)
		}
		positive(&errs, "identity.ecs_metadata_timeout", a.Identity.ECSMetadataTimeout)
	}

	if a.Plugins.Dir != "" && !filepath.IsAbs(a.Plugins.Dir) {
		errs.Addf("plugins.dir", "want an absolute directory, got %q", a.Plugins.Dir)
	}
	if a.Plugins.LockFile != "" && !filepath.IsAbs(a.Plugins.LockFile) {
		errs.Addf("plugins.lock_file", "want an absolute path, got %q", a.Plugins.LockFile)
	}
	if a.Plugins.Budget < time.Second {
		errs.Addf("plugins.budget", "at least 1s, got %s", settings.FormatDuration(a.Plugins.Budget))
	}
	positive(&errs, "plugins.start_timeout", a.Plugins.StartTimeout)
	if a.Plugins.OutputBytes < 1<<10 {
		errs.Addf("plugins.output_bytes", "at least 1KiB, got %s", a.Plugins.OutputBytes)
	}

	a.Log.Validate(&errs, "log")
	return errs.Err()
}

func positive(errs *settings.Errors, key string, d time.Duration) {
	if d <= 0 {
		errs.Addf(key, "must be more than 0s")
	}
}
