// Package integrationstest holds what the integration providers' tests
// share: provider deps over the real guarded client, events, and a fake
// service on loopback that records what it receives.
package integrationstest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/outbound"
)

// UserAgent is the User-Agent of Deps.
const UserAgent = "hookd/test"

// Now is the fixed clock of Deps.
var Now = time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)

// Deps returns provider deps that send over the SSRF-guarded delivery
// client with loopback allowed (the fakes live there).
func Deps(tb testing.TB) integrations.Deps {
	tb.Helper()
	client := outbound.NewClient(outbound.NewTransport(&outbound.Guard{AllowPrivate: true}, 5*time.Second, 0), 5*time.Second)
	return integrations.Deps{Client: client, UserAgent: UserAgent, Now: func() time.Time { return Now }}
}

// GuardedDeps returns provider deps whose client refuses private and
// loopback targets, as production does.
func GuardedDeps(tb testing.TB) integrations.Deps {
	tb.Helper()
	d := Deps(tb)
	d.Client = outbound.NewClient(outbound.NewTransport(&outbound.Guard{}, 5*time.Second, 0), 5*time.Second)
	return d
}

// Event returns a published event of type typ with payload.
func Event(typ, payload string) *hookd.Event {
	return &hookd.Event{ID: "evt_01HQTEST0000000000000000AB", Tenant: "acme", Type: typ, Version: "1.0",
		Payload: json.RawMessage(payload), CreatedAt: Now}
}

// Message returns a message for a queued (not test) send of ev.
func Message(ev *hookd.Event) *integrations.Message {
	return &integrations.Message{Event: ev, DeliveryID: 42}
}

// Request is one request a Fake received.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
}

// Fake is a service on loopback that records every request and answers
// with Answer (200 "ok" when nil).
type Fake struct {
	*httptest.Server
	mu     sync.Mutex
	got    []Request
	answer func(w http.ResponseWriter, r *http.Request, body []byte)
}

// NewFake starts a Fake, closed when the test ends.
func NewFake(tb testing.TB, answer func(w http.ResponseWriter, r *http.Request, body []byte)) *Fake {
	tb.Helper()
	f := &Fake{answer: answer}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got = append(f.got, Request{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		answer := f.answer
		f.mu.Unlock()
		if answer == nil {
			_, _ = io.WriteString(w, "ok")
			return
		}
		answer(w, r, body)
	}))
	tb.Cleanup(f.Close)
	return f
}

// Requests returns what arrived so far.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.got...)
}

// Only returns the one request that arrived, failing the test otherwise.
func (f *Fake) Only(tb testing.TB) Request {
	tb.Helper()
	got := f.Requests()
	if len(got) != 1 {
		tb.Fatalf("the fake got %d requests, want 1", len(got))
	}
	return got[0]
}

// SendError returns err as a *integrations.SendError, failing the test
// when it is not one.
func SendError(tb testing.TB, err error) *integrations.SendError {
	tb.Helper()
	se, ok := err.(*integrations.SendError)
	if !ok {
		tb.Fatalf("error %v (%T) is not a *SendError", err, err)
	}
	return se
}
