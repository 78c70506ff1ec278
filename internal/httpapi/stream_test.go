package httpapi

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sse "github.com/tmaxmax/go-sse"

	"github.com/hookd/hookd/internal/app"
	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/crypto"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
	"github.com/hookd/hookd/internal/publish"
	"github.com/hookd/hookd/internal/store/sqlite"
	"github.com/hookd/hookd/internal/stream"
)

// streamSecret signs the tokens of the stream tests.
const streamSecret = "stream-test-secret-0123456789abcdef"

// streamEnv is a real API server on a real SQLite file, with a broker fed
// in commit order as cmd/hookd wires it.
type streamEnv struct {
	srv       *httptest.Server
	store     *sqlite.Store
	publisher *publish.Publisher
	broker    *stream.Memory
	registry  *prometheus.Registry
}

// setupStream starts the server; configure may change the test server
// before it starts.
func setupStream(t *testing.T, opts stream.Options, configure ...func(*httptest.Server)) *streamEnv {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := crypto.New(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "hookd.db"), sqlite.Options{Cipher: box})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(context.Background(), auth.Options{HS256Secret: []byte(streamSecret)})
	if err != nil {
		t.Fatal(err)
	}
	env := &streamEnv{store: st, broker: stream.NewMemory(), registry: prometheus.NewRegistry()}
	env.publisher = publish.New(stream.PublishOnCommit(st, env.broker), publish.NewCache(st, cat, time.Now), nil, time.Now, rand.Reader)
	api := NewServer(withServices(Deps{Verifier: verifier, Registry: env.registry,
		Broker: env.broker, Stream: opts, Version: "test"},
		app.Deps{Store: st, Catalog: cat, Publisher: app.EnginePublisher{P: env.publisher}}))
	env.srv = httptest.NewUnstartedServer(api)
	for _, c := range configure {
		c(env.srv)
	}
	env.srv.Start()
	t.Cleanup(func() {
		env.broker.Close() // ends open streams, so Close does not wait for them
		env.srv.Close()
		verifier.Close()
		st.Close()
	})
	return env
}

