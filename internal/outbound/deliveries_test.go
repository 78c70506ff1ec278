package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// deliverySender is a Sender whose messages go out through a
// DeliveryClient that may reach loopback and resolves names through a DNS
// server on loopback only.
func deliverySender(t *testing.T, timeout time.Duration, tlsConfig *tls.Config) *Sender {
	t.Helper()
	resolver := startTestDNS(t, map[string][]netip.Addr{
		"receiver.test": {netip.MustParseAddr("127.0.0.1")},
	})
	g := &Guard{AllowPrivate: true, Resolver: resolver}
	d := NewDeliveryClient(g, timeout, 0, tlsConfig)
	t.Cleanup(d.CloseIdleConnections)
	return &Sender{Client: NewClient(NewTransport(g, timeout, 0), timeout), Deliveries: d, UserAgent: "hookd/test", Now: time.Now}
}

// TestDeliveryClientClassifiesRealFailures sends to receivers that fail
// in each way an endpoint can and checks the attempt's error type and
// message, as TestClassifyRealFailures does for net/http's client.
func TestDeliveryClientClassifiesRealFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		timeout  time.Duration
		tls      func(srv *httptest.Server) *tls.Config
		url      func(t *testing.T) string
		ctx      func(t *testing.T) context.Context
		wantType string
		wantMsg  string
	}{
		{
			name:     "connection refused",
			url:      refusedURL,
			wantType: "connection_error",
			wantMsg:  "refused",
		},
		{
			name:     "timeout before headers",
			timeout:  300 * time.Millisecond,
			url:      func(t *testing.T) string { return hanging(t, false).URL },
			wantType: "timeout",
		},
		{
			name:     "timeout while reading the body",
			timeout:  300 * time.Millisecond,
			url:      func(t *testing.T) string { return hanging(t, true).URL },
			wantType: "timeout",
		},
		{
			name: "context deadline",
			url:  func(t *testing.T) string { return hanging(t, false).URL },
			ctx: func(t *testing.T) context.Context {
				ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
				t.Cleanup(cancel)
				return ctx
			},
			wantType: "timeout",
		},
		{
			name:     "untrusted certificate",
			url:      func(t *testing.T) string { return tlsReceiver(t).URL },
			wantType: "tls_error",
			wantMsg:  "certificate",
		},
		{
			name:     "https to a plain HTTP server",
			url:      plainAsHTTPS,
			wantType: "tls_error",
		},
		{
			name:     "closed before answering",
			url:      func(t *testing.T) string { return closing(t, "", false) },
			wantType: "connection_error",
		},
		{
			name:     "closed in the middle of the headers",
			url:      func(t *testing.T) string { return closing(t, partialHeaders, false) },
			wantType: "connection_error",
		},
		{
			name:     "connection reset",
			url:      func(t *testing.T) string { return closing(t, "", true) },
			wantType: "connection_error",
		},
		{
			name:     "unresolvable name",
			url:      func(*testing.T) string { return "http://no-such-receiver.invalid/hook" },
			wantType: "dns_error",
			wantMsg:  "no-such-receiver.invalid",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			s := deliverySender(t, timeout, nil)
			ctx := t.Context()
			if tt.ctx != nil {
				ctx = tt.ctx(t)
			}
			start := time.Now()
			out := s.Send(ctx, Message{URL: tt.url(t), Secret: "whsec_test", EventID: "evt_1", Body: []byte(`{}`)})
			a := out.Attempt
			t.Logf("%s: %s (%v)", a.ErrorType, a.ErrorMessage, time.Since(start))
			if out.Success || a.ErrorType != tt.wantType {
				t.Fatalf("attempt %+v, want error type %q", a, tt.wantType)
			}
			if a.ErrorMessage == "" || !strings.Contains(a.ErrorMessage, tt.wantMsg) {
				t.Fatalf("message %q, want it to mention %q", a.ErrorMessage, tt.wantMsg)
			}
			if strings.HasPrefix(a.ErrorMessage, "Post ") {
				t.Errorf("message %q keeps the url.Error prefix", a.ErrorMessage)
			}
			if time.Since(start) > timeout+2*time.Second {
				t.Errorf("the attempt took %v, past its %v", time.Since(start), timeout)
			}
		})
	}
}

