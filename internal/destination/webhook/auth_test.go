package webhook

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/destination"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
	"github.com/hookd/hookd/internal/testpki"
)

// newDestination returns the webhook destination over a guarded client;
// allowPrivate lets it reach the test servers on loopback.
func newDestination(allowPrivate bool) *Destination {
	client := outbound.NewClient(outbound.NewTransport(&outbound.Guard{AllowPrivate: allowPrivate}, 5*time.Second, 0), 5*time.Second)
	return New(&outbound.Sender{Client: client, UserAgent: "hookd/test", Now: time.Now})
}

func send(t *testing.T, d *Destination, wh *hookd.Webhook) outbound.Outcome {
	t.Helper()
	ev := &hookd.Event{ID: "evt_1", Type: "order.created", Payload: []byte(`{"a":1}`), CreatedAt: time.Now()}
	return d.Send(t.Context(), wh, destination.Message{Event: ev, DeliveryID: 1})
}

// endpoint answers 200 to requests whose Authorization is want, else 401,
// and counts the requests.
type endpoint struct {
	*httptest.Server
	calls atomic.Int64
	mu    sync.Mutex
	want  string
}

func newEndpoint(t *testing.T, want string) *endpoint {
	e := &endpoint{want: want}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.calls.Add(1)
		e.mu.Lock()
		ok := r.Header.Get("Authorization") == e.want
		e.mu.Unlock()
		if !ok {
			http.Error(w, "who are you", http.StatusUnauthorized)
		}
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *endpoint) accept(want string) {
	e.mu.Lock()
	e.want = want
	e.mu.Unlock()
}

func TestBasicAndBearer(t *testing.T) {
	t.Parallel()
	d := newDestination(true)
	tests := []struct {
		auth hookd.EndpointAuth
		want string
	}{
		{hookd.EndpointAuth{Type: hookd.AuthBasic, Username: "hookd", Password: "p4ss:word"}, "Basic aG9va2Q6cDRzczp3b3Jk"},
		{hookd.EndpointAuth{Type: hookd.AuthBasic, Username: "sk_live_1", Password: ""}, "Basic c2tfbGl2ZV8xOg=="},
		{hookd.EndpointAuth{Type: hookd.AuthBearer, Token: "t0k3n"}, "Bearer t0k3n"},
	}
	for _, tt := range tests {
		e := newEndpoint(t, tt.want)
		out := send(t, d, &hookd.Webhook{ID: 1, URL: e.URL, Secret: "whsec_x", Auth: &tt.auth})
		if !out.Success {
			t.Errorf("%s: %+v", tt.want, out.Attempt)
		}
		if got := out.Attempt.RequestHeaders["Authorization"]; got != hookd.Masked {
			t.Errorf("logged Authorization %q, want it masked", got)
		}
		if e.calls.Load() != 1 {
			t.Errorf("%s: %d calls; a fixed credential is not retried on 401", tt.want, e.calls.Load())
		}
	}
	// A refused fixed credential is the endpoint's answer, asked once.
	e := newEndpoint(t, "Bearer right")
	out := send(t, d, &hookd.Webhook{ID: 2, URL: e.URL, Auth: &hookd.EndpointAuth{Type: hookd.AuthBearer, Token: "wrong"}})
	if out.Success || out.Attempt.ErrorType != "http_401" || e.calls.Load() != 1 {
		t.Errorf("a refused bearer token: %+v after %d calls", out.Attempt, e.calls.Load())
	}
}

// tokenEndpoint is an OAuth 2.0 token endpoint for the client-credentials
// grant that checks the request as a real one does, counts the tokens
// it issues ("tok-1", "tok-2", …) and gives them expiresIn seconds.
type tokenEndpoint struct {
	*httptest.Server
	issued    atomic.Int64
	expiresIn int
	refuse    bool
}

