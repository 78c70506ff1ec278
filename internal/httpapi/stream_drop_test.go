package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/outbound"
	"github.com/hookd/hookd/internal/publish"
	"github.com/hookd/hookd/internal/stream"
)

// TestStreamStalledReaderDropped connects a client that sends its request
// and never reads, next to one that reads, then publishes at full speed.
// The stalled one is disconnected; the reader gets every event; and
// publishing is not slowed by the stalled client (checked loosely:
// median latency against a baseline without streams).
func TestStreamStalledReaderDropped(t *testing.T) {
	t.Parallel()
	// The buffer holds more than is published, so only a stalled socket can
	// get a client dropped (write_timeout): the reader, however slow a busy
	// machine makes it, is never too_slow. stream_resume_test covers those.
	env := setupStream(t, stream.Options{Buffer: 1024, WriteTimeout: 300 * time.Millisecond}, func(s *httptest.Server) {
		// Small socket buffers so the stalled connection fills quickly.
		s.Config.ConnState = func(c net.Conn, state http.ConnState) {
			if tc, ok := c.(*net.TCPConn); ok && state == http.StateNew {
				_ = tc.SetWriteBuffer(4096)
			}
		}
	})
	tok := streamToken(t, "acme")
	blob := strings.Repeat("x", 2048)
	publishTimed := func(n int) []time.Duration {
		took := make([]time.Duration, n)
		for i := range took {
			in := publish.Input{Event: "order.created",
				Payload: json.RawMessage(fmt.Sprintf(`{"order_id":"ORD-%d","status":"confirmed","amount":1,"notes":%q}`, i, blob))}
			start := time.Now()
			if _, err := env.publisher.Publish(context.Background(), "acme", "p", []publish.Input{in}); err != nil {
				t.Fatal(err)
			}
			took[i] = time.Since(start)
		}
		return took
	}
	baseline := median(publishTimed(50))

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	reader := env.open(t, ctx, "", bearer(tok))
	defer reader.Body.Close()
	var read atomic.Int64
	go func() {
		sc := bufio.NewScanner(reader.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if len(sc.Bytes()) > 0 {
				read.Add(1)
			}
		}
	}()
	stalled, err := net.Dial("tcp", env.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	fmt.Fprintf(stalled, "GET /api/events/stream/ HTTP/1.1\r\nHost: hookd\r\nAuthorization: Bearer %s\r\n\r\n", tok)
	env.waitSubscribers(t, 2)

	const published = 400
	during := median(publishTimed(published))
	deadline := time.Now().Add(20 * time.Second)
	for env.metric(t, `hookd_stream_dropped_total{reason="too_slow"}`)+env.metric(t, `hookd_stream_dropped_total{reason="write_timeout"}`) < 1 ||
		env.metric(t, `hookd_stream_open{format="json"}`) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the stalled client was not dropped: %d subscribers, %v open, drops: too_slow %v, write_timeout %v", env.broker.Subscribers(),
				env.metric(t, `hookd_stream_open{format="json"}`), env.metric(t, `hookd_stream_dropped_total{reason="too_slow"}`), env.metric(t, `hookd_stream_dropped_total{reason="write_timeout"}`))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("median publish latency %v without streams, %v with a stalled reader; drops: too_slow %v, write_timeout %v",
		baseline, during, env.metric(t, `hookd_stream_dropped_total{reason="too_slow"}`), env.metric(t, `hookd_stream_dropped_total{reason="write_timeout"}`))
	if during > 5*baseline+10*time.Millisecond {
		t.Fatalf("publishing slowed from %v to %v with a stalled reader", baseline, during)
	}
	// The reader may still be catching up on a busy machine: give it time,
	// then check it got every event and no more.
	for deadline := time.Now().Add(20 * time.Second); read.Load() < published && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if n := read.Load(); n != published {
		t.Fatalf("the reading client got %d events, want %d", n, published)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestStreamShutdownSaysWhy closes the broker, as serve does when it
// shuts down: SSE clients get a final comment, NDJSON clients a trailer,
// and new streams are refused in the envelope.
func TestStreamShutdownSaysWhy(t *testing.T) {
	t.Parallel()
	env := setupStream(t, stream.Options{})
	tok := streamToken(t, "acme")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sseResp := env.open(t, ctx, "format=sse", bearer(tok))
	defer sseResp.Body.Close()
	ndjson := env.open(t, ctx, "format=json", bearer(tok))
	defer ndjson.Body.Close()
	env.waitSubscribers(t, 2)
	ev := env.publish(t, "acme", "order.created")[0]
	env.broker.Close()

	body, err := io.ReadAll(sseResp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(body), "id: "+ev.ID+"\n") ||
		!strings.HasSuffix(string(body), "\n\n: disconnected: server shutting down, resume with Last-Event-ID\n\n") {
		t.Fatalf("SSE stream:\n%s", body)
	}
	lines, err := io.ReadAll(ndjson.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(lines) != string(outbound.EventBody(&ev, false))+"\n" {
		t.Fatalf("NDJSON stream: %q", lines)
	}
	if got := ndjson.Trailer.Get(stream.EndHeader); got != stream.ReasonShutdown {
		t.Fatalf("trailer %s = %q, want %q", stream.EndHeader, got, stream.ReasonShutdown)
	}
	if n := env.metric(t, `hookd_stream_dropped_total{reason="shutdown"}`); n != 2 {
		t.Fatalf("dropped shutdown = %v, want 2", n)
	}
	late := env.open(t, ctx, "", bearer(tok))
	defer late.Body.Close()
	var envl struct{ Error struct{ Code string } }
	_ = json.NewDecoder(late.Body).Decode(&envl)
	if late.StatusCode != 500 || envl.Error.Code != "internal_error" {
		t.Fatalf("a stream after shutdown: %d %+v", late.StatusCode, envl)
	}
}
