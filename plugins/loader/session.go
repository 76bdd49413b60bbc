// Package loader is the agent's side of plugins: it matches the plugin
// directory against the sha256 pins, launches each plugin for one scan
// (verified, in its own session and process group, with a scrubbed
// environment), serves it the scanned host, runs its checks as a batch under
// deadlines, and kills it. Whatever a plugin does wrong becomes ERROR results
// for its own checks and a note in the report; the agent, the other plugins
// and the built-in checks carry on.
package loader

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/engine"
	"github.com/plumbline/plumbline/checks/osrelease"
	"github.com/plumbline/plumbline/checks/report"
	"github.com/plumbline/plumbline/plugins/pluginpb"
	"github.com/plumbline/plumbline/plugins/protocol"
)

// Defaults for Config.
const (
	DefaultCheckTimeout = 10 * time.Second
	DefaultBudget       = 60 * time.Second
	DefaultStartTimeout = 10 * time.Second
	DefaultOutputBytes  = 64 << 10
	// stopGrace is how long a plugin gets after Stop before its group is killed.
	stopGrace = time.Second
	// answerGrace is added to a batch's longest check deadline before the
	// agent gives up on a plugin that does not answer at all.
	answerGrace = 2 * time.Second
	// maxText bounds each text a plugin puts in a report (a result's
	// message, an evidence field, the plugin's version or error).
	maxText = 4096
	// maxPluginResultBytes bounds the text (messages and evidence) one
	// plugin contributes to a report: above report.MaxSize the whole report,
	// built-in checks included, would be dropped.
	maxPluginResultBytes = 256 << 10
	// maxVersion bounds the version a plugin describes.
	maxVersion = 128
)

// Config says which plugins to run and how.
type Config struct {
	// Dir holds the plugin binaries; a plugin's file name is its name.
	Dir string
	// Pins maps a plugin's file name to the sha256 of the binary; only
	// pinned plugins are launched.
	Pins map[string]string
	// CheckTimeout bounds each check (default 10 s).
	CheckTimeout time.Duration
	// Budget bounds a plugin's whole life in a scan, from launch to the
	// last result (default 60 s).
	Budget time.Duration
	// StartTimeout bounds the handshake and Describe (default 10 s).
	StartTimeout time.Duration
	// RunDir holds go-plugin's sockets and the records Sweep uses; default
	// a directory under os.TempDir. It is created 0700.
	RunDir string
	// OutputBytes bounds what is kept of each plugin's stdout and stderr.
	OutputBytes int
	// AgentVersion is told to plugins in Configure.
	AgentVersion string
	// Logger receives warnings; default slog.Default().
	Logger *slog.Logger
	// User, when set, is the user (name or uid) plugins run as when the
	// agent runs as root. Empty, or an agent that is not root, runs them as
	// the agent's own user.
	User string
	// Deny are paths on the live host the host service never serves to a
	// plugin (the agent's data directory, its credentials); the agent's own
	// /proc entry is always denied.
	Deny []string
	// cred is User resolved.
	cred *syscall.Credential
	// socketDir is where go-plugin puts its sockets: RunDir, unless that
	// path is too long for a unix socket address (108 bytes).
	socketDir string
	// Memory, when set, remembers each plugin's checks across sessions (the
	// daemon keeps one), so that when a plugin that ran before fails to
	// start, each of its checks still reports ERROR with the reason instead
	// of silently leaving the report.
	Memory *Memory
}

// Memory remembers the checks each plugin described; safe for concurrent use.
type Memory struct {
	mu     sync.Mutex
	byName map[string][]checks.Meta
}

func (m *Memory) remember(name string, metas []checks.Meta) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byName == nil {
		m.byName = map[string][]checks.Meta{}
	}
	m.byName[name] = metas
}

func (m *Memory) recall(name string) []checks.Meta {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byName[name]
}

