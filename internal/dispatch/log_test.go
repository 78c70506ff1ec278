package dispatch

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

func TestAttemptLines(t *testing.T) {
	var buf bytes.Buffer
	d := &Dispatcher{log: slog.New(slog.NewTextHandler(&buf, nil))} // info
	c := &hookd.Claim{Event: hookd.Event{ID: "evt_1", Type: "order.created"}, Delivery: hookd.Delivery{ID: 7}}
	wh := &hookd.Webhook{ID: 3}
	code := 503
	d.logAttempt(c, wh, &hookd.Attempt{Number: 1, ResponseTimeMs: 5}, "success")
	if buf.Len() != 0 {
		t.Fatalf("a success logged at info: %s", buf.String())
	}
	d.logAttempt(c, wh, &hookd.Attempt{Number: 2, ResponseCode: &code, ErrorType: "http_503", ErrorMessage: "https://hooks.example/secret-path"}, "retry")
	line := buf.String()
	for _, want := range []string{"level=WARN", "webhook=3", "event=evt_1", "event_type=order.created", "attempt=2", "status=503", "error_type=http_503", "outcome=retry"} {
		if !strings.Contains(line, want) {
			t.Errorf("%q lacks %s", line, want)
		}
	}
	if strings.Contains(line, "secret-path") {
		t.Errorf("the error message reached the log: %s", line)
	}
}

// BenchmarkLogAttemptSuccess is the cost a successful delivery pays for
// its log line at the default level: one Enabled check.
func BenchmarkLogAttemptSuccess(b *testing.B) {
	d := &Dispatcher{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	c := &hookd.Claim{Event: hookd.Event{ID: "evt_1", Type: "order.created"}}
	wh, a := &hookd.Webhook{ID: 3}, &hookd.Attempt{Number: 1}
	for b.Loop() {
		d.logAttempt(c, wh, a, "success")
	}
}