func newTokenEndpoint(t *testing.T, expiresIn int, refuse bool) *tokenEndpoint {
	te := &tokenEndpoint{expiresIn: expiresIn, refuse: refuse}
	te.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// RFC 6749 §2.3.1: the client id and secret are form-encoded
		// before they go into HTTP Basic.
		id, secret, ok := r.BasicAuth()
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		_ = r.ParseForm()
		switch {
		case te.refuse || !ok || id != "hookd-client" || secret != "s3cret/+=":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
			return
		case r.Method != http.MethodPost || r.PostForm.Get("grant_type") != "client_credentials" ||
			r.PostForm.Get("scope") != "events:write audit" || r.PostForm.Get("audience") != "https://api.example.com" ||
			r.PostForm.Get("client_secret") != "":
			t.Errorf("token request %s %v", r.Method, r.PostForm)
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		n := te.issued.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("tok-%d", n), "token_type": "bearer", "expires_in": te.expiresIn})
	}))
	t.Cleanup(te.Close)
	return te
}

func oauthWebhook(id int64, url, tokenURL string) *hookd.Webhook {
	return &hookd.Webhook{ID: id, URL: url, Secret: "whsec_x", Auth: &hookd.EndpointAuth{
		Type: hookd.AuthOAuth2, TokenURL: tokenURL, ClientID: "hookd-client", ClientSecret: "s3cret/+=",
		Scope: "events:write audit", Audience: "https://api.example.com"}}
}

// TestOAuth2KeepsOneToken: five deliveries, concurrent ones among them,
// need one token.
func TestOAuth2KeepsOneToken(t *testing.T) {
	t.Parallel()
	te := newTokenEndpoint(t, 3600, false)
	e := newEndpoint(t, "Bearer tok-1")
	d := newDestination(true)
	wh := oauthWebhook(1, e.URL, te.URL)
	if out := send(t, d, wh); !out.Success {
		t.Fatalf("first delivery: %+v", out.Attempt)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if out := send(t, d, oauthWebhook(1, e.URL, te.URL)); !out.Success {
				t.Errorf("delivery: %+v", out.Attempt)
			}
		})
	}
	wg.Wait()
	if n := te.issued.Load(); n != 1 {
		t.Errorf("%d tokens for five deliveries, want 1", n)
	}
	if n := e.calls.Load(); n != 5 {
		t.Errorf("%d calls to the endpoint, want 5", n)
	}
}

// TestOAuth2RefetchesOnceOn401: a token the endpoint refuses is fetched
// anew once and the request made again, whose outcome is the attempt's.
func TestOAuth2RefetchesOnceOn401(t *testing.T) {
	t.Parallel()
	te := newTokenEndpoint(t, 3600, false)
	e := newEndpoint(t, "Bearer tok-1")
	d := newDestination(true)
	wh := oauthWebhook(1, e.URL, te.URL)
	send(t, d, wh)
	e.accept("Bearer tok-2") // the endpoint revoked tok-1
	if out := send(t, d, wh); !out.Success || *out.Attempt.ResponseCode != 200 {
		t.Fatalf("after a 401: %+v", out.Attempt)
	}
	if te.issued.Load() != 2 || e.calls.Load() != 3 {
		t.Fatalf("%d tokens, %d calls; want 2 and 3", te.issued.Load(), e.calls.Load())
	}
	e.accept("Bearer none") // refuses every token: one refetch, no more
	out := send(t, d, wh)
	if out.Success || out.Attempt.ErrorType != "http_401" {
		t.Fatalf("an endpoint refusing every token: %+v", out.Attempt)
	}
	if te.issued.Load() != 3 || e.calls.Load() != 5 {
		t.Fatalf("%d tokens, %d calls; want 3 and 5", te.issued.Load(), e.calls.Load())
	}
}

// TestOAuth2FetchesBeforeExpiry: a token within tokenExpiryDelta of its
// expires_in is not used again.
func TestOAuth2FetchesBeforeExpiry(t *testing.T) {
	t.Parallel()
	te := newTokenEndpoint(t, int(tokenExpiryDelta/time.Second)-5, false)
	e := newEndpoint(t, "")
	e.Close()
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	d := newDestination(true)
	for range 2 {
		if out := send(t, d, oauthWebhook(1, e.URL, te.URL)); !out.Success {
			t.Fatalf("%+v", out.Attempt)
		}
	}
	if n := te.issued.Load(); n != 2 {
		t.Errorf("%d tokens, want 2: one that expires within the delta is fetched anew", n)
	}
}