// TestDeliveryClientSendsWhatWasBuilt: the request leaves with the
// headers, casing, path, query and body hookd built, the URL's user as
// basic credentials and no fragment, in one write; the answer's status,
// reason, Retry-After and body come back as an attempt keeps them; a 3xx
// is not followed.
func TestDeliveryClientSendsWhatWasBuilt(t *testing.T) {
	t.Parallel()
	type seen struct {
		uri, auth, sig, team, ct, ua, body string
	}
	got := make(chan seen, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.RequestURI, r.Header.Get("Authorization"), r.Header.Get("Webhook-Signature"),
			r.Header.Get("X-Team"), r.Header.Get("Content-Type"), r.UserAgent(), string(b)}
		switch r.URL.Path {
		case "/busy":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(strings.Repeat("x", 100<<10)))
		case "/moved":
			http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
		default:
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte("thanks"))
		}
	}))
	t.Cleanup(srv.Close)
	s := deliverySender(t, 5*time.Second, nil)
	host := strings.TrimPrefix(srv.URL, "http://")

	body := []byte(`{"id":"evt_1","data":{"n":1}}`)
	out := s.Send(t.Context(), Message{URL: "http://ann:pw@" + host + "/a//b/../c?x=1&y=%2F#frag",
		Headers: map[string]string{"X-Team": "billing"}, Secret: "whsec_test", EventID: "evt_1", Body: body})
	r := <-got
	if !out.Success || out.Status != http.StatusAccepted || out.Attempt.ResponseBody != "thanks" {
		t.Fatalf("outcome %+v", out)
	}
	if r.uri != "/a//b/../c?x=1&y=%2F" || r.body != string(body) || r.team != "billing" ||
		r.ct != "application/json" || r.ua != "hookd/test" || !strings.HasPrefix(r.sig, "v1,") {
		t.Fatalf("the receiver saw %+v", r)
	}
	if r.auth != "Basic YW5uOnB3" { // ann:pw
		t.Fatalf("Authorization %q, want the URL's user as basic credentials", r.auth)
	}

	out = s.Send(t.Context(), Message{URL: srv.URL + "/busy", Secret: "whsec_test", EventID: "evt_2", Body: body})
	<-got
	if out.Success || out.Status != http.StatusServiceUnavailable || out.RetryAfter != 7*time.Second ||
		out.Attempt.ErrorType != "http_503" || out.Attempt.ErrorMessage != "HTTP 503 Service Unavailable" ||
		len(out.Attempt.ResponseBody) != hookd.MaxStoredResponseBody {
		t.Fatalf("outcome %+v (body %d bytes)", out, len(out.Attempt.ResponseBody))
	}

	out = s.Send(t.Context(), Message{URL: srv.URL + "/moved", Secret: "whsec_test", EventID: "evt_3", Body: body})
	<-got
	if out.Success || out.Attempt.ErrorType != "http_301" {
		t.Fatalf("outcome %+v, want the 301 itself", out)
	}
	select {
	case r := <-got:
		t.Fatalf("the redirect was followed to %s", r.uri)
	default:
	}
}

