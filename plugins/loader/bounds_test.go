package loader

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/baseline"
	"github.com/plumbline/plumbline/checks/engine"
	"github.com/plumbline/plumbline/checks/report"
)

// TestPluginOutputBounded covers a plugin whose results, each within the
// per-result bounds, together exceed what a report may carry: unbounded, the
// daemon would drop the whole report (report.MaxSize), the built-in checks'
// results with it. The plugin's text is cut at its own budget instead, its
// statuses kept, and the cut noted in Refs.
func TestPluginOutputBounded(t *testing.T) {
	t.Parallel()
	dir := newPluginDir(t)
	exe := install(t, dir, "rogue", "rogue")
	h := fixtureHost(t)
	s := open(t, Config{Dir: dir, Pins: pinAll(t, dir, "rogue")}, h)
	entries := []baseline.Entry{entry(t, s, "rogue.ok", nil)}
	for i := 1; i <= 5; i++ {
		entries = append(entries, entry(t, s, fmt.Sprintf("rogue.bulky_%d", i), nil))
	}
	rs := engine.Run(context.Background(), h, entries, engine.Options{CheckTimeout: 5 * time.Second})

	data, err := json.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	if limit := maxPluginResultBytes + 64<<10; len(data) > limit {
		t.Errorf("the plugin's results encode to %d bytes, want at most %d (report.MaxSize is %d)", len(data), limit, report.MaxSize)
	}
	if rs[0].Status != checks.StatusPass || rs[0].Message != "ok" {
		t.Errorf("rogue.ok = %s %q, want PASS \"ok\"", rs[0].Status, rs[0].Message)
	}
	for _, r := range rs[1:] {
		if r.Status != checks.StatusFail {
			t.Errorf("%s = %s, want its FAIL kept", r.ID, r.Status)
		}
		if !strings.Contains(r.Message, "exceeded its 256 KiB of results in this scan") {
			t.Errorf("%s message = %.200q, want it to say the plugin's results were cut", r.ID, r.Message)
		}
	}
	if ref := refOf(t, s, "rogue"); !strings.Contains(ref.Error, "returned more than 256 KiB of messages and evidence; those of 5 check(s) were dropped") {
		t.Errorf("Refs error = %q, want the cut noted", ref.Error)
	}
	s.Close()
	assertNoProcessRuns(t, exe)
}

// TestPluginErrorTextBounded covers a plugin that fails its run with an
// error of a megabyte: the text becomes every unfinished check's message, so
// it is cut.
func TestPluginErrorTextBounded(t *testing.T) {
	t.Parallel()
	dir := newPluginDir(t)
	install(t, dir, "rogue", "rogue")
	h := fixtureHost(t)
	s := open(t, Config{Dir: dir, Pins: pinAll(t, dir, "rogue")}, h)
	rs := run(h, 5*time.Second, entry(t, s, "rogue.loud_error", nil))
	r := rs["rogue.loud_error"]
	if r.Status != checks.StatusError || !strings.HasPrefix(r.Message, "plugin rogue: plugin connection failed: loud: xxx") {
		t.Errorf("rogue.loud_error = %s %.200q, want ERROR with the plugin's error", r.Status, r.Message)
	}
	if len(r.Message) > 2048 {
		t.Errorf("rogue.loud_error message is %d bytes, want it cut", len(r.Message))
	}
}

// TestLongDescriptionRefused: a plugin's version goes into every report,
// and each check's title into each of its results, as they are.
func TestLongDescriptionRefused(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ bin, want string }{
		{"rogue_longversion", "plugin rogue: describes a version of 200 bytes; at most 128"},
		{"rogue_longtitle", "plugin rogue: invalid description: check rogue.ok: title is 302 bytes long; at most 256"},
	} {
		t.Run(tt.bin, func(t *testing.T) {
			t.Parallel()
			dir := newPluginDir(t)
			install(t, dir, tt.bin, "rogue")
			h := fixtureHost(t)
			s := open(t, Config{Dir: dir, Pins: pinAll(t, dir, "rogue")}, h)
			ref := refOf(t, s, "rogue")
			if !strings.Contains(ref.Error, tt.want) || len(ref.Version) > 128 {
				t.Errorf("Refs = version %q, error %.300q; want an error containing %q", ref.Version, ref.Error, tt.want)
			}
			if got := len(s.Checks()); got != 0 {
				t.Errorf("Checks() = %d checks, want none from a refused plugin", got)
			}
		})
	}
}

