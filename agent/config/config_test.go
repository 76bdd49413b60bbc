package config

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks/settings"
)

const packaged = "../../packaging/agent.yaml"

func TestDefaultIsValid(t *testing.T) {
	t.Parallel()
	d := Default()
	if err := d.Validate(); err != nil {
		t.Fatalf("Default() does not validate:\n%v", err)
	}
}

// commentedKey matches a commented-out default ("  #interval: 1h"), as
// opposed to a doc comment ("  # Time between scans").
var commentedKey = regexp.MustCompile(`(?m)^(\s*)#([a-z_]+:.*)$`)

// TestPackagedFileIsTheDefaults keeps packaging/agent.yaml honest: as
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
	a := Default()
	origins, err := settings.Parse(packaged+" (uncommented)", enabled, &a)
	if err != nil {
		t.Fatalf("packaged file with its defaults enabled:\n%v", err)
	}
	if a != Default() {
		for _, f := range Fields() {
			for _, g := range settings.Fields(a, EnvPrefix) {
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

func TestEnvNames(t *testing.T) {
	t.Parallel()
	var names []string
	for _, f := range Fields() {
		names = append(names, f.Env)
	}
	for _, want := range []string{"PLUMBLINE_HOST_ID", "PLUMBLINE_NATS_URL", "PLUMBLINE_SCAN_INTERVAL",
		"PLUMBLINE_SPOOL_MAX_BYTES", "PLUMBLINE_IDENTITY_ECS_METADATA_URL", "PLUMBLINE_LOG_LEVEL"} {
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
	good := write("good.yaml", `group: web
nats:
  url: nats://n1:4222,nats://n2:4222
  credentials: /etc/plumbline/agent.creds
scan:
  interval: 30m
  jitter: 2m
spool:
  max_bytes: 16MiB
log:
  format: json
`)
	bad := write("bad.yaml", `group: "web servers"
nats:
  url: http://n1:4222
scan:
  interval: 30s
  jitter: soon
  at_start: yes
spool:
  max_byte: 1
`)
	absent := filepath.Join(dir, "absent.yaml")

	tests := []struct {
		name     string
		path     string
		explicit bool
		env      []string
		check    func(*Agent) bool
		wantErr  []string
	}{
		{
			name:  "absent default file gives the defaults",
			path:  absent,
			check: func(a *Agent) bool { return *a == Default() },
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
			check: func(a *Agent) bool {
				return a.Group == "web" && a.NATS.URL == "nats://n1:4222,nats://n2:4222" &&
					a.NATS.Credentials == "/etc/plumbline/agent.creds" && a.Scan.Interval == 30*time.Minute &&
					a.Scan.Jitter == 2*time.Minute && a.Spool.MaxBytes == 16<<20 && a.Log.Format == "json" &&
					a.Scan.CheckTimeout == 10*time.Second // untouched keys keep their default
			},
		},
		{
			name: "environment over file over defaults",
			path: good,
			env: []string{"PLUMBLINE_NATS_URL=tls://n3:4222", "PLUMBLINE_SCAN_INTERVAL=2h",
				"PLUMBLINE_SPOOL_MAX_BYTES=128MiB", "PLUMBLINE_CONFIG=" + good, "PLUMBLINE_HOST_ID=web-1", "HOME=/root"},
			check: func(a *Agent) bool {
				return a.NATS.URL == "tls://n3:4222" && a.Scan.Interval == 2*time.Hour &&
					a.Spool.MaxBytes == 128<<20 && a.HostID == "web-1" && a.Group == "web"
			},
		},
		{
			name: "every problem at once, each where it was set",
			path: bad,
			env:  []string{"PLUMBLINE_HEARTBEAT_INTERVAL=1s", "PLUMBLINE_SCAN_INTERVALL=1h", "PLUMBLINE_LOG_LEVEL=verbose"},
			wantErr: []string{
				bad + `:1: group: group "web servers": want 1-128 characters of A-Z a-z 0-9 _ -`,
				bad + `:3: nats.url: "http://n1:4222": want a URL starting with nats:// or tls:// or ws:// or wss://`,
				bad + ":5: scan.interval: at least 1m, got 30s",
				bad + `:6: scan.jitter: want a duration such as "500ms", "90s", "5m" or "1h", got "soon"`,
				bad + `:7: scan.at_start: want true or false, got "yes"`,
				bad + ":9: spool.max_byte: unknown key (did you mean spool.max_bytes?)",
				"environment PLUMBLINE_HEARTBEAT_INTERVAL: heartbeat.interval: at least 5s, got 1s",
				`environment PLUMBLINE_LOG_LEVEL: log.level: want debug, info, warn or error, got "verbose"`,
				"environment PLUMBLINE_SCAN_INTERVALL: names no setting (did you mean PLUMBLINE_SCAN_INTERVAL?)",
			},
		},
		{
			name:    "a bad variable is named",
			path:    absent,
			env:     []string{"PLUMBLINE_SPOOL_MAX_BYTES=64MB", "PLUMBLINE_NATS_PUBLISH_TIMEOUT=10"},
			wantErr: []string{`environment PLUMBLINE_NATS_PUBLISH_TIMEOUT: nats.publish_timeout: want a duration such as "500ms", "90s", "5m" or "1h", got "10"`},
		},
		{
			name:    "jitter checked against the interval from another source",
			path:    good,
			env:     []string{"PLUMBLINE_SCAN_JITTER=30m"},
			wantErr: []string{"environment PLUMBLINE_SCAN_JITTER: scan.jitter: must be less than scan.interval (30m), got 30m"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := Load(tt.path, tt.explicit, tt.env)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error; loaded %+v", a)
				}
				if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, tt.wantErr) {
					t.Errorf("errors:\n%v\nwant:\n%s", err, strings.Join(tt.wantErr, "\n"))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(a) {
				t.Errorf("loaded %+v", a)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Agent)
		want   []string // every problem; nil for valid
	}{
		{"defaults", func(*Agent) {}, nil},
		{"host id with a dot", func(a *Agent) { a.HostID = "web.1" },
			[]string{`host_id: host id "web.1": want 1-128 characters of A-Z a-z 0-9 _ -`}},
		{"instance id as host id", func(a *Agent) { a.HostID = "i-bp1abcdefghijk" }, nil},
		{"group too long", func(a *Agent) { a.Group = strings.Repeat("g", 129) },
			[]string{`group: group "` + strings.Repeat("g", 129) + `": want 1-128 characters of A-Z a-z 0-9 _ -`}},
		{"no data dir", func(a *Agent) { a.DataDir = "" }, []string{"data_dir: must not be empty"}},
		{"no NATS URL", func(a *Agent) { a.NATS.URL = "" }, []string{"nats.url: want at least one URL"}},
		{"NATS URL list with a bad one", func(a *Agent) { a.NATS.URL = "nats://a:4222, n2:4222" },
			[]string{`nats.url: "n2:4222": want a URL starting with nats:// or tls:// or ws:// or wss://`}},
		{"zero durations", func(a *Agent) {
			a.NATS.ReconnectWait, a.NATS.PublishTimeout, a.Scan.CheckTimeout = 0, 0, 0
		}, []string{"nats.reconnect_wait: must be more than 0s", "nats.publish_timeout: must be more than 0s",
			"scan.check_timeout: must be more than 0s"}},
		{"zero reconnect jitter is fine", func(a *Agent) { a.NATS.ReconnectJitter = 0 }, nil},
		{"interval below the minimum", func(a *Agent) { a.Scan.Interval, a.Scan.Jitter = 59*time.Second, 0 },
			[]string{"scan.interval: at least 1m, got 59s"}},
		{"interval at the minimum", func(a *Agent) { a.Scan.Interval, a.Scan.Jitter = time.Minute, 0 }, nil},
		{"jitter equal to the interval", func(a *Agent) { a.Scan.Interval, a.Scan.Jitter = 10*time.Minute, 10*time.Minute },
			[]string{"scan.jitter: must be less than scan.interval (10m), got 10m"}},
		{"jitter just below the interval", func(a *Agent) { a.Scan.Interval, a.Scan.Jitter = 10*time.Minute, 9*time.Minute }, nil},
		{"relative root", func(a *Agent) { a.Scan.Root = "host" }, []string{`scan.root: want an absolute directory, got "host"`}},
		{"heartbeat too often", func(a *Agent) { a.Heartbeat.Interval = 4 * time.Second },
			[]string{"heartbeat.interval: at least 5s, got 4s"}},
		{"spool too small", func(a *Agent) { a.Spool.MaxBytes, a.Spool.MaxReports = 512<<10, 0 },
			[]string{"spool.max_bytes: at least 1MiB, got 512KiB", "spool.max_reports: at least 1, got 0"}},
		{"metadata URL not http", func(a *Agent) { a.Identity.ECSMetadataURL = "100.100.100.200" },
			[]string{`identity.ecs_metadata_url: "100.100.100.200": want a URL starting with http:// or https://`}},
		{"metadata URL list", func(a *Agent) { a.Identity.ECSMetadataURL = "http://a,http://b" },
			[]string{`identity.ecs_metadata_url: "http://a,http://b": "a,http" is not a host name or address`}},
		{"metadata settings ignored when disabled", func(a *Agent) {
			a.Identity.ECSMetadata, a.Identity.ECSMetadataURL, a.Identity.ECSMetadataTimeout = false, "", 0
		}, nil},
		{"metadata timeout zero", func(a *Agent) { a.Identity.ECSMetadataTimeout = 0 },
			[]string{"identity.ecs_metadata_timeout: must be more than 0s"}},
		{"log", func(a *Agent) { a.Log.Level, a.Log.Format = "trace", "logfmt" },
			[]string{`log.level: want debug, info, warn or error, got "trace"`, `log.format: want text or json, got "logfmt"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := Default()
			tt.change(&a)
			err := a.Validate()
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
		{"", []string{"PLUMBLINE_CONFIG=/srv/agent.yaml"}, "/srv/agent.yaml", true},
		{"/x.yaml", []string{"PLUMBLINE_CONFIG=/srv/agent.yaml"}, "/x.yaml", true},
		{"", []string{"PLUMBLINE_CONFIG="}, DefaultPath, false},
		{DefaultPath, nil, DefaultPath, true},
	}
	for _, tt := range tests {
		got, explicit := Path(tt.flag, tt.env)
		if got != tt.want || explicit != tt.wantExplicit {
			t.Errorf("Path(%q, %v) = %q, %v; want %q, %v", tt.flag, tt.env, got, explicit, tt.want, tt.wantExplicit)
		}
	}
}
