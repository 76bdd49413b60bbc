package natsd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/plumbline/plumbline/checks/report"
)

// Names of the report stream and of the server's durable consumer.
const (
	// StreamName is the JetStream stream that holds agents' reports
	// (subjects report.ReportSubjects) until the server has stored them.
	// It is defined by the wire schema, because agents name it in their
	// publishes (expected-stream header).
	StreamName = report.StreamName
	// ConsumerName is the durable pull consumer through which the server
	// (every replica of it) consumes StreamName.
	ConsumerName = "plumbline-server"
)

// Defaults for StreamOptions and ConsumerOptions.
const (
	// DefaultDuplicates is the dedupe window for Nats-Msg-Id: an agent
	// re-publishing a report from its spool within 2 hours is stored once.
	// Later re-publishes are stored again and are harmless, because the
	// server is idempotent on scan id. The window is kept modest because
	// JetStream keeps every id of the window in memory.
	DefaultDuplicates = 2 * time.Hour
	// DefaultMaxMsgSize is the largest report the stream accepts (4 MiB).
	DefaultMaxMsgSize = 4 << 20
	// DefaultMaxBytes caps the unconsumed backlog at 10 GiB. Size it as
	// hosts × reports per hour × report size × hours of server outage to
	// ride out; beyond it publishes fail and agents keep reports in their
	// spools.
	DefaultMaxBytes = 10 << 30
	// DefaultMaxAge is how long an unconsumed report is kept: a week, so
	// that a server that is down over a long weekend loses nothing.
	DefaultMaxAge = 7 * 24 * time.Hour
	// DefaultAckWait is how long the server may take to store a delivered
	// report before JetStream redelivers it.
	DefaultAckWait = 30 * time.Second
	// DefaultMaxDeliver is unlimited (-1); see ConsumerOptions.MaxDeliver.
	DefaultMaxDeliver = -1
	// DefaultMaxAckPending bounds delivered-but-unacked reports across all
	// server replicas: room for several fetch batches of a few hundred.
	DefaultMaxAckPending = 4096
)

// StreamOptions tunes the report stream. For every limit, zero means the
// default and, where noted, a negative value means no limit.
type StreamOptions struct {
	// Duplicates is the Nats-Msg-Id dedupe window (DefaultDuplicates). It
	// cannot exceed MaxAge.
	Duplicates time.Duration
	// MaxMsgSize is the largest report in bytes, headers included
	// (DefaultMaxMsgSize). The NATS server's max_payload must be at least
	// as large, or the connection rejects the report first.
	MaxMsgSize int32
	// MaxBytes caps the stored backlog (DefaultMaxBytes; negative: no
	// limit other than the disk, which is unwise: a full disk disables
	// JetStream altogether).
	MaxBytes int64
	// MaxMsgs caps the number of stored reports (no limit by default).
	MaxMsgs int64
	// MaxAge drops reports not consumed in time (DefaultMaxAge; negative:
	// keep until consumed).
	MaxAge time.Duration
	// Replicas is the stream's replication factor on a NATS cluster (1 by
	// default; the embedded server supports only 1).
	Replicas int
}

// streamConfig validates o and fills in defaults.
func (o StreamOptions) streamConfig() (jetstream.StreamConfig, error) {
	cfg := jetstream.StreamConfig{
		Name:        StreamName,
		Description: "plumbline agents' scan reports, until the plumbline server has stored them",
		Subjects:    []string{report.ReportSubjects},
		Storage:     jetstream.FileStorage,
		// WorkQueue: a report is deleted once the server acks it. So the
		// stream holds exactly the unconsumed backlog, and MaxBytes/MaxMsgs
		// with DiscardNew mean "refuse new reports while the server is
		// behind" rather than "refuse them once a week of already-stored
		// history has piled up" (Limits retention keeps acked messages
		// until MaxAge). Several server replicas share the one durable
		// pull consumer, which WorkQueue allows; what it forbids, a second
		// consumer on overlapping subjects, is a feature here: reports
		// cannot be split between two unrelated consumers by mistake.
		Retention: jetstream.WorkQueuePolicy,
		// DiscardNew: a full stream rejects the publish, the agent sees
		// the error and keeps the report in its on-disk spool. DiscardOld
		// would silently delete the oldest unconsumed reports instead.
		Discard:    jetstream.DiscardNew,
		Duplicates: o.Duplicates,
		MaxMsgSize: o.MaxMsgSize,
		MaxBytes:   o.MaxBytes,
		MaxMsgs:    o.MaxMsgs,
		MaxAge:     o.MaxAge,
		Replicas:   o.Replicas,
	}
	if cfg.Duplicates == 0 {
		cfg.Duplicates = DefaultDuplicates
	}
	if cfg.MaxMsgSize == 0 {
		cfg.MaxMsgSize = DefaultMaxMsgSize
	}
	switch {
	case cfg.MaxBytes == 0:
		cfg.MaxBytes = DefaultMaxBytes
	case cfg.MaxBytes < 0:
		cfg.MaxBytes = -1
	}
	if cfg.MaxMsgs <= 0 {
		cfg.MaxMsgs = -1
	}
	switch {
	case cfg.MaxAge == 0:
		cfg.MaxAge = DefaultMaxAge
	case cfg.MaxAge < 0:
		cfg.MaxAge = 0 // JetStream's "no age limit"
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}

	switch {
	case cfg.Duplicates < 0:
		return cfg, fmt.Errorf("stream %s: duplicate window %s is negative", StreamName, cfg.Duplicates)
	case cfg.MaxAge > 0 && cfg.Duplicates > cfg.MaxAge:
		return cfg, fmt.Errorf("stream %s: duplicate window %s exceeds max age %s", StreamName, cfg.Duplicates, cfg.MaxAge)
	case cfg.MaxMsgSize < 0:
		return cfg, fmt.Errorf("stream %s: max message size %d is negative", StreamName, cfg.MaxMsgSize)
	case cfg.Replicas < 1 || cfg.Replicas > 5:
		return cfg, fmt.Errorf("stream %s: replicas %d: want 1..5", StreamName, cfg.Replicas)
	}
	return cfg, nil
}

