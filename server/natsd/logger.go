package natsd

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats-server/v2/server"
)

// LevelTrace is the slog level of NATS trace lines. It sits below
// slog.LevelDebug because NATS traces every protocol message.
const LevelTrace = slog.LevelDebug - 4

// slogLogger routes the NATS server's log into slog. NATS's own logger
// exits the process on Fatalf; this one does not, because an embedded
// server must never take plumbline down: it logs the message and hands it
// to Start, which turns it into an error.
type slogLogger struct {
	log *slog.Logger
	// fatal holds the first fatal message not yet taken by Start.
	fatal chan string
}

var _ server.Logger = (*slogLogger)(nil)

func newSlogLogger(log *slog.Logger) *slogLogger {
	return &slogLogger{log: log, fatal: make(chan string, 1)}
}

// logf formats only when the level is enabled: NATS debug and trace
// lines are frequent.
func (l *slogLogger) logf(level slog.Level, format string, v []any) {
	ctx := context.Background()
	if l.log.Enabled(ctx, level) {
		l.log.LogAttrs(ctx, level, fmt.Sprintf(format, v...))
	}
}

// Noticef logs at slog.LevelInfo.
func (l *slogLogger) Noticef(format string, v ...any) { l.logf(slog.LevelInfo, format, v) }

// Warnf logs at slog.LevelWarn.
func (l *slogLogger) Warnf(format string, v ...any) { l.logf(slog.LevelWarn, format, v) }

// Errorf logs at slog.LevelError.
func (l *slogLogger) Errorf(format string, v ...any) { l.logf(slog.LevelError, format, v) }

// Debugf logs at slog.LevelDebug.
func (l *slogLogger) Debugf(format string, v ...any) { l.logf(slog.LevelDebug, format, v) }

// Tracef logs at LevelTrace.
func (l *slogLogger) Tracef(format string, v ...any) { l.logf(LevelTrace, format, v) }

// Fatalf logs at slog.LevelError with fatal=true and returns; it never
// exits the process.
func (l *slogLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.LogAttrs(context.Background(), slog.LevelError, msg, slog.Bool("fatal", true))
	select {
	case l.fatal <- msg:
	default: // an earlier fatal message is still pending; that one explains the failure.
	}
}
