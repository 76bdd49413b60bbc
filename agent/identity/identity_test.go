package identity

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbline/plumbline/agent/ecs"
	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/checktest"
	"github.com/plumbline/plumbline/checks/report"
)

const machineID = "0123456789abcdef0123456789abcdef"

// fixtureRoot is an image-like tree with a hostname and, optionally, a
// machine-id.
func fixtureRoot(t *testing.T, withMachineID bool) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"etc/hostname": "img-host\n"}
	if withMachineID {
		files["etc/machine-id"] = machineID + "\n"
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// liveHost stands for the running system while reading a fixture tree, so
// that the ECS path can be tested without this machine's /etc/machine-id.
type liveHost struct{ checks.Host }

func (liveHost) Live() bool { return true }

// metadataServer is a plain-mode ECS metadata service answering
// instance-id with id (404 when empty); hits counts its requests.
func metadataServer(t *testing.T, id string, hits *atomic.Int32) string {
	t.Helper()
	items := map[string]string{
		"instance-id": id,
		"region-id":   "cn-hangzhou",
		"zone-id":     "cn-hangzhou-i",
		"image-id":    "aliyun_3_x64_20G_alibase_20240528.vhd",
		"hostname":    "iZmetadataZ",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		v, ok := items[strings.TrimPrefix(r.URL.Path, "/latest/meta-data/")]
		if r.Method != http.MethodGet || !ok || v == "" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(v))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String()
}

// syncBuffer lets the logger and the test share a buffer under -race.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestResolve(t *testing.T) {
	t.Parallel()
	liveName, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	const instanceID = "i-bp1abcdefghijk012345"
	tests := []struct {
		name      string
		override  string
		ecs       string // "": ECS disabled; "serve": a metadata server; "serve:<id>"; "closed": nothing listening
		live      bool
		noMachine bool
		want      report.Identity
		wantErr   string
		wantHits  bool   // the metadata server was asked
		wantLog   string // in the log, when set
	}{
		{
			name: "machine-id when ECS is disabled",
			want: report.Identity{ID: machineID, IDSource: SourceMachineID, Hostname: "img-host"},
		},
		{
			name:     "override wins over ECS",
			override: "web-1",
			ecs:      "serve",
			live:     true,
			want:     report.Identity{ID: "web-1", IDSource: SourceConfig, Hostname: liveName},
		},
		{
			name:     "override must be a valid host id",
			override: "web 1",
			wantErr:  `host identity from host_id: host id "web 1": want 1-128 characters`,
		},
		{
			name:     "ECS on the live host",
			ecs:      "serve",
			live:     true,
			wantHits: true,
			want: report.Identity{ID: instanceID, IDSource: SourceECS, Hostname: liveName, InstanceID: instanceID,
				Region: "cn-hangzhou", Zone: "cn-hangzhou-i", ImageID: "aliyun_3_x64_20G_alibase_20240528.vhd"},
		},
		{
			name:      "ECS does not need a machine-id",
			ecs:       "serve",
			live:      true,
			noMachine: true,
			wantHits:  true,
			want: report.Identity{ID: instanceID, IDSource: SourceECS, Hostname: liveName, InstanceID: instanceID,
				Region: "cn-hangzhou", Zone: "cn-hangzhou-i", ImageID: "aliyun_3_x64_20G_alibase_20240528.vhd"},
		},
		{
			name:    "ECS never asked for an image",
			ecs:     "serve",
			want:    report.Identity{ID: machineID, IDSource: SourceMachineID, Hostname: "img-host"},
			wantLog: "level=DEBUG msg=\"ECS metadata not asked: the scanned root is not the live system\"",
		},
		{
			name:    "not an ECS instance: machine-id, quietly",
			ecs:     "closed",
			live:    true,
			want:    report.Identity{ID: machineID, IDSource: SourceMachineID, Hostname: liveName},
			wantLog: "level=DEBUG msg=\"host id falls back to machine-id\" error=\"ECS metadata service not reachable",
		},
		{
			name:     "metadata without an instance id: machine-id, with a warning",
			ecs:      "serve:",
			live:     true,
			wantHits: true,
			want:     report.Identity{ID: machineID, IDSource: SourceMachineID, Hostname: liveName},
			wantLog:  "level=WARN msg=\"host id falls back to machine-id\" error=\"ECS metadata at",
		},
		{
			name:     "instance id that cannot be a subject token: machine-id, with a warning",
			ecs:      "serve:i-abc.def",
			live:     true,
			wantHits: true,
			want:     report.Identity{ID: machineID, IDSource: SourceMachineID, Hostname: liveName},
			wantLog:  `level=WARN msg="host id falls back to machine-id" error="ECS instance id: host id \"i-abc.def\"`,
		},
		{
			name:      "nothing to go by",
			ecs:       "closed",
			live:      true,
			noMachine: true,
			wantErr:   "/etc/machine-id",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h checks.Host = checktest.Host(t, fixtureRoot(t, !tt.noMachine))
			if tt.live {
				h = liveHost{h}
			}
			var hits atomic.Int32
			var client *ecs.Client
			switch {
			case tt.ecs == "serve":
				client = &ecs.Client{BaseURL: metadataServer(t, instanceID, &hits), Timeout: 5 * time.Second}
			case strings.HasPrefix(tt.ecs, "serve:"):
				client = &ecs.Client{BaseURL: metadataServer(t, strings.TrimPrefix(tt.ecs, "serve:"), &hits), Timeout: 5 * time.Second}
			case tt.ecs == "closed":
				client = &ecs.Client{BaseURL: closedPort(t), Timeout: 5 * time.Second}
			}
			var logs syncBuffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

			got, err := Resolve(context.Background(), Options{Override: tt.override, ECS: client, Host: h, Logger: logger})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Resolve =\n%+v\nwant\n%+v", got, tt.want)
			}
			if err := report.ValidHostID(got.ID); err != nil {
				t.Error(err)
			}
			if asked := hits.Load() > 0; asked != tt.wantHits {
				t.Errorf("metadata service asked: %v, want %v", asked, tt.wantHits)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log:\n%s\nwant it to contain %s", logs.String(), tt.wantLog)
			}
		})
	}
}

func TestResolveWithoutHost(t *testing.T) {
	t.Parallel()
	if _, err := Resolve(context.Background(), Options{Override: "web-1"}); err == nil {
		t.Error("no error without a host")
	}
}