// TestDeliveryClientGuardsEveryConnection: with the default guard a
// target on loopback is refused when connecting, named or by address,
// and nothing reaches it.
func TestDeliveryClientGuardsEveryConnection(t *testing.T) {
	t.Parallel()
	resolver := startTestDNS(t, map[string][]netip.Addr{"rebind.test": {netip.MustParseAddr("127.0.0.1")}})
	var hits atomic.Int64
	srv := startReceiver(t, "127.0.0.1:0", &hits)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	d := NewDeliveryClient(&Guard{Resolver: resolver}, 5*time.Second, 0, nil)
	s := &Sender{Deliveries: d, Now: time.Now}
	for url, wantMsg := range map[string]string{
		fmt.Sprintf("http://127.0.0.1:%d/hook", port):   "target address 127.0.0.1 is not allowed (loopback)",
		fmt.Sprintf("http://rebind.test:%d/hook", port): "the target is not allowed",
	} {
		out := s.Send(t.Context(), Message{URL: url, Secret: "whsec_test", EventID: "evt_1", Body: []byte(`{}`)})
		if out.Attempt.ErrorType != hookd.ErrTypeBlocked || !strings.Contains(out.Attempt.ErrorMessage, wantMsg) {
			t.Errorf("%s: %q %q, want blocked_target: %s", url, out.Attempt.ErrorType, out.Attempt.ErrorMessage, wantMsg)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("%d blocked requests reached the receiver", hits.Load())
	}
}

// TestDeliveryClientTrustsItsTLSConfig: an https endpoint whose
// certificate the given roots trust answers; its name must match.
func TestDeliveryClientTrustsItsTLSConfig(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	s := deliverySender(t, 5*time.Second, &tls.Config{RootCAs: pool})
	out := s.Send(t.Context(), Message{URL: srv.URL + "/hook", Secret: "whsec_test", EventID: "evt_1", Body: []byte(`{}`)})
	if !out.Success || out.Status != http.StatusNoContent {
		t.Fatalf("outcome %+v", out)
	}
	// The certificate does not name receiver.test.
	other := strings.Replace(srv.URL, "127.0.0.1", "receiver.test", 1)
	out = s.Send(t.Context(), Message{URL: other + "/hook", Secret: "whsec_test", EventID: "evt_2", Body: []byte(`{}`)})
	if out.Attempt.ErrorType != "tls_error" || !strings.Contains(out.Attempt.ErrorMessage, "receiver.test") {
		t.Fatalf("attempt %+v, want a tls_error naming receiver.test", out.Attempt)
	}
}

// TestDeliveryClientReusesAndRecoversConnections: deliveries share one
// kept-alive connection, go out in one write each, and a connection the
// receiver closed while idle costs no failed attempt.
func TestDeliveryClientReusesAndRecoversConnections(t *testing.T) {
	t.Parallel()
	var conns, writes atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	d := NewDeliveryClient(&Guard{AllowPrivate: true}, 5*time.Second, 0, nil)
	dial := d.c.DialTimeout
	d.c.DialTimeout = func(addr string, timeout time.Duration) (net.Conn, error) {
		c, err := dial(addr, timeout)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, writes: &writes}, nil
	}
	t.Cleanup(d.CloseIdleConnections)
	s := &Sender{Deliveries: d, Now: time.Now}
	body := []byte(`{"data":"` + strings.Repeat("x", 900) + `"}`)
	send := func(i int, wantWrites int64) {
		t.Helper()
		before := writes.Load()
		out := s.Send(t.Context(), Message{URL: srv.URL + "/hook", Secret: "whsec_test", EventID: fmt.Sprint("evt_", i), Body: body})
		if !out.Success {
			t.Fatalf("delivery %d: %+v", i, out.Attempt)
		}
		if n := writes.Load() - before; n != wantWrites {
			t.Fatalf("delivery %d went out in %d writes, want %d", i, n, wantWrites)
		}
	}
	for i := range 3 {
		send(i, 1)
	}
	if conns.Load() != 1 {
		t.Fatalf("%d connections for 3 deliveries, want 1", conns.Load())
	}
	srv.CloseClientConnections() // the receiver ends the idle connection
	send(3, 2)                   // the write on the closed one, then the new one's
	if conns.Load() != 2 {
		t.Fatalf("%d connections, want a second after the first was closed", conns.Load())
	}
}

// TestDeliveryClientLeavesWhenCancelled: a cancelled attempt returns at
// once, however long the endpoint would take.
func TestDeliveryClientLeavesWhenCancelled(t *testing.T) {
	t.Parallel()
	s := deliverySender(t, 3*time.Second, nil)
	url := hanging(t, false).URL
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	out := s.Send(ctx, Message{URL: url, Secret: "whsec_test", EventID: "evt_1", Body: []byte(`{}`)})
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("the attempt returned %v after it was cancelled", took)
	}
	if out.Success || out.Attempt.ErrorType != hookd.ErrTypeConnection || !strings.Contains(out.Attempt.ErrorMessage, "canceled") {
		t.Fatalf("attempt %+v, want a cancelled connection_error", out.Attempt)
	}
}
