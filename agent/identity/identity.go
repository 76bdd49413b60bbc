// Package identity decides which host id the agent reports under: the
// configured host_id, else the ECS instance id from the metadata service,
// else /etc/machine-id.
//
// The instance id is preferred because it is what operators see in the
// cloud console, and because machine-id is cloned along with an image that
// was not generalised, so several instances can share it.
package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/plumbline/plumbline/agent/ecs"
	"github.com/plumbline/plumbline/agent/facts"
	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/report"
)

// Sources of a host id, as report.Identity.IDSource says them.
const (
	SourceConfig    = "config"
	SourceECS       = "ecs-metadata"
	SourceMachineID = "machine-id"
)

// Options say where an identity may come from.
type Options struct {
	// Override is the configured host_id; it wins when set.
	Override string
	// ECS asks the metadata service; nil disables it.
	ECS *ecs.Client
	// Host is the scanned system: machine-id and hostname are read
	// through it.
	Host checks.Host
	// Logger receives why the metadata service was not used; nil
	// discards.
	Logger *slog.Logger
}

// Resolve returns the host's identity. The ECS metadata service is asked
// only when Host is the live system: a mounted image is not the instance
// doing the scan, so the instance's id would be wrong for it. The id
// always passes report.ValidHostID, so it can be a NATS subject token.
func Resolve(ctx context.Context, opts Options) (report.Identity, error) {
	if opts.Host == nil {
		return report.Identity{}, errors.New("host identity: no host to read")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	if opts.Override != "" {
		if err := report.ValidHostID(opts.Override); err != nil {
			return report.Identity{}, fmt.Errorf("host identity from host_id: %w", err)
		}
		return facts.Identity(ctx, opts.Host, opts.Override)
	}

	switch {
	case opts.ECS == nil:
	case !opts.Host.Live():
		log.Debug("ECS metadata not asked: the scanned root is not the live system")
	default:
		id, err := fromECS(ctx, opts.ECS, opts.Host)
		if err == nil {
			return id, nil
		}
		level := slog.LevelWarn
		if errors.Is(err, ecs.ErrUnreachable) {
			// Expected on every machine that is not an ECS instance.
			level = slog.LevelDebug
		}
		log.Log(ctx, level, "host id falls back to machine-id", "error", err)
	}

	id, err := facts.Identity(ctx, opts.Host, "")
	if err != nil {
		return report.Identity{}, err
	}
	if err := report.ValidHostID(id.ID); err != nil {
		return report.Identity{}, fmt.Errorf("host identity from machine-id: %w", err)
	}
	return id, nil
}

func fromECS(ctx context.Context, c *ecs.Client, h checks.Host) (report.Identity, error) {
	md, err := c.Identity(ctx)
	if err != nil {
		return report.Identity{}, err
	}
	if err := report.ValidHostID(md.InstanceID); err != nil {
		return report.Identity{}, fmt.Errorf("ECS instance id: %w", err)
	}
	// With an override, facts.Identity reads only the hostname, which is
	// what is wanted here: the Host's own name, not the metadata's.
	id, err := facts.Identity(ctx, h, md.InstanceID)
	if err != nil {
		return report.Identity{}, err
	}
	id.IDSource = SourceECS
	id.InstanceID, id.Region, id.Zone, id.ImageID = md.InstanceID, md.RegionID, md.ZoneID, md.ImageID
	return id, nil
}
