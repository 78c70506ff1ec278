package stream

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookd/hookd/internal/hookd"
)

// hookedSource calls before and after around each EventsAfter (numbered
// from 1), so a test can commit events at the exact edges of a replay.
type hookedSource struct {
	Source
	mu            sync.Mutex
	calls         int
	before, after func(call int)
	caughtUp      chan struct{} // closed by the first short read: the replay's last
	once          sync.Once
}

func (h *hookedSource) EventsAfter(ctx context.Context, tenant string, afterSeq int64, limit int) ([]*hookd.Event, error) {
	h.mu.Lock()
	h.calls++
	call := h.calls
	h.mu.Unlock()
	if h.before != nil {
		h.before(call)
	}
	evs, err := h.Source.EventsAfter(ctx, tenant, afterSeq, limit)
	if h.after != nil {
		h.after(call)
	}
	if err == nil && len(evs) < limit {
		h.once.Do(func() { close(h.caughtUp) })
	}
	return evs, err
}

// streamSetup is a real store, a broker fed in commit order, and a
// streamer served over HTTP.
type streamSetup struct {
	store   hookd.Store
	source  *hookedSource
	metrics *prometheus.Registry
	url     string
}

func setupStreamer(t *testing.T, opts Options) *streamSetup {
	t.Helper()
	st := openStore(t)
	b := NewMemory()
	s := &streamSetup{store: PublishOnCommit(st, b), source: &hookedSource{Source: st, caughtUp: make(chan struct{})}, metrics: prometheus.NewRegistry()}
	streamer := NewStreamer(b, s.source, NewMetrics(s.metrics), opts)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := Request{Tenant: "acme", Format: JSON}
		if v := r.URL.Query().Get("after"); v != "" {
			req.Resume = true
			req.AfterSeq, _ = strconv.ParseInt(v, 10, 64)
		}
		if err := streamer.Serve(r.Context(), w, req); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	t.Cleanup(func() { b.Close(); srv.Close() })
	s.url = srv.URL
	return s
}

// publish commits n events of tenant acme and returns them.
func (s *streamSetup) publish(t *testing.T, n int) []hookd.Event {
	t.Helper()
	reqs := make([]hookd.PublishRequest, n)
	for i := range reqs {
		reqs[i] = request(t, "acme", "")
	}
	res, err := s.store.PublishEvents(context.Background(), reqs)
	if err != nil {
		t.Error(err) // may run on the handler's goroutine
		return nil
	}
	out := make([]hookd.Event, len(res))
	for i, r := range res {
		out[i] = r.Event
	}
	return out
}

// readUntil reads NDJSON event ids from the stream until it sees last.
func readUntil(t *testing.T, body *bufio.Scanner, last string) []string {
	t.Helper()
	var ids []string
	for body.Scan() {
		if len(body.Bytes()) == 0 {
			continue
		}
		var e struct{ ID string }
		if err := json.Unmarshal(body.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", body.Bytes(), err)
		}
		ids = append(ids, e.ID)
		if e.ID == last {
			return ids
		}
	}
	t.Fatalf("stream ended after %d events without %s: %v", len(ids), last, body.Err())
	return nil
}

