package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// Response bodies are read up to maxReadBody and stored up to
// hookd.MaxStoredResponseBody (docs/api.md §6).
const maxReadBody int64 = 64 << 10

// Message is one HTTP request to make for a delivery.
type Message struct {
	URL            string
	Headers        map[string]string // the webhook's own
	Secret         string
	PreviousSecret string // "" unless still within its overlap
	EventID        string
	EventType      string
	DeliveryID     int64
	Body           []byte
	// Auth, when set, puts the endpoint's credentials on the request.
	Auth Authorizer
	// Client, when set, sends this message instead of the Sender's own
	// (one that presents a client certificate, say).
	Client *http.Client
	// Target, when set, is URL, Headers and both secrets made ready once
	// for many messages (NewTarget from the same values): Send takes
	// them from it, and still signs with the previous secret only while
	// PreviousSecret is set.
	Target *Target
}

// Outcome is what one attempt found.
type Outcome struct {
	Attempt    hookd.Attempt
	Success    bool
	Status     int           // 0 when no response came
	RetryAfter time.Duration // from Retry-After on 429/502/503/504
	// Permanent says retrying cannot help (e.g. an integration's service
	// refused the credentials): the delivery fails for good at once.
	// HTTP webhooks never set it: their owner may fix any failure.
	Permanent bool
	// Unsubscribed says the destination's service ended the subscription
	// (a REST Hook answering 410 Gone): its row is to be removed, not only
	// switched off.
	Unsubscribed bool
}

// Sender signs and sends deliveries over a guarded HTTP client.
type Sender struct {
	Client    *http.Client
	UserAgent string
	Now       hookd.Clock
	// Deliveries, when set, sends every message without a client of its
	// own; Client still serves those and anything else (integrations,
	// token requests).
	Deliveries *DeliveryClient
}

