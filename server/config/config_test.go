package config

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks/settings"
)

const packaged = "../../packaging/server.yaml"

func TestDefaultIsValid(t *testing.T) {
	t.Parallel()
	d := Default()
	if err := d.Validate(); err != nil {
		t.Fatalf("Default() does not validate:\n%v", err)
	}
	if !d.Embedded() {
		t.Error("the default server does not embed NATS")
	}
}

// commentedKey matches a commented-out default ("  #batch: 256"), as
// opposed to a doc comment ("  # Most reports fetched").
var commentedKey = regexp.MustCompile(`(?m)^(\s*)#([a-z_]+:.*)$`)

// TestPackagedFileIsTheDefaults keeps packaging/server.yaml honest: as
// shipped it changes nothing, with every commented-out value enabled it
// still gives exactly Default(), and it names every key.
func TestPackagedFileIsTheDefaults(t *testing.T) {
	t.Parallel()
	got, err := Load(packaged, true, nil)
	if err != nil {
		t.Fatalf("packaged file as shipped: %v", err)
	}
	if *got != Default() {
		t.Errorf("packaged file as shipped gives\n%+v\nwant Default()\n%+v", *got, Default())
	}

	data, err := os.ReadFile(packaged)
	if err != nil {
		t.Fatal(err)
	}
	enabled := commentedKey.ReplaceAll(data, []byte("$1$2"))
	s := Default()
	origins, err := settings.Parse(packaged+" (uncommented)", enabled, &s)
	if err != nil {
		t.Fatalf("packaged file with its defaults enabled:\n%v", err)
	}
	if s != Default() {
		for _, f := range Fields() {
			for _, g := range settings.Fields(s, EnvPrefix) {
				if g.Key == f.Key && g.Value != f.Value {
					t.Errorf("%s: packaged file says %s, Default() is %s", f.Key, g.Value, f.Value)
				}
			}
		}
	}
	for _, f := range Fields() {
		if _, ok := origins[f.Key]; !ok {
			t.Errorf("%s is not in %s", f.Key, packaged)
		}
		if f.Doc == "" {
			t.Errorf("%s has no doc tag", f.Key)
		}
	}
}

// TestDoesNotImportAgent holds the line DESIGN.md draws: the server never
// imports the agent.
func TestDoesNotImportAgent(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to list dependencies with")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/plumbline/plumbline/agent") {
			t.Errorf("server/config depends on %s", dep)
		}
	}
}

