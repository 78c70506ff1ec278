package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// StreamOptions choose the events of a stream and where it resumes.
type StreamOptions struct {
	// Events is a comma-separated list of event types, order.* wildcards
	// or * (default: all).
	Events string
	// LastEventID resumes after this event: the tenant's stored events
	// after it are replayed first, then the stream goes live.
	LastEventID string
	// IdleTimeout ends the stream with ErrStreamIdle when nothing, not
	// even a keep-alive (sent every 15 s), arrives for this long; 0: no
	// limit.
	IdleTimeout time.Duration
}

// StreamEvent is one event of a stream: its id and type, and Body, the
// delivery body exactly as a webhook receives it.
type StreamEvent struct {
	ID   string
	Type string
	Body []byte
}

// Stream is an open event stream (NDJSON). Read it with Next; Close it
// when done.
type Stream struct {
	resp     *http.Response
	lines    *bufio.Scanner
	idle     time.Duration
	watchdog *time.Timer
	idled    atomic.Bool
}

// maxStreamLine bounds one event line (an event body is at most 1 MiB).
const maxStreamLine = 4 << 20

// OpenStream opens the tenant's live event stream. The connection has no
// time limit: end it with ctx or Close. A refused stream is a *Error
// (e.g. 404 when LastEventID is no longer stored). Streams are not
// retried: a caller resumes with LastEventID.
func (c *Client) OpenStream(ctx context.Context, opts StreamOptions) (*Stream, error) {
	u := *c.base
	u.Path = c.base.Path + "/api/events/stream/"
	q := url.Values{"format": {"json"}}
	if opts.Events != "" {
		q.Set("events", opts.Events)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/x-ndjson")
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if opts.LastEventID != "" {
		req.Header.Set("Last-Event-ID", opts.LastEventID)
	}
	hc := *c.http
	hc.Timeout = 0 // a stream stays open
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var env envelope
		if json.Unmarshal(raw, &env) == nil && env.Error != nil {
			return nil, &Error{Status: resp.StatusCode, Code: env.Error.Code, Message: env.Error.Message,
				Details: env.Error.Details, RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
		}
		return nil, &Error{Status: resp.StatusCode, Code: fmt.Sprintf("http_%d", resp.StatusCode), Message: string(bytes.TrimSpace(raw))}
	}
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(make([]byte, 64<<10), maxStreamLine)
	s := &Stream{resp: resp, lines: lines, idle: opts.IdleTimeout}
	if s.idle > 0 {
		s.watchdog = time.AfterFunc(s.idle, func() { s.idled.Store(true); resp.Body.Close() })
	}
	return s, nil
}

// ErrStreamIdle is Next's error when nothing arrived within
// StreamOptions.IdleTimeout.
var ErrStreamIdle = errors.New("hookd: nothing received within the idle timeout")

// ErrStreamEnded is Next's error when the server ended the stream; the
// reason (too_slow, write_timeout, shutdown) is in EndReason.
var ErrStreamEnded = errors.New("hookd: the server ended the stream")

// Next returns the next event, skipping keep-alives (blank lines) and
// lines that are not events. It blocks until one arrives, the stream
// ends (ErrStreamEnded), nothing arrives within the idle timeout
// (ErrStreamIdle) or the connection fails. The idle timeout runs only
// while Next waits, not while the caller handles an event.
func (s *Stream) Next() (StreamEvent, error) {
	if s.watchdog != nil {
		s.watchdog.Reset(s.idle)
	}
	for s.lines.Scan() {
		if s.watchdog != nil {
			s.watchdog.Reset(s.idle)
		}
		line := bytes.TrimSpace(s.lines.Bytes())
		if len(line) == 0 {
			continue // keep-alive
		}
		var ev struct {
			ID    string `json:"id"`
			Event string `json:"event"`
		}
		if json.Unmarshal(line, &ev) != nil || ev.ID == "" {
			continue
		}
		if s.watchdog != nil {
			s.watchdog.Stop()
		}
		return StreamEvent{ID: ev.ID, Type: ev.Event, Body: bytes.Clone(line)}, nil
	}
	if s.idled.Load() {
		return StreamEvent{}, ErrStreamIdle
	}
	if err := s.lines.Err(); err != nil {
		return StreamEvent{}, err
	}
	return StreamEvent{}, ErrStreamEnded
}

// EndReason is why the server ended the stream (the Hookd-Stream-End
// trailer), once Next returned ErrStreamEnded; "" when it gave none.
func (s *Stream) EndReason() string { return s.resp.Trailer.Get("Hookd-Stream-End") }

// Close ends the stream.
func (s *Stream) Close() error {
	if s.watchdog != nil {
		s.watchdog.Stop()
	}
	return s.resp.Body.Close()
}
