package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// Defaults of Options.
const (
	DefaultKeepAlive    = 15 * time.Second
	DefaultBuffer       = 1024
	DefaultWriteTimeout = 10 * time.Second
	DefaultReplayPage   = 500
)

// maxBatchBytes bounds how much one write gathers from events already
// waiting in a subscription.
const maxBatchBytes = 64 << 10

// EndHeader is the HTTP trailer that names why the server ended a
// stream (a Reason* value); NDJSON readers have no other way to learn it.
const EndHeader = "Hookd-Stream-End"

// Source is where a resumed stream finds the events it missed: the
// store's EventsAfter (test sends excluded).
type Source interface {
	EventsAfter(ctx context.Context, tenant string, afterSeq int64, limit int) ([]*hookd.Event, error)
}

// Options tune a Streamer; zero values take the defaults.
type Options struct {
	// KeepAlive is the time between keep-alives (": ping" in SSE, a
	// blank line in NDJSON).
	KeepAlive time.Duration
	// Buffer is how many live events a subscriber may fall behind before
	// it is disconnected as too slow.
	Buffer int
	// WriteTimeout bounds one write to the client: a reader that stopped
	// reading is disconnected after it.
	WriteTimeout time.Duration
	// ReplayPage is how many stored events a resume reads at a time.
	ReplayPage int
	// Logger receives store errors met while replaying.
	Logger *slog.Logger
}

// Streamer serves event streams: it subscribes to the broker, replays
// from the store when asked to resume, then writes live events.
type Streamer struct {
	broker  Broker
	source  Source
	metrics *Metrics
	opts    Options
}

// NewStreamer returns a Streamer reading live events from broker and
// missed ones from source.
func NewStreamer(broker Broker, source Source, metrics *Metrics, opts Options) *Streamer {
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = DefaultKeepAlive
	}
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultBuffer
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.ReplayPage <= 0 {
		opts.ReplayPage = DefaultReplayPage
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Streamer{broker: broker, source: source, metrics: metrics, opts: opts}
}

// Request is one stream to serve.
type Request struct {
	Tenant string
	// Events are the patterns to stream ("order.*"); none: every event.
	Events []string
	Format Format
	// Resume replays the tenant's stored events with Seq > AfterSeq before
	// going live (Last-Event-ID); without it the stream starts live.
	Resume   bool
	AfterSeq int64
}

// errClientGone ends a stream whose client hung up; it is not a drop.
var errClientGone = errors.New("stream: client gone")

// errWriteTimeout ends a stream whose client stopped reading.
var errWriteTimeout = errors.New("stream: write timed out")

// errReplay ends a stream whose replay could not read the store.
var errReplay = errors.New("stream: replay failed")

// Serve writes the stream's headers at once, then events until ctx ends
// (the client hung up), the subscription is dropped or a write fails.
// It returns an error only when the stream could not start; nothing was
// written then, so the caller can answer it. A stream the server ends
// gets an SSE comment and the EndHeader trailer saying why.
func (s *Streamer) Serve(ctx context.Context, w http.ResponseWriter, req Request) error {
	sub, err := s.broker.Subscribe(req.Tenant, req.Events, s.opts.Buffer)
	if err != nil {
		return err
	}
	ss := &session{s: s, req: req, w: w, rc: http.NewResponseController(w), flushW: flushFunc(w), sub: sub, last: req.AfterSeq}
	defer func() { ss.sub.Close() }()

	h := w.Header()
	h.Set("Content-Type", req.Format.ContentType())
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // tells nginx not to buffer the stream
	h.Set("Trailer", EndHeader)
	w.WriteHeader(http.StatusOK)
	open := s.metrics.open.WithLabelValues(string(req.Format))
	open.Inc()
	defer open.Dec()

	err = ss.flush()
	if err == nil {
		err = ss.run(ctx)
	}
	if reason := reasonOf(err); reason != "" {
		s.metrics.dropped.WithLabelValues(reason).Inc()
		ss.finish(reason)
	}
	return nil
}

// reasonOf maps how a stream ended to a Reason* ("" when the client left).
func reasonOf(err error) string {
	switch {
	case errors.Is(err, ErrTooSlow):
		return ReasonTooSlow
	case errors.Is(err, errWriteTimeout):
		return ReasonWriteTimeout
	case errors.Is(err, ErrClosed):
		return ReasonShutdown
	case errors.Is(err, errReplay):
		return ReasonError
	}
	return ""
}

// explanations are the words of the final SSE comment, by reason.
var explanations = map[string]string{
	ReasonTooSlow:      "too slow",
	ReasonWriteTimeout: "write timed out",
	ReasonShutdown:     "server shutting down",
	ReasonError:        "server error",
}

// session is one stream being served.
type session struct {
	s      *Streamer
	req    Request
	w      http.ResponseWriter
	rc     *http.ResponseController
	flushW func() error
	sub    Subscription
	// last is the Seq of the last event written or passed over: live
	// events at or below it were already replayed.
	last int64
	buf  []byte
}

func (ss *session) run(ctx context.Context) error {
	if ss.req.Resume {
		if err := ss.replay(ctx); err != nil {
			return err
		}
	}
	return ss.live(ctx)
}

