package sdk

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/plugins/pluginpb"
	"github.com/plumbline/plumbline/plugins/protocol"
)

// server implements the Plugin service for a Plugin.
type server struct {
	pluginpb.UnimplementedPluginServer
	p    Plugin
	byID map[string]Check

	mu      sync.Mutex
	broker  *plugin.GRPCBroker
	host    *remoteHost
	cancels map[int]context.CancelFunc
	nextRun int
}

// NewServer returns the Plugin service for p. Serve uses it; it is exported
// for tests that drive the service directly.
func NewServer(p Plugin) pluginpb.PluginServer {
	s := &server{p: p, byID: map[string]Check{}, cancels: map[int]context.CancelFunc{}}
	for _, c := range p.Checks {
		s.byID[c.Meta().ID] = c
	}
	return s
}

// SetBroker is called by protocol.GRPCPlugin with go-plugin's broker.
func (s *server) SetBroker(b *plugin.GRPCBroker) {
	s.mu.Lock()
	s.broker = b
	s.mu.Unlock()
}

func (s *server) Describe(context.Context, *pluginpb.DescribeRequest) (*pluginpb.DescribeResponse, error) {
	resp := &pluginpb.DescribeResponse{Name: s.p.Name, Version: s.p.Version, SdkVersion: Version}
	for _, c := range s.p.Checks {
		m, err := protocol.MetaToPB(c.Meta())
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		resp.Checks = append(resp.Checks, m)
	}
	return resp, nil
}

func (s *server) Configure(_ context.Context, req *pluginpb.ConfigureRequest) (*pluginpb.ConfigureResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broker == nil {
		return nil, status.Error(codes.FailedPrecondition, "no go-plugin broker: the plugin was not started by an agent")
	}
	if s.host != nil {
		return nil, status.Error(codes.FailedPrecondition, "already configured: one launch serves one scan")
	}
	conn, err := s.broker.Dial(req.GetHostService())
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "dial the agent's host service: %v", err)
	}
	s.host = &remoteHost{client: pluginpb.NewHostClient(conn), live: req.GetFacts().GetLive()}
	return &pluginpb.ConfigureResponse{}, nil
}

func (s *server) Run(req *pluginpb.RunRequest, stream pluginpb.Plugin_RunServer) error {
	s.mu.Lock()
	host := s.host
	ctx, cancel := context.WithCancel(stream.Context())
	id := s.nextRun
	s.nextRun++
	s.cancels[id] = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.cancels, id)
		s.mu.Unlock()
		cancel()
	}()
	if host == nil {
		return status.Error(codes.FailedPrecondition, "Run before Configure")
	}
	// A fresh memo per Run: the package list or the process table is read
	// once per scan, as in the agent.
	h := host.withMemo()
	var sendMu sync.Mutex
	var sendErr error
	send := func(r *pluginpb.RunResult) {
		sendMu.Lock()
		defer sendMu.Unlock()
		if sendErr == nil {
			sendErr = stream.Send(r)
		}
	}
	// Every invocation runs at once: the agent's deadline for each is
	// measured from the start of Run, so none may wait for a slot.
	var wg sync.WaitGroup
	for _, inv := range req.GetInvocations() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(protocol.ResultToPB(inv.GetCheckId(), s.runOne(ctx, h, inv)))
		}()
	}
	wg.Wait()
	return sendErr
}

func (s *server) runOne(ctx context.Context, h checks.Host, inv *pluginpb.Invocation) checks.Result {
	c, ok := s.byID[inv.GetCheckId()]
	if !ok {
		return checks.Errorf("plugin %s has no check %s", s.p.Name, inv.GetCheckId())
	}
	params, err := protocol.ParamsFromJSON(c.Meta().Params, inv.GetParamsJson())
	if err != nil {
		return checks.Errorf("parameters: %v", err)
	}
	// In process the baseline loader calls this; out of process the
	// plugin must, as the agent cannot.
	if v, ok := c.(checks.ParamValidator); ok {
		if err := v.ValidateParams(params); err != nil {
			return checks.Errorf("parameters: %v", err)
		}
	}
	return checks.Evaluate(ctx, h, c, params, time.Duration(inv.GetTimeoutMs())*time.Millisecond)
}

func (s *server) Stop(context.Context, *pluginpb.StopRequest) (*pluginpb.StopResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cancel := range s.cancels {
		cancel()
	}
	return &pluginpb.StopResponse{}, nil
}
