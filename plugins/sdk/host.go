package sdk

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/pkgdb"
	"github.com/plumbline/plumbline/plugins/pluginpb"
	"github.com/plumbline/plumbline/plugins/protocol"
)

// maxMsg lets a whole file (checks.MaxFileSize) cross in one message.
var maxMsg = grpc.MaxCallRecvMsgSize(checks.MaxFileSize + 1<<20)

// remoteHost is the checks.Host a plugin's checks read through: every call
// goes to the agent's host service.
type remoteHost struct {
	client pluginpb.HostClient
	live   bool
	memo   *checks.Memo
}

var (
	_ checks.Host     = (*remoteHost)(nil)
	_ checks.Memoizer = (*remoteHost)(nil)
	_ pkgdb.Lister    = (*remoteHost)(nil)
	_ Sysctler        = (*remoteHost)(nil)
)

func (h *remoteHost) withMemo() *remoteHost {
	return &remoteHost{client: h.client, live: h.live, memo: &checks.Memo{}}
}

// rpcErr turns a failed call (not a host error) into an error that keeps
// the context's meaning, so that checks and Memoized treat a timeout as one.
func rpcErr(op, arg string, err error) error {
	switch status.Code(err) {
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s %s: %w", op, arg, context.DeadlineExceeded)
	case codes.Canceled:
		return fmt.Errorf("%s %s: %w", op, arg, context.Canceled)
	}
	return fmt.Errorf("%s %s: agent host service: %w", op, arg, err)
}

// cached answers a read once per Run: every read is a round trip to the
// agent (a few hundred microseconds), and checks of one plugin read the same
// files (sudoers, unit directories) again and again. The scanned host does
// not change within a scan; a failure that is the caller's timeout is not
// kept (see checks.Memoized).
func cached[T any](h *remoteHost, op, arg string, fn func() (T, error)) (T, error) {
	if h.memo == nil {
		return fn()
	}
	return checks.Memoized(h, "host\x00"+op+"\x00"+arg, fn)
}

func (h *remoteHost) ReadFile(ctx context.Context, path string) ([]byte, error) {
	data, err := cached(h, "read", path, func() ([]byte, error) {
		r, err := h.client.ReadFile(ctx, &pluginpb.PathRequest{Path: path}, maxMsg)
		if err != nil {
			return nil, rpcErr("read", path, err)
		}
		if err := protocol.ErrorFromPB(r.GetError()); err != nil {
			return nil, err
		}
		return r.GetData(), nil
	})
	// A copy: a check may change what it was given, as it may in process.
	return bytes.Clone(data), err
}

func (h *remoteHost) stat(ctx context.Context, path string, lstat bool) (checks.FileInfo, error) {
	op := "stat"
	if lstat {
		op = "lstat"
	}
	return cached(h, op, path, func() (checks.FileInfo, error) { return h.statRPC(ctx, path, lstat) })
}

func (h *remoteHost) statRPC(ctx context.Context, path string, lstat bool) (checks.FileInfo, error) {
	var r *pluginpb.StatResponse
	var err error
	if lstat {
		r, err = h.client.Lstat(ctx, &pluginpb.PathRequest{Path: path})
	} else {
		r, err = h.client.Stat(ctx, &pluginpb.PathRequest{Path: path})
	}
	if err != nil {
		return checks.FileInfo{}, rpcErr("stat", path, err)
	}
	if err := protocol.ErrorFromPB(r.GetError()); err != nil {
		return checks.FileInfo{}, err
	}
	return protocol.FileInfoFromPB(r.GetInfo()), nil
}

func (h *remoteHost) Stat(ctx context.Context, path string) (checks.FileInfo, error) {
	return h.stat(ctx, path, false)
}

func (h *remoteHost) Lstat(ctx context.Context, path string) (checks.FileInfo, error) {
	return h.stat(ctx, path, true)
}

func (h *remoteHost) ReadDir(ctx context.Context, path string) ([]checks.FileInfo, error) {
	entries, err := cached(h, "readdir", path, func() ([]checks.FileInfo, error) {
		r, err := h.client.ReadDir(ctx, &pluginpb.PathRequest{Path: path}, maxMsg)
		if err != nil {
			return nil, rpcErr("readdir", path, err)
		}
		if err := protocol.ErrorFromPB(r.GetError()); err != nil {
			return nil, err
		}
		out := make([]checks.FileInfo, 0, len(r.GetEntries()))
		for _, e := range r.GetEntries() {
			out = append(out, protocol.FileInfoFromPB(e))
		}
		return out, nil
	})
	return slices.Clone(entries), err
}

