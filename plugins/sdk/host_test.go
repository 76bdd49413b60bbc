package sdk

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/plugins/pluginpb"
	"github.com/plumbline/plumbline/plugins/protocol"
)

// countingHost serves two files and counts the reads that reach it; "/slow"
// answers only after its caller's deadline.
type countingHost struct {
	pluginpb.UnimplementedHostServer
	reads atomic.Int64
}

func (s *countingHost) ReadFile(ctx context.Context, req *pluginpb.PathRequest) (*pluginpb.ReadFileResponse, error) {
	s.reads.Add(1)
	switch req.GetPath() {
	case "/etc/sudoers":
		return &pluginpb.ReadFileResponse{Data: []byte("Defaults use_pty\n")}, nil
	case "/slow":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return &pluginpb.ReadFileResponse{Error: protocol.ErrorToPB(&fs.PathError{Op: "open", Path: req.GetPath(), Err: fs.ErrNotExist})}, nil
}

func serveHost(t *testing.T, srv pluginpb.HostServer) pluginpb.HostClient {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "host.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	pluginpb.RegisterHostServer(g, srv)
	go g.Serve(l)
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pluginpb.NewHostClient(conn)
}

// Within one Run each file crosses the process boundary once, callers get
// copies they may change, a missing file keeps its meaning, and a timeout
// is not remembered.
func TestRemoteHostCachesReadsPerRun(t *testing.T) {
	t.Parallel()
	srv := &countingHost{}
	h := (&remoteHost{client: serveHost(t, srv)}).withMemo()
	ctx := context.Background()

	a, err := h.ReadFile(ctx, "/etc/sudoers")
	if err != nil {
		t.Fatal(err)
	}
	a[0] = 'X'
	b, err := h.ReadFile(ctx, "/etc/sudoers")
	if err != nil || string(b) != "Defaults use_pty\n" {
		t.Errorf("second read = %q, %v; want the file unchanged by the first caller", b, err)
	}
	for range 2 {
		if _, err := h.ReadFile(ctx, "/etc/nope"); !errors.Is(err, fs.ErrNotExist) || err.Error() != "open /etc/nope: file does not exist" {
			t.Errorf("missing file: %v, want fs.ErrNotExist with the agent's text", err)
		}
	}
	if n := srv.reads.Load(); n != 2 {
		t.Errorf("%d reads reached the agent, want 2 (one per path)", n)
	}

	for range 2 {
		tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err := h.ReadFile(tctx, "/slow")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("slow read: %v, want context.DeadlineExceeded", err)
		}
	}
	if n := srv.reads.Load(); n < 4 {
		t.Errorf("a timed-out read was remembered: %d reads reached the agent, want at least 4", n)
	}

	// The next Run starts afresh.
	if _, err := (&remoteHost{client: h.client}).withMemo().ReadFile(ctx, "/etc/sudoers"); err != nil {
		t.Fatal(err)
	}
	if n := srv.reads.Load(); n < 5 {
		t.Errorf("a new Run reused the previous Run's reads")
	}
	var _ checks.Host = h
}