// EventBody renders the body sent for an event (docs/api.md §6):
// {"id","event","version","timestamp","data"[,"test":true][,"erased":true]}
// (an erased event's data is null, docs/api.md §13). It is built
// by hand, not with json.Marshal, because this runs for every delivery and
// the payload is already compact, valid JSON (hookd.CompactJSON at publish):
// it is copied as it is, not scanned again.
func EventBody(ev *hookd.Event, test bool) []byte {
	version := ev.Version
	if version == "" {
		version = "1.0"
	}
	payload := []byte(ev.Payload)
	if len(payload) == 0 {
		payload = []byte("null")
	}
	b := make([]byte, 0, len(payload)+160)
	b = append(b, `{"id":`...)
	b = appendJSONString(b, ev.ID)
	b = append(b, `,"event":`...)
	b = appendJSONString(b, ev.Type)
	b = append(b, `,"version":`...)
	b = appendJSONString(b, version)
	b = append(b, `,"timestamp":"`...)
	b = ev.CreatedAt.UTC().Truncate(time.Millisecond).AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","data":`...)
	b = append(b, payload...)
	if test {
		b = append(b, `,"test":true`...)
	}
	if ev.Erased() {
		b = append(b, `,"erased":true`...)
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string, as json.Marshal writes it.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // rare: let the library escape it
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Send makes one attempt. It never returns an error: failures are
// classified into the Outcome.
func (s *Sender) Send(ctx context.Context, m Message) Outcome {
	t := m.target()
	now := s.Now()
	h, stored := t.headers(&m, s.UserAgent, now, m.Auth == nil)
	out := Outcome{Attempt: hookd.Attempt{StartedAt: now, RequestHeaders: stored}}
	if m.Auth != nil {
		err := m.Auth.Authorize(ctx, h)
		out.Attempt.RequestHeaders = hookd.FlattenHeaders(h, t.masks)
		if err != nil {
			out.Attempt.ErrorType, out.Attempt.ErrorMessage = hookd.ErrTypeAuth, authMessage(err)
			return out
		}
	}
	if t.urlErr != nil {
		out.Attempt.ErrorType, out.Attempt.ErrorMessage = hookd.ErrTypeConnection, "invalid URL: "+t.urlErr.Error()
		return out
	}
	send := s.sendFunc(ctx, &m, t, h)
	start := time.Now()
	a, err := send()
	if err == nil && a.code == http.StatusUnauthorized && m.Auth != nil {
		fresh, aerr := m.Auth.Refresh(ctx, h)
		if aerr != nil {
			out.Attempt.ErrorType, out.Attempt.ErrorMessage = hookd.ErrTypeAuth, authMessage(aerr)
			return out
		}
		if fresh {
			start = time.Now()
			a, err = send()
		}
	}
	out.Attempt.ResponseTimeMs = time.Since(start).Milliseconds()
	if code := a.code; code != 0 {
		out.Status = code
		out.Attempt.ResponseCode = &code
		out.Attempt.ResponseBody = a.body
		if HonorsRetryAfter(code) {
			out.RetryAfter = ParseRetryAfter(a.retryAfter, s.Now())
		}
	}
	switch {
	case err != nil: // no answer, or one whose body could not be read
		out.Attempt.ErrorType, out.Attempt.ErrorMessage = classifyErr(err)
	case a.code >= 200 && a.code < 300:
		out.Success = true
	default:
		out.Attempt.ErrorType, out.Attempt.ErrorMessage = classifyStatus(a.code, a.reason)
	}
	return out
}

// sendFunc returns what sends m's request with headers h (read again on
// each call, so a refreshed credential goes with a second try): through
// the Sender's DeliveryClient unless m has a client of its own or the
// Sender none, else with net/http.
func (s *Sender) sendFunc(ctx context.Context, m *Message, t *Target, h http.Header) func() (answer, error) {
	if m.Client == nil && s.Deliveries != nil {
		return func() (answer, error) { return s.Deliveries.post(ctx, t, h, m.Body) }
	}
	client := s.Client
	if m.Client != nil {
		client = m.Client
	}
	return func() (answer, error) { return do(client, t.request(ctx, h, m.Body)) }
}

// target is m's Target, made for this message alone when it has none.
func (m *Message) target() *Target {
	if m.Target != nil {
		return m.Target
	}
	return NewTarget(m.URL, m.Headers, m.Secret, m.PreviousSecret, nil)
}

// Headers builds the headers of m's attempt at now (docs/api.md §6):
// content type, user agent, the webhook's own headers, the event, id and
// delivery headers and both signatures. The HTTP request carries them;
// a message broker destination sends them as message headers.
func (s *Sender) Headers(m Message, now time.Time) http.Header {
	t := m.Target
	if t == nil {
		t = newHeaderTarget(m.Headers, m.Secret, m.PreviousSecret, nil)
	}
	h, _ := t.headers(&m, s.UserAgent, now, false)
	return h
}

// request is the POST of body with headers h to t's URL. It is built by
// hand, not with http.NewRequest, so the URL parsed once serves every
// delivery (the client and transport only read it).
func (t *Target) request(ctx context.Context, h http.Header, body []byte) *http.Request {
	r := &requestBody{body: body}
	r.Reset(body)
	req := http.Request{
		Method: http.MethodPost, URL: t.url, Host: t.url.Host,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		// A *bytes.Reader in io.NopCloser is a body net/http knows is in
		// memory: it writes headers and body in one write. Any other
		// type has its headers flushed alone first, a second write and
		// segment per delivery.
		Header: h, Body: io.NopCloser(&r.Reader), ContentLength: int64(len(body)),
		// So the transport can send it again on a kept-alive connection
		// the receiver had closed.
		GetBody: r.again,
	}
	return req.WithContext(ctx)
}

// requestBody is a request's body that can be read afresh.
type requestBody struct {
	bytes.Reader
	body []byte
}

func (r *requestBody) again() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(r.body)), nil
}

// readBufs hold the part of a response body an attempt keeps, and the
// byte after it that tells whether the body had to be cut.
var readBufs = sync.Pool{New: func() any { return new([hookd.MaxStoredResponseBody + 1]byte) }}

// do sends req with net/http and reads the answer as stored. A body
// longer than maxReadBody is left unread (the connection is then closed).
func do(client *http.Client, req *http.Request) (answer, error) {
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	a := answer{code: resp.StatusCode, reason: statusReason(resp), retryAfter: resp.Header.Get("Retry-After")}
	a.body, err = readStored(resp.Body)
	return a, err
}