func (h *remoteHost) Readlink(ctx context.Context, path string) (string, error) {
	return cached(h, "readlink", path, func() (string, error) {
		r, err := h.client.Readlink(ctx, &pluginpb.PathRequest{Path: path})
		if err != nil {
			return "", rpcErr("readlink", path, err)
		}
		if err := protocol.ErrorFromPB(r.GetError()); err != nil {
			return "", err
		}
		return r.GetTarget(), nil
	})
}

func (h *remoteHost) Glob(ctx context.Context, pattern string) ([]string, error) {
	paths, err := cached(h, "glob", pattern, func() ([]string, error) {
		r, err := h.client.Glob(ctx, &pluginpb.GlobRequest{Pattern: pattern}, maxMsg)
		if err != nil {
			return nil, rpcErr("glob", pattern, err)
		}
		if err := protocol.ErrorFromPB(r.GetError()); err != nil {
			return nil, err
		}
		return r.GetPaths(), nil
	})
	return slices.Clone(paths), err
}

func (h *remoteHost) Exec(ctx context.Context, name string, args ...string) (checks.ExecResult, error) {
	r, err := h.client.Exec(ctx, &pluginpb.ExecRequest{Name: name, Args: args}, maxMsg)
	if err != nil {
		return checks.ExecResult{}, rpcErr("exec", name, err)
	}
	res := checks.ExecResult{Stdout: r.GetStdout(), Stderr: r.GetStderr(), ExitCode: int(r.GetExitCode())}
	return res, protocol.ErrorFromPB(r.GetError())
}

func (h *remoteHost) Live() bool { return h.live }

// Memo implements checks.Memoizer: one cache per Run.
func (h *remoteHost) Memo() *checks.Memo { return h.memo }

// Packages implements pkgdb.Lister: the agent parses its package database
// once and sends the list.
func (h *remoteHost) Packages(ctx context.Context) (*pkgdb.DB, error) {
	r, err := h.client.Packages(ctx, &pluginpb.PackagesRequest{}, maxMsg)
	if err != nil {
		return nil, rpcErr("read", "package database", err)
	}
	if err := protocol.ErrorFromPB(r.GetError()); err != nil {
		return nil, err
	}
	pkgs := make([]pkgdb.Package, 0, len(r.GetPackages()))
	for _, p := range r.GetPackages() {
		pkgs = append(pkgs, pkgdb.Package{Name: p.GetName(), Version: p.GetVersion(), Arch: p.GetArch()})
	}
	return pkgdb.New(pkgdb.Format(r.GetFormat()), r.GetSource(), pkgs), nil
}

// Sysctl implements Sysctler.
func (h *remoteHost) Sysctl(ctx context.Context, key string) (string, error) {
	r, err := h.client.Sysctl(ctx, &pluginpb.SysctlRequest{Key: key})
	if err != nil {
		return "", rpcErr("sysctl", key, err)
	}
	if err := protocol.ErrorFromPB(r.GetError()); err != nil {
		return "", err
	}
	return r.GetValue(), nil
}

// Sysctler is a Host that reads kernel parameters itself (the agent's).
type Sysctler interface {
	Sysctl(ctx context.Context, key string) (string, error)
}

// Sysctl reads a kernel parameter such as "net.ipv4.ip_forward", trimmed,
// from the agent when h is a plugin's host and from /proc/sys otherwise, so
// that a check using it runs the same in and out of process.
func Sysctl(ctx context.Context, h checks.Host, key string) (string, error) {
	if s, ok := h.(Sysctler); ok {
		return s.Sysctl(ctx, key)
	}
	return ReadSysctl(ctx, h, key)
}

// ReadSysctl reads /proc/sys/<key with dots as slashes> through h.
func ReadSysctl(ctx context.Context, h checks.Host, key string) (string, error) {
	if key == "" || strings.Contains(key, "..") || strings.ContainsAny(key, "/ \x00") {
		return "", fmt.Errorf("sysctl %q: want a dotted key such as net.ipv4.ip_forward", key)
	}
	data, err := h.ReadFile(ctx, "/proc/sys/"+strings.ReplaceAll(key, ".", "/"))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}