func (c Config) withDefaults() Config {
	if c.CheckTimeout <= 0 {
		c.CheckTimeout = DefaultCheckTimeout
	}
	if c.Budget <= 0 {
		c.Budget = DefaultBudget
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = DefaultStartTimeout
	}
	if c.OutputBytes <= 0 {
		c.OutputBytes = DefaultOutputBytes
	}
	if c.RunDir == "" {
		c.RunDir = filepath.Join(os.TempDir(), fmt.Sprintf("plumbline-plugins-%d", os.Geteuid()))
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// prepareRunDir makes the run directory, or vets the one already there:
// the agent writes process records into it (as root, following links) and
// go-plugin puts the sockets of the plugins and of the host service there,
// so it must be a directory of the agent's own user, closed to everyone
// else. The default lies in the shared temporary directory, where anyone
// could have made it first, or put a symbolic link in its place.
func prepareRunDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("plugin run directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("plugin run directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("plugin run directory %s: not a directory (%s)", dir, fi.Mode().Type())
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; int(uid) != os.Geteuid() {
		return fmt.Errorf("plugin run directory %s: owned by uid %d, not by the agent's user (uid %d)", dir, uid, os.Geteuid())
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("plugin run directory: %w", err)
		}
	}
	return nil
}

// maxSocketBase leaves room under the socket directory for go-plugin's
// "plugin-dirNNNNNNNNN/pluginNNNNNNNNN" within a unix socket's 107 bytes.
const maxSocketBase = 64

func (c *Config) chooseSocketDir() error {
	c.socketDir = c.RunDir
	// A plugin running as another user must reach its socket directory,
	// which the run directory (0700, maybe under a 0700 data directory)
	// does not allow.
	if len(c.RunDir) <= maxSocketBase && c.cred == nil {
		return nil
	}
	dir, err := os.MkdirTemp("", "plumbline-plugins-")
	if err != nil {
		return fmt.Errorf("plugin socket directory: %w", err)
	}
	if c.cred != nil {
		if err := os.Chmod(dir, 0o711); err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("plugin socket directory: %w", err)
		}
	}
	c.socketDir = dir
	return nil
}

// resolveUser looks up User.
func (c *Config) resolveUser() error {
	c.cred = nil
	if c.User == "" {
		return nil
	}
	u, err := user.Lookup(c.User)
	if err != nil {
		if u, err = user.LookupId(c.User); err != nil {
			return fmt.Errorf("plugins.user %q: no such user", c.User)
		}
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("plugins.user %q: uid %s gid %s are not numbers", c.User, u.Uid, u.Gid)
	}
	if int(uid) == os.Geteuid() {
		return nil
	}
	if os.Geteuid() != 0 {
		// Not root: plugins cannot be given another user, and run as the
		// agent's own, which is unprivileged already.
		return nil
	}
	c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	return nil
}

func (c *Config) releaseSocketDir() {
	if c.socketDir != "" && c.socketDir != c.RunDir {
		_ = os.RemoveAll(c.socketDir)
	}
}

// Session is the plugins of one scan: launched and described by Open,
// run by the engine through their checks, killed by Close.
type Session struct {
	cfg     Config
	plugins []*loaded
	byID    map[string]*proxy
	// owner maps a plugin's name (its check id namespace) to it.
	owner map[string]*loaded
	// unavailable are the remembered checks of plugins that failed.
	unavailable []*unavailable
}

// loaded is one plugin in a session.
type loaded struct {
	cfg        *Config
	name, path string
	sha256     string
	version    string
	err        error // why it could not be launched or described
	proc       *process
	deadline   time.Time
	declared   map[string]bool
	metas      []checks.Meta

	mu       sync.Mutex
	notes    []string
	inflight int // Run calls not yet finished
}