// TestOAuth2TokenRefused: no token, no request: the attempt fails as
// auth_error and the endpoint is never called.
func TestOAuth2TokenRefused(t *testing.T) {
	t.Parallel()
	te := newTokenEndpoint(t, 3600, true)
	e := newEndpoint(t, "Bearer tok-1")
	d := newDestination(true)
	out := send(t, d, oauthWebhook(1, e.URL, te.URL))
	if out.Success || out.Attempt.ErrorType != hookd.ErrTypeAuth || out.Permanent {
		t.Fatalf("outcome %+v", out)
	}
	if !strings.Contains(out.Attempt.ErrorMessage, "invalid_client") || strings.Contains(out.Attempt.ErrorMessage, "s3cret") {
		t.Errorf("message %q", out.Attempt.ErrorMessage)
	}
	if e.calls.Load() != 0 {
		t.Errorf("the endpoint was called %d times", e.calls.Load())
	}
	// The token endpoint passes the SSRF guard like the url.
	out = send(t, newDestination(false), oauthWebhook(2, e.URL, te.URL))
	if out.Attempt.ErrorType != hookd.ErrTypeAuth || !strings.Contains(out.Attempt.ErrorMessage, "blocked") {
		t.Errorf("a token endpoint on loopback: %+v", out.Attempt)
	}
	if e.calls.Load() != 0 {
		t.Errorf("the endpoint was called %d times", e.calls.Load())
	}
}

// TestMTLS: a server that requires a client certificate from its CA, with
// a certificate from a private CA given as ca_certificate.
func TestMTLS(t *testing.T) {
	t.Parallel()
	clientCA, serverCA := testpki.NewCA(t, "clients"), testpki.NewCA(t, "servers")
	var calls atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != "hookd" {
			http.Error(w, "no client certificate", http.StatusForbidden)
		}
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCA.Pool(), Certificates: []tls.Certificate{serverCA.Server(t)}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cert, key := clientCA.Client(t, "hookd")
	auth := &hookd.EndpointAuth{Type: hookd.AuthMTLS, ClientCertificate: cert, ClientKey: key, CACertificate: serverCA.PEM}
	d := newDestination(true)
	for range 2 {
		if out := send(t, d, &hookd.Webhook{ID: 1, URL: srv.URL, Auth: auth}); !out.Success {
			t.Fatalf("mtls: %+v", out.Attempt)
		}
	}
	if len(d.auth.entries) != 1 {
		t.Errorf("%d cached clients, want 1", len(d.auth.entries))
	}
	// Without the certificate the handshake fails; without the CA the
	// server's certificate is not trusted.
	noCert := &hookd.EndpointAuth{Type: hookd.AuthBearer, Token: "x"}
	if out := send(t, d, &hookd.Webhook{ID: 2, URL: srv.URL, Auth: noCert}); out.Attempt.ErrorType != hookd.ErrTypeTLS {
		t.Errorf("without a certificate: %+v", out.Attempt)
	}
	noCA := *auth
	noCA.CACertificate = ""
	if out := send(t, d, &hookd.Webhook{ID: 1, URL: srv.URL, Auth: &noCA}); out.Attempt.ErrorType != hookd.ErrTypeTLS {
		t.Errorf("without the CA: %+v", out.Attempt)
	}
	// A changed auth replaced the webhook's client.
	if len(d.auth.entries) != 1 {
		t.Errorf("%d cached clients, want 1", len(d.auth.entries))
	}
	// The client's dialer is the guarded one.
	if out := send(t, newDestination(false), &hookd.Webhook{ID: 1, URL: srv.URL, Auth: auth}); out.Attempt.ErrorType != hookd.ErrTypeBlocked {
		t.Errorf("through the guard: %+v", out.Attempt)
	}
	if calls.Load() != 2 {
		t.Errorf("%d calls reached the handler, want 2", calls.Load())
	}
}