// TestCheckDirFollowsLinks: a plugin directory reached through a symbolic
// link is only as safe as the directories the link leads through, and as
// the link itself.
func TestCheckDirFollowsLinks(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a directory to another user needs root")
	}
	t.Parallel()
	base := t.TempDir()
	mkdir := func(p string, mode os.FileMode, uid int) string {
		t.Helper()
		if err := os.Mkdir(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // umask
			t.Fatal(err)
		}
		if err := os.Lchown(p, uid, uid); err != nil {
			t.Fatal(err)
		}
		return p
	}
	link := func(target, p string, uid int) string {
		t.Helper()
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(p, uid, uid); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A user's home holding a root-owned plugin directory: the user can
	// rename it away and put another in its place.
	home := mkdir(filepath.Join(base, "home"), 0o755, 4242)
	inHome := mkdir(filepath.Join(home, "plugins"), 0o755, 0)
	good := mkdir(filepath.Join(base, "good"), 0o755, 0)
	sticky := mkdir(filepath.Join(base, "sticky"), 0o777|os.ModeSticky, 0)
	relDir := mkdir(filepath.Join(base, "rel"), 0o755, 0)
	tests := []struct {
		name, dir, want string
	}{
		{"plain", good, ""},
		{"root's link to a safe directory", link(good, filepath.Join(base, "ok-link"), 0), ""},
		{"relative link through ..", link("../good", filepath.Join(relDir, "up"), 0), ""},
		{"link into a user's directory", link(inHome, filepath.Join(base, "to-home"), 0), home + " is owned by uid 4242"},
		{"relative link into a user's directory", link("home/plugins", filepath.Join(base, "rel-home"), 0), home + " is owned by uid 4242"},
		{"another user's link in a sticky directory", link(good, filepath.Join(sticky, "theirs"), 4242), filepath.Join(sticky, "theirs") + " is a symbolic link owned by uid 4242"},
		{"a user's directory itself", inHome, home + " is owned by uid 4242"},
		{"sticky directory itself", sticky, sticky + " is writable by group or others (mode 0777)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkDir(tt.dir)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("checkDir(%s) = %v, want nil", tt.dir, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("checkDir(%s) = %v, want an error containing %q", tt.dir, err, tt.want)
			}
		})
	}
}

// TestRunDirVetted: the run directory receives process records (written
// by root, following links) and sockets. One someone else made first, or a
// link in its place, is refused rather than used.
func TestRunDirVetted(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	victim := filepath.Join(base, "victim")
	if err := os.Mkdir(victim, 0o755); err != nil {
		t.Fatal(err)
	}
	linked := filepath.Join(base, "run-link")
	if err := os.Symlink(victim, linked); err != nil {
		t.Fatal(err)
	}
	h := fixtureHost(t)
	cfg := Config{Dir: newPluginDir(t), RunDir: linked}
	if _, err := Open(context.Background(), cfg, h); err == nil || !strings.Contains(err.Error(), "not a directory (L") {
		t.Errorf("Open with a run directory that is a link: err = %v, want it refused", err)
	}
	fi, err := os.Stat(victim)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("the link's target was changed to mode %04o", fi.Mode().Perm())
	}

	if os.Geteuid() != 0 {
		return
	}
	theirs := filepath.Join(base, "theirs")
	if err := os.Mkdir(theirs, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(theirs, 0o777); err != nil { // umask
		t.Fatal(err)
	}
	if err := os.Chown(theirs, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	cfg.RunDir = theirs
	if _, err := Open(context.Background(), cfg, h); err == nil || !strings.Contains(err.Error(), "owned by uid 4242") {
		t.Errorf("Open with another user's run directory: err = %v, want it refused", err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(theirs, &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&0o777 != 0o777 {
		t.Errorf("another user's run directory was changed to mode %04o", st.Mode&0o777)
	}
}

// fanHost counts the reads of /fan/* in flight at once; each takes a while.
type fanHost struct {
	checks.Host
	mu             sync.Mutex
	inFlight, peak int
}

func (h *fanHost) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if !strings.HasPrefix(p, "/fan/") {
		return h.Host.ReadFile(ctx, p)
	}
	h.mu.Lock()
	h.inFlight++
	h.peak = max(h.peak, h.inFlight)
	h.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	h.mu.Lock()
	h.inFlight--
	h.mu.Unlock()
	return []byte("x"), nil
}

// TestHostCallsBounded: each host answer is held in the agent until the
// plugin takes it in, and one ReadFile may be 16 MiB. A plugin reading many
// files at once (its checks all run at once) must not make the agent hold
// them all: unbounded, 200 reads of a 12 MiB file took the agent to 5 GiB.
func TestHostCallsBounded(t *testing.T) {
	t.Parallel()
	dir := newPluginDir(t)
	install(t, dir, "good", "good")
	h := &fanHost{Host: fixtureHost(t)}
	s := open(t, Config{Dir: dir, Pins: pinAll(t, dir, "good")}, h)
	rs := run(h, 10*time.Second, entry(t, s, "good.fanout", map[string]any{"n": 32}))
	if r := rs["good.fanout"]; r.Status != checks.StatusPass {
		t.Fatalf("good.fanout = %s %q, want PASS", r.Status, r.Message)
	}
	if h.peak > hostStreams {
		t.Errorf("%d host reads in flight at once, want at most %d", h.peak, hostStreams)
	}
}