// Open launches every pinned plugin in cfg.Dir concurrently, describes it
// and hands it h. It fails only when there is nothing sensible to do (the
// run directory cannot be made); a plugin that cannot be launched is kept
// with its error, so that its checks report ERROR with the reason.
func Open(ctx context.Context, cfg Config, h checks.Host) (*Session, error) {
	cfg = cfg.withDefaults()
	if err := prepareRunDir(cfg.RunDir); err != nil {
		return nil, err
	}
	if err := cfg.resolveUser(); err != nil {
		return nil, err
	}
	if err := cfg.chooseSocketDir(); err != nil {
		return nil, err
	}
	s := &Session{cfg: cfg, byID: map[string]*proxy{}, owner: map[string]*loaded{}}
	facts := hostFacts(ctx, h)
	var wg sync.WaitGroup
	for _, d := range discover(cfg.Dir, cfg.Pins) {
		l := &loaded{cfg: &s.cfg, name: d.name, path: d.path, err: d.err}
		s.plugins = append(s.plugins, l)
		if l.err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.err = boundErr(l.start(ctx, d.pin, h, facts))
		}()
	}
	wg.Wait()
	for _, l := range s.plugins {
		if l.err != nil {
			if _, pinned := cfg.Pins[l.name]; pinned {
				s.owner[l.name] = l
			}
			cfg.Logger.Warn("plugin not available", "plugin", l.name, "err", l.err)
			continue
		}
		s.owner[l.name] = l
	}
	for _, l := range s.plugins {
		switch {
		case l.err == nil && l.proc != nil:
			for _, m := range l.metas {
				s.byID[m.ID] = &proxy{meta: m, l: l}
			}
			if cfg.Memory != nil {
				cfg.Memory.remember(l.name, l.metas)
			}
		case cfg.Memory != nil:
			for _, m := range cfg.Memory.recall(l.name) {
				s.unavailable = append(s.unavailable, &unavailable{id: m.ID, l: l, meta: &m})
			}
		}
	}
	return s, nil
}

func hostFacts(ctx context.Context, h checks.Host) *pluginpb.HostFacts {
	f := &pluginpb.HostFacts{Arch: runtime.GOARCH, Live: h.Live()}
	if info, err := osrelease.Read(ctx, h); err == nil {
		f.OsId, f.OsIdLike, f.OsVersionId = info.ID, info.IDLike, info.VersionID
	}
	if h.Live() {
		f.Hostname, _ = os.Hostname()
	}
	return f
}

// start verifies, launches, describes and configures the plugin.
func (l *loaded) start(ctx context.Context, pin string, h checks.Host, facts *pluginpb.HostFacts) error {
	file, sum, err := openVerified(l.path, pin)
	if err != nil {
		return err
	}
	l.sha256 = sum
	if l.cfg.cred != nil {
		// It is executed as plugins.user, which owns neither file nor group.
		if fi, err := file.Stat(); err == nil && fi.Mode().Perm()&0o001 == 0 {
			file.Close()
			return fmt.Errorf("%s is not executable by others (mode %04o), so not by plugins.user %s; run chmod 0755 %s", l.path, fi.Mode().Perm(), l.cfg.User, l.path)
		}
	}
	l.deadline = time.Now().Add(l.cfg.Budget)
	proc, err := launch(l.name, file, l.cfg, newToken())
	file.Close() // the child has its own copy once exec'd
	if err != nil {
		return fmt.Errorf("plugin %s %s", l.name, err)
	}
	l.proc = proc
	if err := l.describe(ctx); err != nil {
		proc.kill()
		return err
	}
	// Serve the host to the plugin over go-plugin's broker.
	id := proc.rpc.Broker.NextId()
	pluginPid := int32(proc.pid())
	go proc.rpc.Broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		// Only the plugin's own process may use the host service: its
		// socket is group-writable when the plugin runs as another user.
		peer := grpc.Creds(protocol.PeerCheck(func(pid int32, _ uint32) error {
			if pid != pluginPid {
				return fmt.Errorf("process %d is not plugin %s (%d)", pid, l.name, pluginPid)
			}
			return nil
		}))
		srv := grpc.NewServer(append(append(opts, hostServerOptions...), peer)...)
		pluginpb.RegisterHostServer(srv, &hostServer{h: newGuardedHost(h, l.cfg.Deny)})
		return srv
	})
	cctx, cancel := context.WithTimeout(ctx, l.cfg.StartTimeout)
	defer cancel()
	if _, err := proc.rpc.Plugin.Configure(cctx, &pluginpb.ConfigureRequest{HostService: id, Facts: facts, AgentVersion: l.cfg.AgentVersion}); err != nil {
		proc.kill()
		return fmt.Errorf("plugin %s: configure: %v%s", l.name, grpcMessage(err), l.stderrNote())
	}
	return nil
}