// token returns a bearer token of a user of tenant.
func streamToken(t *testing.T, tenant string) string {
	t.Helper()
	tok, err := auth.Issue([]byte(streamSecret), auth.Principal{Tenant: tenant, User: "u"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// publish stores one event per type for tenant and returns them.
func (e *streamEnv) publish(t *testing.T, tenant string, types ...string) []hookd.Event {
	t.Helper()
	inputs := make([]publish.Input, len(types))
	for i, typ := range types {
		inputs[i] = publish.Input{Event: typ, Payload: samplePayload(typ, i)}
	}
	res, err := e.publisher.Publish(context.Background(), tenant, "publisher", inputs)
	if err != nil {
		t.Error(err)
		return nil
	}
	out := make([]hookd.Event, len(res))
	for i, r := range res {
		if r.Err != nil {
			t.Errorf("publish %s: %v", types[i], r.Err)
			return nil
		}
		out[i] = r.Event
	}
	return out
}

// samplePayload is a valid payload of the order and customer types the
// tests use.
func samplePayload(typ string, n int) json.RawMessage {
	if strings.HasPrefix(typ, "customer.") {
		return json.RawMessage(fmt.Sprintf(`{"customer_id":%d,"email":"c%d@example.com"}`, n+1, n))
	}
	return json.RawMessage(fmt.Sprintf(`{"order_id":"ORD-%d","status":"confirmed","amount":%d.5}`, n, n))
}

// open starts a stream request; the caller closes the body.
func (e *streamEnv) open(t *testing.T, ctx context.Context, query string, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/events/stream/?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// waitSubscribers waits until the broker has n subscriptions.
func (e *streamEnv) waitSubscribers(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.broker.Subscribers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers, want %d", e.broker.Subscribers(), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// metric reads one sample of the server's /metrics, e.g.
// `hookd_stream_open{format="sse"}`.
func (e *streamEnv) metric(t *testing.T, sample string) float64 {
	t.Helper()
	v, ok := e.sample(t, sample)
	if !ok {
		t.Fatalf("no sample %s in /metrics", sample)
	}
	return v
}

// sample reads one sample from /metrics, reporting whether it is there.
func (e *streamEnv) sample(t *testing.T, sample string) (float64, bool) {
	t.Helper()
	resp, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f, true
		}
	}
	return 0, false
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// cutter aborts the connection of a stream at its first write after
// the test armed it, as a dropped network connection would, and records
// the Last-Event-ID of the streams opened.
type cutter struct {
	next    http.Handler
	armed   atomic.Bool
	mu      sync.Mutex
	resumes []string
}

func (c *cutter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		c.mu.Lock()
		c.resumes = append(c.resumes, id)
		c.mu.Unlock()
	}
	c.next.ServeHTTP(&cuttingWriter{ResponseWriter: w, cutter: c}, r)
}

func (c *cutter) resumed() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.resumes)
}

// cuttingWriter is a ResponseWriter that a cutter can abort.
type cuttingWriter struct {
	http.ResponseWriter
	cutter *cutter
}

func (w *cuttingWriter) Write(p []byte) (int, error) {
	if w.cutter.armed.CompareAndSwap(true, false) {
		panic(http.ErrAbortHandler)
	}
	return w.ResponseWriter.Write(p)
}

func (w *cuttingWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

func (w *cuttingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestStreamSSEWithThirdPartyClient reads the SSE format with the
// go-sse client library, token in ?access_token= as EventSource sends
// it, and drops the connection in the middle: the library resumes with
// Last-Event-ID and gets every event exactly once, in order.
func TestStreamSSEWithThirdPartyClient(t *testing.T) {
	t.Parallel()
	cut := &cutter{}
	env := setupStream(t, stream.Options{}, func(s *httptest.Server) {
		cut.next = s.Config.Handler
		s.Config.Handler = cut
	})
	env.publish(t, "acme", "order.created") // before the stream: not part of it

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	q := url.Values{"format": {"sse"}, "events": {"order.*"}, "access_token": {streamToken(t, "acme")}}
	req, _ := http.NewRequestWithContext(ctx, "GET", env.srv.URL+"/api/events/stream/?"+q.Encode(), nil)
	client := &sse.Client{Backoff: sse.Backoff{InitialInterval: 50 * time.Millisecond, MaxRetries: 20},
		OnRetry: func(err error, d time.Duration) { t.Logf("go-sse reconnects in %v: %v", d, err) }}
	conn := client.NewConnection(req)
	received := make(chan sse.Event, 100)
	conn.SubscribeToAll(func(e sse.Event) { received <- e })
	done := make(chan error, 1)
	go func() { done <- conn.Connect() }()
	env.waitSubscribers(t, 1)

	var orders []hookd.Event
	expect := func(batch []hookd.Event) {
		t.Helper()
		for _, w := range batch {
			if w.Type == "customer.created" {
				continue
			}
			orders = append(orders, w)
			select {
			case got := <-received:
				checkSSEEvent(t, len(orders), got, w)
			case err := <-done:
				t.Fatalf("client stopped after %d events: %v", len(orders)-1, err)
			case <-ctx.Done():
				t.Fatalf("event %d did not arrive", len(orders))
			}
		}
	}
	types := []string{"order.created", "customer.created", "order.shipped"}
	expect(env.publish(t, "acme", types...))
	cut.armed.Store(true) // the next write breaks the connection: the next batch is lost on it
	expect(env.publish(t, "acme", types...))
	expect(env.publish(t, "acme", types...))
	select {
	case extra := <-received:
		t.Fatalf("an extra event arrived: %+v", extra)
	case <-time.After(100 * time.Millisecond):
	}
	if r := cut.resumed(); len(r) != 1 || r[0] != orders[1].ID {
		t.Fatalf("the client resumed with Last-Event-ID %v, want once with %s", r, orders[1].ID)
	}
	cancel()
	<-done
}

// checkSSEEvent compares an event read by go-sse with the one published.
func checkSSEEvent(t *testing.T, n int, got sse.Event, want hookd.Event) {
	t.Helper()
	if got.LastEventID != want.ID || got.Type != want.Type {
		t.Fatalf("event %d: id %s type %s, want %s %s", n, got.LastEventID, got.Type, want.ID, want.Type)
	}
	var data, payload map[string]any
	if err := json.Unmarshal([]byte(got.Data), &data); err != nil {
		t.Fatalf("event %d data %q: %v", n, got.Data, err)
	}
	_ = json.Unmarshal(want.Payload, &payload)
	if len(data) != len(payload)+1 || data["order_id"] != payload["order_id"] || data["amount"] != payload["amount"] ||
		data["timestamp"] != want.CreatedAt.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano) {
		t.Fatalf("event %d data %s, want payload %s plus the event's timestamp", n, got.Data, want.Payload)
	}
}

// TestStreamNDJSON reads the default format line by line: headers come at
// once, each line is a delivery body, idle streams get blank keep-alive
// lines, and the open-streams gauge counts the stream.
func TestStreamNDJSON(t *testing.T) {
	t.Parallel()
	env := setupStream(t, stream.Options{KeepAlive: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	resp := env.open(t, ctx, "events=order.created,customer.*", bearer(streamToken(t, "acme")))
	defer resp.Body.Close()
	// Nothing has been published yet: the headers came by themselves.
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	if n := env.metric(t, `hookd_stream_open{format="json"}`); n != 1 {
		t.Fatalf("open json streams = %v, want 1", n)
	}
	lines := bufio.NewScanner(resp.Body)
	if !lines.Scan() || lines.Text() != "" {
		t.Fatalf("first line of an idle stream %q, want a blank keep-alive (%v)", lines.Text(), lines.Err())
	}

	published := env.publish(t, "acme", "order.created", "order.shipped", "customer.created", "order.created")
	want := []hookd.Event{published[0], published[2], published[3]}
	for i := 0; i < len(want); {
		if !lines.Scan() {
			t.Fatalf("stream ended: %v", lines.Err())
		}
		if lines.Text() == "" {
			continue // keep-alive
		}
		body := string(outbound.EventBody(&want[i], false))
		if lines.Text() != body {
			t.Fatalf("line %d:\n%s\nwant the delivery body\n%s", i, lines.Text(), body)
		}
		i++
	}
	// The counter moves just after the write the client already read.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if n, ok := env.sample(t, `hookd_stream_events_sent_total{phase="live"}`); ok && n == 3 {
			break
		}
	}
	if n := env.metric(t, `hookd_stream_events_sent_total{phase="live"}`); n != 3 {
		t.Fatalf("events sent = %v, want 3", n)
	}
	cancel()
	resp.Body.Close()
	env.waitSubscribers(t, 0)
	if n := env.metric(t, `hookd_stream_open{format="json"}`); n != 0 {
		t.Fatalf("open json streams after the client left = %v, want 0", n)
	}
	if n := env.metric(t, `hookd_stream_dropped_total{reason="too_slow"}`); n != 0 {
		t.Fatalf("a client that hung up counted as dropped: %v", n)
	}
}

func TestStreamSSEKeepAlive(t *testing.T) {
	t.Parallel()
	env := setupStream(t, stream.Options{KeepAlive: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	resp := env.open(t, ctx, "format=sse", bearer(streamToken(t, "acme")))
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("headers %v", resp.Header)
	}
	r := bufio.NewReader(resp.Body)
	for i := 0; i < 2; i++ {
		line, err := r.ReadString('\n')
		if err != nil || line != ": ping\n" {
			t.Fatalf("line %q, %v; want a ping comment", line, err)
		}
		if blank, _ := r.ReadString('\n'); blank != "\n" {
			t.Fatalf("ping not followed by a blank line: %q", blank)
		}
	}
}

// TestStreamRequestErrors checks the answers given before a stream starts.
func TestStreamRequestErrors(t *testing.T) {
	t.Parallel()
	env := setupStream(t, stream.Options{})
	acme, other := streamToken(t, "acme"), streamToken(t, "other")
	otherEvent := env.publish(t, "other", "order.created")[0]
	expired, _ := auth.Issue([]byte(streamSecret), auth.Principal{Tenant: "acme", User: "u"}, time.Minute, time.Now().Add(-time.Hour))
	cases := []struct {
		name   string
		query  string
		header http.Header
		status int
		code   string
		field  string
	}{
		{"no token", "", nil, 401, hookd.EUnauthorized, ""},
		{"expired token", "", bearer(expired), 401, hookd.EUnauthorized, ""},
		{"bad query token", "access_token=nope", nil, 401, hookd.EUnauthorized, ""},
		{"unknown format", "format=xml", bearer(acme), 400, hookd.EBadRequest, "format"},
		{"unknown event", "events=order.nope", bearer(acme), 400, hookd.EBadRequest, "events"},
		{"empty event in list", "events=order.created,,order.shipped", bearer(acme), 400, hookd.EBadRequest, "events"},
		{"unknown category", "events=nothing.*", bearer(acme), 400, hookd.EBadRequest, "events"},
		{"malformed last_event_id", "last_event_id=42", bearer(acme), 400, hookd.EBadRequest, "last_event_id"},
		{"malformed Last-Event-ID", "", http.Header{"Authorization": {"Bearer " + acme}, "Last-Event-Id": {"x"}}, 400, hookd.EBadRequest, "Last-Event-ID"},
		{"unknown Last-Event-ID", "last_event_id=evt_00000000000000000000000000", bearer(acme), 404, hookd.ENotFound, ""},
		{"another tenant's event", "last_event_id=" + otherEvent.ID, bearer(acme), 404, hookd.ENotFound, ""},
		{"own tenant's event", "last_event_id=" + otherEvent.ID, bearer(other), 200, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			resp := env.open(t, ctx, tc.query, tc.header)
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == 200 {
				return
			}
			var env struct {
				Success bool
				Error   struct {
					Code    string
					Details []hookd.FieldError
				}
			}
			if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
				t.Fatal(err)
			}
			if env.Success || env.Error.Code != tc.code {
				t.Fatalf("envelope %+v, want code %s", env, tc.code)
			}
			if tc.field != "" && (len(env.Error.Details) != 1 || env.Error.Details[0].Field != tc.field) {
				t.Fatalf("details %+v, want field %s", env.Error.Details, tc.field)
			}
			if tc.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}

// TestStreamTenantIsolation: each tenant's stream carries its own events
// only, live and replayed.
func TestStreamTenantIsolation(t *testing.T) {
	t.Parallel()
	env := setupStream(t, stream.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := map[string]hookd.Event{
		"acme":  env.publish(t, "acme", "order.created")[0],
		"other": env.publish(t, "other", "order.created")[0],
	}
	readers := map[string]*bufio.Scanner{}
	for tenant, resumeAt := range start {
		resp := env.open(t, ctx, "last_event_id="+resumeAt.ID, bearer(streamToken(t, tenant)))
		defer resp.Body.Close()
		readers[tenant] = bufio.NewScanner(resp.Body)
	}
	env.waitSubscribers(t, 2)
	own := map[string][]hookd.Event{}
	for i := range 5 {
		for _, tenant := range []string{"acme", "other"} {
			if i%2 == 0 || tenant == "acme" {
				own[tenant] = append(own[tenant], env.publish(t, tenant, "order.created", "customer.created")...)
			}
		}
	}
	for tenant, lines := range readers {
		for i, want := range own[tenant] {
			if !lines.Scan() {
				t.Fatalf("%s: stream ended after %d events", tenant, i)
			}
			var got struct{ ID string }
			_ = json.Unmarshal(lines.Bytes(), &got)
			if got.ID != want.ID {
				t.Fatalf("%s event %d: %s, want its own %s", tenant, i, lines.Text(), want.ID)
			}
		}
	}
}
