package dispatch

import (
	"context"
	"log/slog"

	"github.com/hookd/hookd/internal/hookd"
)

// logAttempt writes one line per finished attempt: webhook, event,
// status, error type, attempt number and what happens next. Failures
// are warnings. Successes are debug lines: at thousands a second they
// would cost throughput and drown everything else, and the delivery log
// and metrics already count them. The error message is left out: it can
// quote the target URL, which may carry a secret (a Slack webhook URL).
func (d *Dispatcher) logAttempt(c *hookd.Claim, wh *hookd.Webhook, a *hookd.Attempt, outcome string) {
	level := slog.LevelWarn
	if outcome == "success" {
		level = slog.LevelDebug
	}
	ctx := context.Background()
	if !d.log.Enabled(ctx, level) {
		return
	}
	status := 0
	if a.ResponseCode != nil {
		status = *a.ResponseCode
	}
	d.log.LogAttrs(ctx, level, "delivery attempt",
		slog.Int64("webhook", wh.ID), slog.String("kind", wh.Kind),
		slog.String("event", c.Event.ID), slog.String("event_type", c.Event.Type),
		slog.Int64("delivery", c.Delivery.ID), slog.Int("attempt", a.Number),
		slog.Int("status", status), slog.String("error_type", a.ErrorType),
		slog.Int64("duration_ms", a.ResponseTimeMs), slog.String("outcome", outcome))
}
