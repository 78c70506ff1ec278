package main

import (
	"io"
	"log/slog"

	"github.com/hookd/hookd/internal/config"
)

// newLogger returns serve's logger: HOOKD_LOG_FORMAT (text or json) on w,
// from HOOKD_LOG_LEVEL up.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // checked by config.Parse; "" is info
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