func (l *loaded) describe(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, l.cfg.StartTimeout)
	defer cancel()
	d, err := l.proc.rpc.Plugin.Describe(dctx, &pluginpb.DescribeRequest{})
	if err != nil {
		return fmt.Errorf("plugin %s: describe: %v%s", l.name, grpcMessage(err), l.stderrNote())
	}
	if d.GetName() != l.name {
		return fmt.Errorf("plugin %s: describes itself as %q; a plugin's file name must be its name", l.name, truncate(d.GetName(), 100))
	}
	if d.GetVersion() == "" {
		return fmt.Errorf("plugin %s: describes no version", l.name)
	}
	if len(d.GetVersion()) > maxVersion {
		// It goes into every report as is.
		return fmt.Errorf("plugin %s: describes a version of %d bytes; at most %d", l.name, len(d.GetVersion()), maxVersion)
	}
	l.version = d.GetVersion()
	l.declared = map[string]bool{}
	var errs []error
	for _, pb := range d.GetChecks() {
		m, err := protocol.MetaFromPB(pb)
		switch {
		case err != nil:
			errs = append(errs, err)
		case !strings.HasPrefix(m.ID, l.name+"."):
			errs = append(errs, fmt.Errorf("check %s: id must start with %q", m.ID, l.name+"."))
		case l.declared[m.ID]:
			errs = append(errs, fmt.Errorf("check %s: declared twice", m.ID))
		default:
			l.declared[m.ID] = true
			l.metas = append(l.metas, m)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("plugin %s: invalid description: %w", l.name, errors.Join(errs...))
	}
	if len(l.metas) == 0 {
		return fmt.Errorf("plugin %s: provides no checks", l.name)
	}
	return nil
}

func (l *loaded) stderrNote() string {
	if l.proc == nil {
		return ""
	}
	if s := l.proc.stderr.lastLines(5); s != "" {
		return "; last stderr: " + s
	}
	return ""
}

func (l *loaded) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.cfg.Logger.Warn("plugin misbehaved", "plugin", l.name, "problem", msg)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.notes) < 10 && !slices.Contains(l.notes, msg) {
		l.notes = append(l.notes, msg)
	}
}

// stopAndKill asks the plugin to stop what it is running, gives it a
// moment, then kills its process group. An idle plugin is killed at once.
func (l *loaded) stopAndKill() {
	if l.proc == nil {
		return
	}
	l.mu.Lock()
	busy := l.inflight > 0
	l.mu.Unlock()
	if busy {
		ctx, cancel := context.WithTimeout(context.Background(), stopGrace)
		_, _ = l.proc.rpc.Plugin.Stop(ctx, &pluginpb.StopRequest{})
		cancel()
	}
	l.proc.kill()
}