// TestStreamerResumeEdges commits events at each edge of a resume — after
// the subscription but before the replay reads the store, after the last
// replay read but before going live, and enough during the replay to
// overflow the live buffer — and checks the client gets every event after
// the resume point exactly once, in order, without being dropped.
func TestStreamerResumeEdges(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		opts          Options
		before, after func(s *streamSetup, t *testing.T, call int)
	}{
		{name: "commit between subscribe and the replay read",
			opts: Options{ReplayPage: 100},
			before: func(s *streamSetup, t *testing.T, call int) {
				if call == 1 {
					s.publish(t, 5)
				}
			}},
		{name: "commit after the last replay read",
			opts: Options{ReplayPage: 100},
			after: func(s *streamSetup, t *testing.T, call int) {
				if call == 1 {
					s.publish(t, 5)
				}
			}},
		{name: "commits on every page of a multi-page replay",
			opts: Options{ReplayPage: 4},
			before: func(s *streamSetup, t *testing.T, call int) {
				if call <= 3 {
					s.publish(t, 3)
				}
			}},
		{name: "live buffer overflows during the replay",
			opts: Options{ReplayPage: 3, Buffer: 2},
			before: func(s *streamSetup, t *testing.T, call int) {
				if call == 1 {
					for range 4 {
						s.publish(t, 3)
					}
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := setupStreamer(t, tc.opts)
			stored := s.publish(t, 20)
			resumeAfter := stored[4]
			if tc.before != nil {
				s.source.before = func(call int) { tc.before(s, t, call) }
			}
			if tc.after != nil {
				s.source.after = func(call int) { tc.after(s, t, call) }
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", s.url+"?after="+strconv.FormatInt(resumeAfter.Seq, 10), nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			lines := bufio.NewScanner(resp.Body)
			// Once the replay has read its last page, every hook has run:
			// publish a last event, live, and read up to it.
			select {
			case <-s.source.caughtUp:
			case <-ctx.Done():
				t.Fatal("the replay never caught up")
			}
			sentinel := s.publish(t, 1)[0]
			got := readUntil(t, lines, sentinel.ID)

			want, err := s.source.Source.EventsAfter(t.Context(), "acme", resumeAfter.Seq, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d events, want the %d after the resume point", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i].ID {
					t.Fatalf("event %d is %s, want %s", i, got[i], want[i].ID)
				}
			}
			for _, r := range []string{ReasonTooSlow, ReasonError, ReasonShutdown, ReasonWriteTimeout} {
				if n := metricValue(t, s.metrics, "hookd_stream_dropped_total", r); n != 0 {
					t.Errorf("dropped %s = %v, want 0", r, n)
				}
			}
			// The counter moves after the write the client already read.
			sent := func() float64 {
				return metricValue(t, s.metrics, "hookd_stream_events_sent_total", "replay") + metricValue(t, s.metrics, "hookd_stream_events_sent_total", "live")
			}
			for deadline := time.Now().Add(5 * time.Second); sent() != float64(len(want)) && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			if n := sent(); n != float64(len(want)) {
				t.Errorf("events sent = %v, want %d", n, len(want))
			}
			if n := s.source.calls; n < 1 {
				t.Errorf("the store was read %d times", n)
			}
			t.Logf("%d events, store read %d times", len(got), s.source.calls)
		})
	}
}

// TestStreamerLiveOverflowDisconnects checks that a live subscriber that
// falls behind is disconnected with the reason, not silently skipped.
func TestStreamerLiveOverflowDisconnects(t *testing.T) {
	t.Parallel()
	b := NewMemory()
	reg := prometheus.NewRegistry()
	streamer := NewStreamer(b, nil, NewMetrics(reg), Options{Buffer: 2})
	release, blocked := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = streamer.Serve(r.Context(), &blockingWriter{ResponseWriter: w, release: release, blocked: blocked}, Request{Tenant: "acme", Format: SSE})
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for b.Subscribers() == 0 {
		time.Sleep(time.Millisecond)
	}
	// The handler blocks on its first event write while more arrive: two
	// fit its buffer, the next overflows it.
	b.Publish([]hookd.Event{ev("acme", "order.created", 1)})
	<-blocked
	for seq := int64(2); seq <= 10; seq++ {
		b.Publish([]hookd.Event{ev("acme", "order.created", seq)})
	}
	close(release)
	body := bufio.NewScanner(resp.Body)
	var lines []string
	for body.Scan() {
		lines = append(lines, body.Text())
	}
	got := fmt.Sprint(lines)
	want := "[id: evt_acme_1 event: order.created data: {\"timestamp\":\"0001-01-01T00:00:00Z\"}  id: evt_acme_2 event: order.created data: {\"timestamp\":\"0001-01-01T00:00:00Z\"}  id: evt_acme_3 event: order.created data: {\"timestamp\":\"0001-01-01T00:00:00Z\"}  : disconnected: too slow, resume with Last-Event-ID ]"
	if got != want {
		t.Fatalf("stream:\n%s\nwant\n%s", got, want)
	}
	if resp.Trailer.Get(EndHeader) != ReasonTooSlow {
		t.Fatalf("trailer %s = %q, want %q", EndHeader, resp.Trailer.Get(EndHeader), ReasonTooSlow)
	}
	if n := metricValue(t, reg, "hookd_stream_dropped_total", ReasonTooSlow); n != 1 {
		t.Fatalf("dropped too_slow = %v, want 1", n)
	}
}

// blockingWriter holds the first event write until release is closed,
// closing blocked when it starts waiting.
type blockingWriter struct {
	http.ResponseWriter
	release, blocked chan struct{}
	writes           int
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	if w.writes++; w.writes == 1 {
		close(w.blocked)
		<-w.release
	}
	return w.ResponseWriter.Write(p)
}

func (w *blockingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// metricValue is the value of the named counter or gauge whose one label
// has the given value.
func metricValue(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label {
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}