// EnsureStream creates the report stream or updates it to match o, so that
// it can run at every server start, on an embedded or an external NATS:
// changed limits (e.g. the duplicate window) are applied in place, stored
// reports are kept. An existing stream of the same name with another
// retention policy cannot be converted and is reported as an error.
func EnsureStream(ctx context.Context, js jetstream.JetStream, o StreamOptions) (jetstream.Stream, error) {
	cfg, err := o.streamConfig()
	if err != nil {
		return nil, err
	}
	s, err := js.CreateOrUpdateStream(ctx, cfg)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		// Another server replica created it between our update and
		// create attempts, with a different config: update it now.
		s, err = js.UpdateStream(ctx, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("create or update stream %s: %w", StreamName, err)
	}
	return s, nil
}

// ConsumerOptions tunes the server's durable consumer. Zero means the
// default.
type ConsumerOptions struct {
	// AckWait is how long the server may take to store a delivered report
	// before it is redelivered (DefaultAckWait). A report is acked only
	// after its transaction commits, so AckWait must exceed the slowest
	// expected commit of a batch.
	AckWait time.Duration
	// MaxDeliver bounds deliveries of one report (DefaultMaxDeliver: -1,
	// no bound). Unbounded because the common reason for redelivery is
	// transient (database down, server restarting), and a bound would
	// strand every report that arrived during a long enough outage: in a
	// work queue a report past MaxDeliver is never delivered again. The
	// server itself gives up on reports that can never succeed (invalid,
	// unknown schema) by terminating them (AckTerm) after logging.
	MaxDeliver int
	// MaxAckPending bounds delivered-but-unacked reports over all server
	// replicas (DefaultMaxAckPending); it must exceed a fetch batch.
	MaxAckPending int
}

// consumerConfig validates o and fills in defaults.
func (o ConsumerOptions) consumerConfig() (jetstream.ConsumerConfig, error) {
	cfg := jetstream.ConsumerConfig{
		Durable:     ConsumerName,
		Description: "plumbline server: stores each report, then acks it",
		// A work queue requires DeliverAll and explicit acks; explicit
		// acks are what we want anyway: ack only after the commit.
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
		FilterSubject: report.ReportSubjects,
		AckWait:       o.AckWait,
		MaxDeliver:    o.MaxDeliver,
		MaxAckPending: o.MaxAckPending,
	}
	if cfg.AckWait == 0 {
		cfg.AckWait = DefaultAckWait
	}
	if cfg.MaxDeliver == 0 {
		cfg.MaxDeliver = DefaultMaxDeliver
	}
	if cfg.MaxAckPending == 0 {
		cfg.MaxAckPending = DefaultMaxAckPending
	}
	switch {
	case cfg.AckWait < 0:
		return cfg, fmt.Errorf("consumer %s: ack wait %s is negative", ConsumerName, cfg.AckWait)
	case cfg.MaxDeliver < -1:
		return cfg, fmt.Errorf("consumer %s: max deliver %d: want -1 (no bound) or at least 1", ConsumerName, cfg.MaxDeliver)
	case cfg.MaxAckPending < 1:
		return cfg, fmt.Errorf("consumer %s: max ack pending %d: want at least 1", ConsumerName, cfg.MaxAckPending)
	}
	return cfg, nil
}

// EnsureConsumer creates the server's durable pull consumer on s, the
// report stream, or updates it to match o; like EnsureStream it is meant
// for every server start. Its delivery position survives restarts, and
// every server replica binds to the same consumer, so each report goes to
// one replica.
func EnsureConsumer(ctx context.Context, s jetstream.Stream, o ConsumerOptions) (jetstream.Consumer, error) {
	cfg, err := o.consumerConfig()
	if err != nil {
		return nil, err
	}
	c, err := s.CreateOrUpdateConsumer(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create or update consumer %s on stream %s: %w", ConsumerName, s.CachedInfo().Config.Name, err)
	}
	return c, nil
}