// RunBatch implements engine.BatchExecutor.
func (l *loaded) RunBatch(ctx context.Context, _ checks.Host, invs []engine.Invocation) []checks.Result {
	results := make([]checks.Result, len(invs))
	fillAll := func(r checks.Result, only func(i int) bool) {
		for i := range results {
			if only == nil || only(i) {
				results[i] = r
			}
		}
	}
	if l.err != nil {
		fillAll(checks.Errorf("%v", l.err), nil)
		limitResults(l.name, results)
		return results
	}
	req := &pluginpb.RunRequest{}
	// An id asked for twice (two baseline entries) gets each result in turn.
	want := map[string][]int{}
	var longest time.Duration
	for i, inv := range invs {
		m := inv.Check.Meta()
		pj, err := protocol.ParamsToJSON(m.Params, inv.Params)
		if err != nil {
			results[i] = checks.Errorf("parameters for plugin %s: %v", l.name, err)
			continue
		}
		timeout := inv.Timeout
		if timeout <= 0 {
			timeout = l.cfg.CheckTimeout
		}
		longest = max(longest, timeout)
		want[m.ID] = append(want[m.ID], i)
		req.Invocations = append(req.Invocations, &pluginpb.Invocation{CheckId: m.ID, ParamsJson: pj, TimeoutMs: timeout.Milliseconds()})
	}
	got := make([]bool, len(invs))
	for i := range results {
		got[i] = results[i].Status != 0
	}
	deadline := time.Now().Add(longest + answerGrace)
	budgetHit := l.deadline.Before(deadline)
	if budgetHit {
		deadline = l.deadline
	}
	rctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	l.mu.Lock()
	l.inflight++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.inflight--
		l.mu.Unlock()
	}()
	stream, err := l.proc.rpc.Plugin.Run(rctx, req)
	for err == nil {
		var r *pluginpb.RunResult
		r, err = stream.Recv()
		if err != nil {
			break
		}
		id := r.GetCheckId()
		slots, asked := want[id]
		i := -1
		for _, j := range slots {
			if !got[j] {
				i = j
				break
			}
		}
		switch {
		case !l.declared[id]:
			l.note("returned a result for %q, which it did not declare; ignored", truncate(id, 100))
			continue
		case !asked:
			l.note("returned a result for %s, which was not asked for; ignored", id)
			continue
		case i < 0:
			l.note("returned a second result for %s; ignored", id)
			continue
		}
		got[i] = true
		res, cerr := protocol.ResultFromPB(r)
		if cerr != nil {
			l.note("%v", cerr)
			results[i] = checks.Errorf("plugin %s returned an invalid status %d", l.name, int32(r.GetStatus()))
			continue
		}
		results[i] = bound(res)
	}
	missing := func(i int) bool { return !got[i] }
	// The plugin's gRPC server enforces the same deadline and resets the
	// stream when it passes; that reset can arrive before rctx's own timer
	// has fired, so the clock decides too.
	expired := rctx.Err() != nil || !time.Now().Before(deadline)
	switch {
	case errors.Is(err, io.EOF):
		fillAll(checks.Errorf("plugin %s ended the run without a result for this check", l.name), missing)
	case ctx.Err() != nil:
		fillAll(checks.Errorf("scan cancelled before the check finished"), missing)
		l.stopAndKill()
	case expired && budgetHit:
		fillAll(checks.Errorf("timeout: plugin %s used up its budget of %s", l.name, l.cfg.Budget), missing)
		l.note("used up its budget of %s; stopped and killed", l.cfg.Budget)
		l.stopAndKill()
	case expired:
		fillAll(checks.Errorf("timeout after %s: plugin %s gave no result", longest, l.name), missing)
		l.note("gave no result within %s; stopped and killed", longest)
		l.stopAndKill()
	default:
		msg := l.proc.crashNote()
		if msg == "" {
			msg = "plugin connection failed: " + grpcMessage(err)
		}
		fillAll(checks.Errorf("plugin %s: %s", l.name, msg), missing)
		l.note("%s", msg)
		l.proc.kill()
	}
	if n := limitResults(l.name, results); n > 0 {
		l.note("returned more than %d KiB of messages and evidence; those of %d check(s) were dropped", maxPluginResultBytes>>10, n)
	}
	return results
}

// limitResults keeps a plugin's results within maxPluginResultBytes of
// text, in order: past the bound, a result keeps its status but loses its
// evidence and its message says why. It returns how many results it cut.
func limitResults(name string, rs []checks.Result) int {
	used, cut := 0, 0
	for i := range rs {
		r := &rs[i]
		if n := resultBytes(*r); used+n <= maxPluginResultBytes {
			used += n
			continue
		}
		r.Evidence = nil
		r.Message = fmt.Sprintf("plugin %s exceeded its %d KiB of results in this scan: message and evidence dropped", name, maxPluginResultBytes>>10)
		used += resultBytes(*r)
		cut++
	}
	return cut
}

