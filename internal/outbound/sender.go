package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// Response bodies are read up to maxReadBody and stored up to
// hookd.MaxStoredResponseBody (docs/api.md §6).
const maxReadBody = 64 << 10

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
	now := s.Now()
	h := s.Headers(m, now)
	out := Outcome{Attempt: hookd.Attempt{StartedAt: now}}
	if m.Auth != nil {
		if err := m.Auth.Authorize(ctx, h); err != nil {
			out.Attempt.RequestHeaders = flatten(h)
			out.Attempt.ErrorType, out.Attempt.ErrorMessage = hookd.ErrTypeAuth, authMessage(err)
			return out
		}
	}
	out.Attempt.RequestHeaders = flatten(h)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		out.Attempt.ErrorType, out.Attempt.ErrorMessage = hookd.ErrTypeConnection, "invalid URL: "+err.Error()
		return out
	}
	req.Header = h
	client := s.Client
	if m.Client != nil {
		client = m.Client
	}
	start := time.Now()
	resp, body, err := do(client, req)
	if err == nil && resp.StatusCode == http.StatusUnauthorized && m.Auth != nil {
		fresh, aerr := m.Auth.Refresh(ctx, h)
		if aerr != nil {
			out.Attempt.ErrorType, out.Attempt.ErrorMessage = hookd.ErrTypeAuth, authMessage(aerr)
			return out
		}
		if fresh {
			again := req.Clone(ctx)
			again.Body, _ = req.GetBody() // a bytes.Reader's: never fails
			start = time.Now()
			resp, body, err = do(client, again)
		}
	}
	out.Attempt.ResponseTimeMs = time.Since(start).Milliseconds()
	if resp != nil {
		code := resp.StatusCode
		out.Status = code
		out.Attempt.ResponseCode = &code
		out.Attempt.ResponseBody = hookd.StoredResponseBody(body)
		if HonorsRetryAfter(code) {
			out.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), s.Now())
		}
	}
	if err == nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		out.Success = true
		return out
	}
	out.Attempt.ErrorType, out.Attempt.ErrorMessage = Classify(err, resp)
	return out
}

// Headers builds the headers of m's attempt at now (docs/api.md §6):
// content type, user agent, the webhook's own headers, the event, id and
// delivery headers and both signatures. The HTTP request carries them;
// a message broker destination sends them as message headers.
func (s *Sender) Headers(m Message, now time.Time) http.Header {
	xSig, whSig := SignatureHeaders(m.EventID, now, m.Body, m.Secret, m.PreviousSecret)
	h := make(http.Header, len(m.Headers)+9)
	for k, v := range m.Headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", s.UserAgent)
	h.Set("X-Webhook-Event", m.EventType)
	h.Set("X-Webhook-ID", m.EventID)
	h.Set("X-Webhook-Delivery", strconv.FormatInt(m.DeliveryID, 10))
	h.Set("X-Webhook-Signature", xSig)
	// Standard Webhooks header names are lower-case; set them verbatim.
	h["webhook-id"] = []string{m.EventID}
	h["webhook-timestamp"] = []string{strconv.FormatInt(now.Unix(), 10)}
	h["webhook-signature"] = []string{whSig}
	return h
}

// do sends req and reads the answer's body up to maxReadBody.
func do(client *http.Client, req *http.Request) (*http.Response, []byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return resp, nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReadBody))
	// Drain a little more so the connection can be reused, then close.
	_, _ = io.CopyN(io.Discard, resp.Body, maxReadBody)
	resp.Body.Close()
	return resp, body, err
}

// flatten turns headers into the stored form, secrets masked.
func flatten(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		v := ""
		if len(vs) > 0 {
			v = vs[0]
		}
		if hookd.SensitiveHeader(k) {
			v = hookd.Masked
		}
		out[k] = v
	}
	return out
}