func TestEnvNames(t *testing.T) {
	t.Parallel()
	var names []string
	for _, f := range Fields() {
		names = append(names, f.Env)
	}
	for _, want := range []string{"PLUMBLINE_DATA_DIR", "PLUMBLINE_LISTEN", "PLUMBLINE_NATS_URL", "PLUMBLINE_NATS_SYNC_ALWAYS",
		"PLUMBLINE_INGEST_MAX_REPORT_BYTES", "PLUMBLINE_DRIFT_STALE_GRACE", "PLUMBLINE_LOG_FORMAT"} {
		if !slices.Contains(names, want) {
			t.Errorf("no variable %s among %v", want, names)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", `listen: 0.0.0.0:8443
nats:
  url: nats://nats-1:4222,nats://nats-2:4222
  sync_always: true
ingest:
  batch: 64
  max_report_bytes: 8MiB
drift:
  stale_grace: 10m
`)
	bad := write("bad.yaml", `listen: 8080
nats:
  max_payload: 128MiB
  max_connections: lots
ingest:
  batch: 0
drift:
  default_interval: 30s
  sweep: 1m
`)
	absent := filepath.Join(dir, "absent.yaml")

	tests := []struct {
		name     string
		path     string
		explicit bool
		env      []string
		check    func(*Server) bool
		wantErr  []string
	}{
		{
			name:  "absent default file gives the defaults",
			path:  absent,
			check: func(s *Server) bool { return *s == Default() },
		},
		{
			name:     "absent explicit file is an error",
			path:     absent,
			explicit: true,
			wantErr:  []string{"read settings file: open " + absent + ": no such file or directory"},
		},
		{
			name: "file values",
			path: good,
			check: func(s *Server) bool {
				return s.Listen == "0.0.0.0:8443" && !s.Embedded() && s.NATS.SyncAlways && s.Ingest.Batch == 64 &&
					s.Ingest.MaxReportBytes == 8<<20 && s.Drift.StaleGrace == 10*time.Minute &&
					s.NATS.MaxPayload == 4<<20 // untouched keys keep their default
			},
		},
		{
			name: "environment over file over defaults",
			path: good,
			env:  []string{"PLUMBLINE_NATS_URL=", "PLUMBLINE_NATS_SYNC_ALWAYS=false", "PLUMBLINE_INGEST_MAX_WAIT=1s", "PLUMBLINE_CONFIG=" + good},
			check: func(s *Server) bool {
				return s.Embedded() && !s.NATS.SyncAlways && s.Ingest.MaxWait == time.Second && s.Ingest.Batch == 64
			},
		},
		{
			name: "every problem at once, each where it was set",
			path: bad,
			env:  []string{"PLUMBLINE_DRIFT_SWEEP_EVERY=0s", "PLUMBLINE_INGEST_BATCHES=1"},
			wantErr: []string{
				bad + `:1: listen: want host:port such as 127.0.0.1:8080, got "8080"`,
				bad + ":3: nats.max_payload: want 1 to 64MiB, got 128MiB",
				bad + `:4: nats.max_connections: want a whole number, got "lots"`,
				bad + ":6: ingest.batch: at least 1, got 0",
				bad + ":8: drift.default_interval: at least 1m, got 30s",
				bad + ":9: drift.sweep: unknown key (did you mean drift.sweep_every?)",
				"environment PLUMBLINE_DRIFT_SWEEP_EVERY: drift.sweep_every: must be more than 0s",
				"environment PLUMBLINE_INGEST_BATCHES: names no setting (did you mean PLUMBLINE_INGEST_BATCH?)",
			},
		},
		{
			name:    "an agent-only variable is not a server setting",
			path:    absent,
			env:     []string{"PLUMBLINE_SCAN_INTERVAL=1h"},
			wantErr: []string{"environment PLUMBLINE_SCAN_INTERVAL: names no setting"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Load(tt.path, tt.explicit, tt.env)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error; loaded %+v", s)
				}
				if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, tt.wantErr) {
					t.Errorf("errors:\n%v\nwant:\n%s", err, strings.Join(tt.wantErr, "\n"))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(s) {
				t.Errorf("loaded %+v", s)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Server)
		want   []string // every problem; nil for valid
	}{
		{"defaults", func(*Server) {}, nil},
		{"no data dir", func(s *Server) { s.DataDir = "" }, []string{"data_dir: must not be empty"}},
		{"listen without port", func(s *Server) { s.Listen = "localhost" },
			[]string{`listen: want host:port such as 127.0.0.1:8080, got "localhost"`}},
		{"listen on any address", func(s *Server) { s.Listen = ":8080" }, nil},
		{"external NATS", func(s *Server) { s.NATS.URL = "tls://nats-1:4222, tls://nats-2:4222" }, nil},
		{"external NATS not a URL", func(s *Server) { s.NATS.URL = "nats-1:4222" },
			[]string{`nats.url: "nats-1:4222": want a URL starting with nats:// or tls:// or ws:// or wss://`}},
		{"embedded listen port out of range", func(s *Server) { s.NATS.Listen = "0.0.0.0:70000" },
			[]string{`nats.listen: port "70000" of "0.0.0.0:70000": want a number from 0 to 65535`}},
		{"no connections", func(s *Server) { s.NATS.MaxConnections = 0 }, []string{"nats.max_connections: at least 1, got 0"}},
		{"payload at the limit", func(s *Server) { s.NATS.MaxPayload = 64 << 20 }, nil},
		{"payload over the limit", func(s *Server) { s.NATS.MaxPayload = 64<<20 + 1 },
			[]string{"nats.max_payload: want 1 to 64MiB, got 67108865"}},
		{"payload zero", func(s *Server) { s.NATS.MaxPayload = 0 }, []string{"nats.max_payload: want 1 to 64MiB, got 0"}},
		{"zero durations", func(s *Server) {
			s.NATS.DuplicateWindow, s.Ingest.MaxWait, s.Drift.SweepEvery = 0, 0, 0
		}, []string{"nats.duplicate_window: must be more than 0s", "ingest.max_wait: must be more than 0s",
			"drift.sweep_every: must be more than 0s"}},
		{"zero grace is fine", func(s *Server) { s.Drift.StaleGrace = 0 }, nil},
		{"ingest", func(s *Server) { s.Ingest.Batch, s.Ingest.MaxReportBytes = -1, 0 },
			[]string{"ingest.batch: at least 1, got -1", "ingest.max_report_bytes: at least 1, got 0"}},
		{"drift interval too short", func(s *Server) { s.Drift.DefaultInterval = 59 * time.Second },
			[]string{"drift.default_interval: at least 1m, got 59s"}},
		{"log", func(s *Server) { s.Log.Format = "yaml" }, []string{`log.format: want text or json, got "yaml"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := Default()
			tt.change(&s)
			err := s.Validate()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Validate:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		flag         string
		env          []string
		want         string
		wantExplicit bool
	}{
		{"", nil, DefaultPath, false},
		{"", []string{"PLUMBLINE_CONFIG=/srv/server.yaml"}, "/srv/server.yaml", true},
		{"/x.yaml", []string{"PLUMBLINE_CONFIG=/srv/server.yaml"}, "/x.yaml", true},
	}
	for _, tt := range tests {
		got, explicit := Path(tt.flag, tt.env)
		if got != tt.want || explicit != tt.wantExplicit {
			t.Errorf("Path(%q, %v) = %q, %v; want %q, %v", tt.flag, tt.env, got, explicit, tt.want, tt.wantExplicit)
		}
	}
}