func resultBytes(r checks.Result) int {
	n := len(r.Message)
	for _, e := range r.Evidence {
		n += len(e.Key) + len(e.Expected) + len(e.Actual) + len(e.Path) + 16
	}
	return n
}

// bound keeps a plugin's result within what a report can carry.
func bound(r checks.Result) checks.Result {
	const maxEvidence = 64
	if r.Duration < 0 {
		r.Duration = 0
	}
	r.Message = truncate(r.Message, maxText)
	if len(r.Evidence) > maxEvidence {
		r.Evidence = r.Evidence[:maxEvidence]
	}
	for i := range r.Evidence {
		e := &r.Evidence[i]
		e.Key, e.Expected, e.Actual, e.Path = truncate(e.Key, maxText), truncate(e.Expected, maxText), truncate(e.Actual, maxText), truncate(e.Path, maxText)
	}
	if r.Status == checks.StatusError && r.Message == "" {
		r.Message = "plugin returned ERROR without a reason"
	}
	return r
}

// Lookup returns a plugin's check. For an id in the namespace of a pinned
// plugin that could not be launched it returns a stand-in that reports
// ERROR with the reason, so a baseline naming it still loads.
func (s *Session) Lookup(id string) (checks.Check, bool) {
	if p, ok := s.byID[id]; ok {
		return p, true
	}
	for _, u := range s.unavailable {
		if u.id == id {
			return u, true
		}
	}
	ns, _, _ := strings.Cut(id, ".")
	if l, ok := s.owner[ns]; ok && l.err != nil {
		return &unavailable{id: id, l: l}, true
	}
	return nil, false
}

// Owns reports whether id is in the namespace of a configured plugin; such
// an id is never looked up among the built-in checks.
func (s *Session) Owns(id string) bool {
	ns, _, _ := strings.Cut(id, ".")
	_, ok := s.owner[ns]
	return ok
}

// Checks returns every check the session's plugins provide, sorted by id,
// including the remembered checks of plugins that failed to start this time
// (they report ERROR).
func (s *Session) Checks() []checks.Check {
	out := make([]checks.Check, 0, len(s.byID)+len(s.unavailable))
	for _, p := range s.byID {
		out = append(out, p)
	}
	for _, u := range s.unavailable {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b checks.Check) int { return strings.Compare(a.Meta().ID, b.Meta().ID) })
	return out
}

// Refs lists the session's plugins for the report: name, version, sha256,
// and what went wrong, if anything.
func (s *Session) Refs() []report.PluginRef {
	refs := make([]report.PluginRef, 0, len(s.plugins))
	for _, l := range s.plugins {
		ref := report.PluginRef{Name: l.name, Version: l.version, SHA256: l.sha256}
		var problems []string
		if l.err != nil {
			problems = append(problems, l.err.Error())
		}
		l.mu.Lock()
		problems = append(problems, l.notes...)
		l.mu.Unlock()
		ref.Error = truncate(strings.Join(problems, "; "), maxText)
		refs = append(refs, ref)
	}
	return refs
}

// Stats are measurements of a session's plugins, for benchmarks.
type Stats struct {
	Name    string
	PeakRSS int64
	PID     int
}

// Close stops and kills every plugin of the session.
func (s *Session) Close() {
	var wg sync.WaitGroup
	for _, l := range s.plugins {
		if l.proc == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.stopAndKill()
		}()
	}
	wg.Wait()
	s.cfg.releaseSocketDir()
}

// Stats returns, after Close, each launched plugin's peak RSS.
func (s *Session) Stats() []Stats {
	var out []Stats
	for _, l := range s.plugins {
		if l.proc != nil {
			out = append(out, Stats{Name: l.name, PeakRSS: l.proc.peakRSS, PID: l.proc.pid()})
		}
	}
	return out
}

