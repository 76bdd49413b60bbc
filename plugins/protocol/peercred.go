package protocol

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/credentials"
)

// EnvAgentUID tells a plugin the uid of the agent that launched it: the
// only peer its gRPC server accepts.
const EnvAgentUID = "PLUMBLINE_AGENT_UID"

// PeerCheck returns gRPC transport credentials for a server on a Unix
// socket that admit a connection only when allow accepts the connecting
// process (its pid and uid, from SO_PEERCRED, as seen from this process's
// PID namespace). go-plugin's socket directories are group-writable when a
// plugin runs as another user, so any process of that group could reach
// them; this is what keeps them to the agent and its plugin. Nothing
// crosses the wire: the client side stays insecure.NewCredentials().
func PeerCheck(allow func(pid int32, uid uint32) error) credentials.TransportCredentials {
	return peerCheck{allow: allow}
}

type peerCheck struct {
	allow func(pid int32, uid uint32) error
}

type peerInfo struct {
	credentials.CommonAuthInfo
}

func (peerInfo) AuthType() string { return "peercred" }

func (p peerCheck) ClientHandshake(_ context.Context, _ string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return conn, peerInfo{credentials.CommonAuthInfo{SecurityLevel: credentials.NoSecurity}}, nil
}

func (p peerCheck) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	var cred *unix.Ucred
	var err error
	if uc, isUnix := conn.(*net.UnixConn); isUnix {
		raw, rerr := uc.SyscallConn()
		if rerr != nil {
			err = rerr
		} else if cerr := raw.Control(func(fd uintptr) { cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); cerr != nil {
			err = cerr
		}
	} else {
		err = fmt.Errorf("not a unix socket connection (%T)", conn)
	}
	if err == nil {
		err = p.allow(cred.Pid, cred.Uid)
	}
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("peer refused: %w", err)
	}
	return conn, peerInfo{credentials.CommonAuthInfo{SecurityLevel: credentials.NoSecurity}}, nil
}

func (p peerCheck) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "peercred"}
}

func (p peerCheck) Clone() credentials.TransportCredentials { return p }

// OverrideServerName is required by the interface; there is no name to check.
func (p peerCheck) OverrideServerName(string) error { return nil }

// AgentPeer is a plugin's rule: only the agent's uid (from EnvAgentUID, or
// root and the plugin's own uid when the agent did not say) may connect.
func AgentPeer() func(pid int32, uid uint32) error {
	if s := os.Getenv(EnvAgentUID); s != "" {
		if want, err := strconv.ParseUint(s, 10, 32); err == nil {
			return func(_ int32, uid uint32) error {
				if uid != uint32(want) {
					return fmt.Errorf("uid %d is not the agent's (%d)", uid, want)
				}
				return nil
			}
		}
	}
	own := uint32(os.Getuid())
	return func(_ int32, uid uint32) error {
		if uid != 0 && uid != own {
			return errors.New("uid " + strconv.Itoa(int(uid)) + " is neither root nor the plugin's")
		}
		return nil
	}
}