// replay writes the stored events after ss.last until it has caught up
// with the subscription, which was opened first: an event that commits
// while the store is read arrives live as well, and live events at or
// below the last replayed Seq are dropped as seen. When the live buffer
// overflows during a long replay, everything it missed is in the store,
// so the session subscribes again and reads on.
func (ss *session) replay(ctx context.Context) error {
	for {
		if err := ss.catchUp(ctx); err != nil {
			return err
		}
		err := ss.sub.Err()
		if !errors.Is(err, ErrTooSlow) {
			return err // nil: caught up and still subscribed
		}
		ss.sub.Close()
		sub, err := ss.s.broker.Subscribe(ss.req.Tenant, ss.req.Events, ss.s.opts.Buffer)
		if err != nil {
			return err
		}
		ss.sub = sub
	}
}

// catchUp writes stored events page by page until a page comes back
// short or the subscription has ended.
func (ss *session) catchUp(ctx context.Context) error {
	limit := ss.s.opts.ReplayPage
	for {
		page, err := ss.s.source.EventsAfter(ctx, ss.req.Tenant, ss.last, limit)
		if err != nil {
			if ctx.Err() != nil {
				return errClientGone
			}
			ss.s.opts.Logger.Error("stream replay: read events", "tenant", ss.req.Tenant, "after_seq", ss.last, "err", err)
			return fmt.Errorf("%w: %v", errReplay, err)
		}
		ss.buf = ss.buf[:0]
		n := 0
		for _, ev := range page {
			ss.last = ev.Seq
			if ss.wants(ev) {
				ss.buf = ss.req.Format.appendEvent(ss.buf, ev)
				n++
			}
		}
		if n > 0 {
			if err := ss.write(); err != nil {
				return err
			}
			ss.s.metrics.sent.WithLabelValues("replay").Add(float64(n))
		}
		if len(page) < limit || ss.sub.Err() != nil {
			return nil
		}
	}
}

// live writes events as the subscription yields them, several at a time
// when they are already waiting, and a keep-alive every interval.
func (ss *session) live(ctx context.Context) error {
	ping := time.NewTicker(ss.s.opts.KeepAlive)
	defer ping.Stop()
	events := ss.sub.Events()
	for {
		select {
		case <-ctx.Done():
			return errClientGone
		case <-ping.C:
			ss.buf = ss.req.Format.appendPing(ss.buf[:0])
			if err := ss.write(); err != nil {
				return err
			}
		case ev, ok := <-events:
			if !ok {
				return ss.ended()
			}
			ss.buf = ss.buf[:0]
			n := ss.add(ev)
			open := true
		gather:
			for len(ss.buf) < maxBatchBytes {
				select {
				case ev, ok := <-events:
					if !ok {
						open = false
						break gather
					}
					n += ss.add(ev)
				default:
					break gather
				}
			}
			if n > 0 {
				if err := ss.write(); err != nil {
					return err
				}
				ss.s.metrics.sent.WithLabelValues("live").Add(float64(n))
			}
			if !open {
				return ss.ended()
			}
		}
	}
}

// add appends a live event unless the replay already wrote it.
func (ss *session) add(ev *hookd.Event) int {
	if ev.Seq <= ss.last {
		return 0
	}
	ss.last = ev.Seq
	ss.buf = ss.req.Format.appendEvent(ss.buf, ev)
	return 1
}

// wants reports whether a replayed event matches the stream's patterns.
func (ss *session) wants(ev *hookd.Event) bool {
	return len(ss.req.Events) == 0 || hookd.SubscribesTo(ss.req.Events, ev.Type)
}

// ended says why the broker closed the subscription.
func (ss *session) ended() error {
	if err := ss.sub.Err(); err != nil {
		return err
	}
	return ErrClosed
}

// write sends ss.buf and flushes it, within the write timeout.
func (ss *session) write() error {
	// Not every ResponseWriter supports deadlines (httptest's recorder
	// does not); the stream works without, a stalled reader then only
	// ends when its connection does.
	_ = ss.rc.SetWriteDeadline(time.Now().Add(ss.s.opts.WriteTimeout))
	if _, err := ss.w.Write(ss.buf); err != nil {
		return writeError(err)
	}
	return ss.flush()
}

func (ss *session) flush() error {
	if err := ss.flushW(); err != nil {
		return writeError(err)
	}
	return nil
}

// flushFunc returns how to flush w and learn whether that failed: the
// FlushError of the first writer down the Unwrap chain that has one
// (net/http's own does). http.ResponseController stops at the first
// wrapper with a plain Flush, which cannot report an error, so a write
// timeout during a flush would pass unseen.
func flushFunc(w http.ResponseWriter) func() error {
	for cur := w; ; {
		if f, ok := cur.(interface{ FlushError() error }); ok {
			return f.FlushError
		}
		u, ok := cur.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return http.NewResponseController(w).Flush
		}
		cur = u.Unwrap()
	}
}

func writeError(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: %v", errWriteTimeout, err)
	}
	return errClientGone
}

// finish tells the client why the server ended its stream: an SSE
// comment, and the EndHeader trailer. Errors are ignored: the client may
// be the reason.
func (ss *session) finish(reason string) {
	ss.w.Header().Set(EndHeader, reason)
	ss.buf = ss.req.Format.appendComment(ss.buf[:0], "disconnected: "+explanations[reason]+", resume with Last-Event-ID")
	if len(ss.buf) > 0 && reason != ReasonWriteTimeout {
		_ = ss.write()
	}
}
