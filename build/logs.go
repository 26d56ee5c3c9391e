package build

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/sirupsen/logrus"
)

// libraryLogger receives what the containers libraries log through logrus's standard
// logger, which would otherwise go straight to the process's standard error.
var (
	libraryLogger atomic.Pointer[slog.Logger]
	routeOnce     sync.Once
)

// routeLibraryLogs sends logrus's standard logger to logger: warnings and errors at their
// own level, information at Debug. The standard logger is process-wide, so the Builder
// created last receives the lines.
func routeLibraryLogs(logger *slog.Logger) {
	libraryLogger.Store(logger)
	routeOnce.Do(func() {
		logrus.SetOutput(io.Discard)
		logrus.AddHook(slogHook{})
	})
}

// slogHook forwards logrus entries to libraryLogger.
type slogHook struct{}

// Levels lists the logrus levels forwarded: all of them; logrus's own level still filters.
func (slogHook) Levels() []logrus.Level {
	return logrus.AllLevels
}

// Fire forwards one entry.
func (slogHook) Fire(entry *logrus.Entry) error {
	logger := libraryLogger.Load()
	if logger == nil {
		return nil
	}
	level := slog.LevelDebug
	switch {
	case entry.Level <= logrus.ErrorLevel:
		level = slog.LevelError
	case entry.Level == logrus.WarnLevel:
		level = slog.LevelWarn
	}
	logger.Log(context.Background(), level, entry.Message, "source", "buildah")
	return nil
}
