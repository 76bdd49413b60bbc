package service

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/checks/report/reporttest"
	"github.com/plumbline/plumbline/server/natsd"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func publish(t *testing.T, url string, r *report.Report) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	data, _ := json.Marshal(r)
	msg := nats.NewMsg(report.ReportSubject(r.Host.ID))
	msg.Data = data
	if _, err := js.PublishMsg(context.Background(), msg, jetstream.WithMsgID(report.MsgID(r.Host.ID, r.Sequence)),
		jetstream.WithExpectStream(report.StreamName)); err != nil {
		t.Fatal(err)
	}
}

// The scale-out path: the server uses an external NATS (here a separate
// in-process server) instead of embedding one, creates its stream there,
// and ingests from it; /healthz and /metrics say what happened.
func TestExternalNATSHealthAndMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ext, err := natsd.Start(ctx, natsd.Options{Listen: "127.0.0.1:-1", StoreDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer ext.Shutdown()
	svc, err := Start(ctx, Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0", NATSURL: ext.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if code, body := get(t, svc.APIURL()+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("healthz %d %s", code, body)
	}
	publish(t, ext.ClientURL(), reporttest.NewHost("ext-host", 20).ReportAt(1))
	deadline := time.Now().Add(20 * time.Second)
	for svc.Ingest().Counts().Ingested == 0 {
		if time.Now().After(deadline) {
			t.Fatal("report not ingested from the external NATS")
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, metrics := get(t, svc.APIURL()+"/metrics")
	if code != 200 {
		t.Fatalf("metrics %d", code)
	}
	for _, want := range []string{
		`plumbline_reports_ingested_total{outcome="applied"} 1`,
		"plumbline_hosts 1",
		"plumbline_open_deviations 3", // reporttest: every 7th of 20 checks fails
		"plumbline_stale_hosts 0",
		"plumbline_ingest_latency_seconds_count 1",
		"plumbline_ingest_healthy 1",
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}
}

// Start refuses clearly when it cannot work, and leaves nothing running.
func TestStartErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for name, o := range map[string]Options{
		"no data dir":         {},
		"unreachable NATS":    {DataDir: t.TempDir(), NATSURL: "nats://127.0.0.1:1"},
		"API address in use":  {DataDir: t.TempDir(), Listen: busy.Addr().String(), NATSListen: "127.0.0.1:-1"},
		"NATS address in use": {DataDir: t.TempDir(), NATSListen: busy.Addr().String()},
		"bad API address":     {DataDir: t.TempDir(), Listen: "256.0.0.1:80", NATSListen: "127.0.0.1:-1"},
	} {
		svc, err := Start(ctx, o)
		if err == nil {
			svc.Close()
			t.Errorf("%s: started", name)
			continue
		}
		t.Logf("%s: %v", name, err)
	}
}
