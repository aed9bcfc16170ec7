package store

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newZapLogger returns a zap logger (what etcd and its client log through)
// that forwards entries at or above minLevel to logger. Once closing is set,
// the errors etcd reports about its own listeners shutting down are logged
// at debug level.
func newZapLogger(logger *slog.Logger, minLevel zapcore.Level, closing *atomic.Bool) *zap.Logger {
	return zap.New(&slogCore{logger: logger, minLevel: minLevel, closing: closing})
}

// routineEtcdMessages are warnings and errors etcd emits in normal embedded
// use, logged at a lower level because nothing about them is actionable:
// every loopback-only etcd warns about the first two at start, and a fresh
// data dir reports the other two until its first backend commit, then
// retries successfully.
var routineEtcdMessages = map[string]slog.Level{
	"Running http and grpc server on single port. This is not recommended for production.": slog.LevelDebug,
	"simple token is not cryptographically signed":                                         slog.LevelDebug,
	"Failed to detect schema version":                                                      slog.LevelInfo,
	"failed to update storage version":                                                     slog.LevelInfo,
}

// shutdownEtcdErrors are what etcd logs when Close stops its listeners.
var shutdownEtcdErrors = map[string]bool{
	"setting up serving from embedded etcd failed.": true,
	"stopping insecure grpc server due to error":    true,
	"stopped insecure grpc server due to error":     true,
}

type slogCore struct {
	logger   *slog.Logger
	minLevel zapcore.Level
	closing  *atomic.Bool
	attrs    []slog.Attr // from zap's With
}

// level maps a zap entry to the slog level it is logged at.
func (c *slogCore) level(e zapcore.Entry) slog.Level {
	if c.closing.Load() && shutdownEtcdErrors[e.Message] {
		return slog.LevelDebug
	}
	if l, ok := routineEtcdMessages[e.Message]; ok {
		return l
	}
	return slogLevel(e.Level)
}

func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l <= zapcore.DebugLevel:
		return slog.LevelDebug
	case l == zapcore.InfoLevel:
		return slog.LevelInfo
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

func (c *slogCore) Enabled(l zapcore.Level) bool {
	return l >= c.minLevel && c.logger.Enabled(context.Background(), slogLevel(l))
}

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	clone := *c
	clone.attrs = append(slices.Clip(c.attrs), fieldsToAttrs(fields)...)
	return &clone
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if e.Level >= c.minLevel && c.logger.Enabled(context.Background(), c.level(e)) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	attrs := append(slices.Clip(c.attrs), fieldsToAttrs(fields)...)
	if e.LoggerName != "" {
		attrs = append(attrs, slog.String("logger", e.LoggerName))
	}
	c.logger.LogAttrs(context.Background(), c.level(e), e.Message, attrs...)
	return nil
}

func (c *slogCore) Sync() error { return nil }

func fieldsToAttrs(fields []zapcore.Field) []slog.Attr {
	attrs := make([]slog.Attr, 0, len(fields))
	for _, f := range fields {
		// One encoder per field keeps etcd's field order in the output.
		enc := zapcore.NewMapObjectEncoder()
		f.AddTo(enc)
		for _, k := range slices.Sorted(maps.Keys(enc.Fields)) {
			attrs = append(attrs, slog.Any(k, enc.Fields[k]))
		}
	}
	return attrs
}