// proxy is a plugin's check as the engine sees it.
type proxy struct {
	meta checks.Meta
	l    *loaded
}

func (p *proxy) Meta() checks.Meta { return p.meta }

// Run evaluates the check alone; the engine batches instead (Executor).
func (p *proxy) Run(ctx context.Context, h checks.Host, params checks.Params) checks.Result {
	return p.l.RunBatch(ctx, h, []engine.Invocation{{Check: p, Params: params, Timeout: p.l.cfg.CheckTimeout}})[0]
}

// Executor implements engine.Batched.
func (p *proxy) Executor() engine.BatchExecutor { return p.l }

// unavailable stands for a check of a plugin that could not be launched.
type unavailable struct {
	id   string
	l    *loaded
	meta *checks.Meta // as last described, when known
}

func (u *unavailable) Meta() checks.Meta {
	if u.meta != nil {
		return *u.meta
	}
	return checks.Meta{
		ID: u.id, Title: u.id + " (plugin " + u.l.name + " unavailable)", Family: u.l.name, Severity: checks.SeverityMedium,
		Rationale: "provided by plugin " + u.l.name, Remediation: "fix the plugin so that it starts: " + u.l.err.Error(),
	}
}

func (u *unavailable) Run(context.Context, checks.Host, checks.Params) checks.Result {
	return checks.Errorf("%v", u.l.err)
}

func (u *unavailable) Unavailable() error { return u.l.err }

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// grpcMessage is an RPC error's message without gRPC's prefix, bounded:
// a plugin chooses its errors' text.
func grpcMessage(err error) string {
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, "desc = "); ok {
		msg = after
	}
	return truncate(msg, 1024)
}

// boundErr bounds an error's text, which becomes the message of each of the
// plugin's checks.
func boundErr(err error) error {
	if err == nil || len(err.Error()) <= maxText {
		return err
	}
	return errors.New(truncate(err.Error(), maxText))
}

// Description is what a plugin binary says about itself.
type Description struct {
	Name       string        `json:"name"`
	Version    string        `json:"version"`
	SDKVersion string        `json:"sdk_version"`
	SHA256     string        `json:"sha256"`
	Checks     []checks.Meta `json:"checks"`
}

// DescribeFile launches the binary at path (pinned or not: the caller asked
// for it), asks what it provides and kills it. The binary must still be a
// regular executable file that only its owner can write.
func DescribeFile(ctx context.Context, path string, cfg Config) (*Description, error) {
	cfg = cfg.withDefaults()
	if err := prepareRunDir(cfg.RunDir); err != nil {
		return nil, err
	}
	if err := cfg.resolveUser(); err != nil {
		return nil, err
	}
	if err := cfg.chooseSocketDir(); err != nil {
		return nil, err
	}
	defer cfg.releaseSocketDir()
	file, sum, err := openVerified(path, "")
	if err != nil {
		return nil, err
	}
	name := filepath.Base(path)
	proc, err := launch(name, file, &cfg, newToken())
	file.Close()
	if err != nil {
		return nil, fmt.Errorf("%s %s", path, err)
	}
	defer proc.kill()
	dctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	d, err := proc.rpc.Plugin.Describe(dctx, &pluginpb.DescribeRequest{})
	if err != nil {
		return nil, fmt.Errorf("%s: describe: %v", path, grpcMessage(err))
	}
	out := &Description{Name: d.GetName(), Version: d.GetVersion(), SDKVersion: d.GetSdkVersion(), SHA256: sum}
	var errs []error
	for _, pb := range d.GetChecks() {
		m, err := protocol.MetaFromPB(pb)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out.Checks = append(out.Checks, m)
	}
	if out.Name != name {
		errs = append(errs, fmt.Errorf("the plugin calls itself %q but the file is named %q: install it as %s", out.Name, name, out.Name))
	}
	return out, errors.Join(errs...)
}
