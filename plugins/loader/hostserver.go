package loader

import (
	"context"

	"google.golang.org/grpc"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/pkgdb"
	"github.com/plumbline/plumbline/plugins/pluginpb"
	"github.com/plumbline/plumbline/plugins/protocol"
	"github.com/plumbline/plumbline/plugins/sdk"
)

// hostStreams bounds the host service calls one plugin has in flight. Each
// answer is held in the agent until the plugin has taken it in, and a
// ReadFile answer may be checks.MaxFileSize (twice: read and encoded), while
// the SDK runs all of a plugin's checks at once: unbounded, one plugin
// reading many large files at once would exhaust the agent's memory.
const hostStreams = 4

// hostServerOptions bound what a plugin can make the agent hold: the calls
// in flight, and each request (a path, a pattern or a command line).
var hostServerOptions = []grpc.ServerOption{
	grpc.MaxConcurrentStreams(hostStreams),
	grpc.MaxRecvMsgSize(64 << 10),
}

// hostServer serves the scanned host to a plugin. It adds nothing to
// checks.Host: whatever the agent's checks may read, a plugin may read, and
// nothing else (the root, the allow-listed commands and the file size bound
// all hold).
type hostServer struct {
	pluginpb.UnimplementedHostServer
	h checks.Host
}

func (s *hostServer) ReadFile(ctx context.Context, req *pluginpb.PathRequest) (*pluginpb.ReadFileResponse, error) {
	data, err := s.h.ReadFile(ctx, req.GetPath())
	return &pluginpb.ReadFileResponse{Data: data, Error: protocol.ErrorToPB(err)}, nil
}

func (s *hostServer) Stat(ctx context.Context, req *pluginpb.PathRequest) (*pluginpb.StatResponse, error) {
	fi, err := s.h.Stat(ctx, req.GetPath())
	return statResponse(fi, err), nil
}

func (s *hostServer) Lstat(ctx context.Context, req *pluginpb.PathRequest) (*pluginpb.StatResponse, error) {
	fi, err := s.h.Lstat(ctx, req.GetPath())
	return statResponse(fi, err), nil
}

func statResponse(fi checks.FileInfo, err error) *pluginpb.StatResponse {
	if err != nil {
		return &pluginpb.StatResponse{Error: protocol.ErrorToPB(err)}
	}
	return &pluginpb.StatResponse{Info: protocol.FileInfoToPB(fi)}
}

func (s *hostServer) ReadDir(ctx context.Context, req *pluginpb.PathRequest) (*pluginpb.ReadDirResponse, error) {
	entries, err := s.h.ReadDir(ctx, req.GetPath())
	resp := &pluginpb.ReadDirResponse{Error: protocol.ErrorToPB(err)}
	for _, e := range entries {
		resp.Entries = append(resp.Entries, protocol.FileInfoToPB(e))
	}
	return resp, nil
}

func (s *hostServer) Readlink(ctx context.Context, req *pluginpb.PathRequest) (*pluginpb.ReadlinkResponse, error) {
	t, err := s.h.Readlink(ctx, req.GetPath())
	return &pluginpb.ReadlinkResponse{Target: t, Error: protocol.ErrorToPB(err)}, nil
}

func (s *hostServer) Glob(ctx context.Context, req *pluginpb.GlobRequest) (*pluginpb.GlobResponse, error) {
	paths, err := s.h.Glob(ctx, req.GetPattern())
	return &pluginpb.GlobResponse{Paths: paths, Error: protocol.ErrorToPB(err)}, nil
}

func (s *hostServer) Exec(ctx context.Context, req *pluginpb.ExecRequest) (*pluginpb.ExecResponse, error) {
	res, err := s.h.Exec(ctx, req.GetName(), req.GetArgs()...)
	return &pluginpb.ExecResponse{Stdout: res.Stdout, Stderr: res.Stderr, ExitCode: int32(res.ExitCode), Error: protocol.ErrorToPB(err)}, nil
}

func (s *hostServer) Sysctl(ctx context.Context, req *pluginpb.SysctlRequest) (*pluginpb.SysctlResponse, error) {
	v, err := sdk.ReadSysctl(ctx, s.h, req.GetKey())
	return &pluginpb.SysctlResponse{Value: v, Error: protocol.ErrorToPB(err)}, nil
}

func (s *hostServer) Packages(ctx context.Context, _ *pluginpb.PackagesRequest) (*pluginpb.PackagesResponse, error) {
	db, err := pkgdb.Read(ctx, s.h)
	if err != nil {
		return &pluginpb.PackagesResponse{Error: protocol.ErrorToPB(err)}, nil
	}
	resp := &pluginpb.PackagesResponse{Format: string(db.Format), Source: db.Source}
	for _, p := range db.All() {
		resp.Packages = append(resp.Packages, &pluginpb.Package{Name: p.Name, Version: p.Version, Arch: p.Arch})
	}
	return resp, nil
}
