package loader

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/hostfs"
	"github.com/plumbline/plumbline/plugins/pluginpb"
)

// dialEverySocket calls, on every socket under dir, the plugin's Describe
// and the host service's ReadFile, and returns what answered.
func dialEverySocket(dir string) []string {
	var answered []string
	socks, _ := filepath.Glob(filepath.Join(dir, "plugin-dir*", "*"))
	for _, sock := range socks {
		conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if _, err := pluginpb.NewPluginClient(conn).Describe(ctx, &pluginpb.DescribeRequest{}); err == nil {
			answered = append(answered, "Describe on "+sock)
		}
		if r, err := pluginpb.NewHostClient(conn).ReadFile(ctx, &pluginpb.PathRequest{Path: "/etc/os-release"}); err == nil && r.GetError() == nil {
			answered = append(answered, "ReadFile on "+sock)
		}
		cancel()
		conn.Close()
	}
	return answered
}

// TestPeerDial is not a test: TestSocketsAdmitOnlyAgentAndPlugin runs the
// test binary as another user with this one selected, to dial as that user.
func TestPeerDial(t *testing.T) {
	dir := os.Getenv("PLUMBLINE_TEST_PEER_DIR")
	if dir == "" {
		t.Skip("helper for TestSocketsAdmitOnlyAgentAndPlugin; runs only when it starts it")
	}
	fmt.Printf("answered: %q\n", dialEverySocket(dir))
}

// The sockets of a session admit only the agent (to the plugin) and the
// plugin (to the host service): not another process of the agent's user,
// and not another process of the plugin's user, although the socket
// directory is group-writable for the plugin's user.
func TestSocketsAdmitOnlyAgentAndPlugin(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("running a plugin and a peer as another user needs root (not root here)")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody on this machine: %v", err)
	}
	dir := newPluginDir(t)
	install(t, dir, "good", "good")
	live, err := hostfs.New(hostfs.Options{Root: "/"})
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, Config{Dir: dir, Pins: pinAll(t, dir, "good"), User: "nobody"}, live)
	sockDir := s.cfg.socketDir

	// The agent's process (this one) reaches the plugin but not the host
	// service, which is the plugin's alone.
	for _, a := range dialEverySocket(sockDir) {
		if strings.HasPrefix(a, "ReadFile") {
			t.Errorf("a process other than the plugin used the host service: %s", a)
		}
	}
	// A process of the plugin's user reaches neither.
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	// The test binary, where that user may run it.
	binDir := shortTempDir(t)
	os.Chmod(binDir, 0o755)
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	peerBin := filepath.Join(binDir, "peer.test")
	if err := os.WriteFile(peerBin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(peerBin, "-test.run=^TestPeerDial$", "-test.v")
	cmd.Env = append(os.Environ(), "PLUMBLINE_TEST_PEER_DIR="+sockDir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("peer as nobody: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "answered: []") {
		t.Errorf("a process of the plugin's user got answers:\n%s", out)
	}
	// The plugin itself still works.
	if r := run(live, 10*time.Second, entry(t, s, "good.pass", nil))["good.pass"]; r.Status != checks.StatusPass {
		t.Errorf("good.pass = %s %q", r.Status, r.Message)
	}
}
