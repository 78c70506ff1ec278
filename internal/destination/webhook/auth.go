package webhook

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// tokenExpiryDelta is how long before its expires_in runs out an OAuth
// 2.0 token is fetched anew, so none expires on its way to the endpoint.
const tokenExpiryDelta = 30 * time.Second

// authIdle is how long a webhook's kept auth state (a token, an mTLS
// client) outlives its last use before it is dropped.
const authIdle = time.Hour

// authCache keeps, per webhook, the auth state that outlives an attempt:
// an OAuth 2.0 token source, an mTLS client. An entry belongs to one
// version of the webhook's auth (a hash of it), so changing the auth
// starts afresh.
type authCache struct {
	base    *http.Client // the guarded client: token requests, and what mTLS clients build on
	now     hookd.Clock
	mu      sync.Mutex
	entries map[int64]*authEntry
}

type authEntry struct {
	version [sha256.Size]byte
	auth    outbound.Authorizer // nil for mtls
	client  *http.Client        // mtls only
	usedAt  time.Time
}

func newAuthCache(base *http.Client, now hookd.Clock) *authCache {
	return &authCache{base: base, now: now.OrSystem(), entries: map[int64]*authEntry{}}
}

// forWebhook returns what an attempt to wh needs for its auth: an
// Authorizer, or a client that presents wh's certificate. An error says
// the stored auth cannot be used (it fails the attempt as auth_error).
func (c *authCache) forWebhook(wh *hookd.Webhook) (outbound.Authorizer, *http.Client, error) {
	a := wh.Auth
	switch a.Type {
	case hookd.AuthBasic:
		return fixedAuth("Basic " + base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password))), nil, nil
	case hookd.AuthBearer:
		return fixedAuth("Bearer " + a.Token), nil, nil
	case hookd.AuthOAuth2, hookd.AuthMTLS:
	default:
		return nil, nil, errors.New("unknown auth type " + a.Type)
	}
	b, _ := json.Marshal(a) // plain strings: cannot fail
	version := sha256.Sum256(b)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[wh.ID]; e != nil && e.version == version {
		e.usedAt = now
		return e.auth, e.client, nil
	}
	e := &authEntry{version: version, usedAt: now}
	if a.Type == hookd.AuthOAuth2 {
		e.auth = newTokenSource(a, c.base)
	} else {
		client, err := c.mtlsClient(a)
		if err != nil {
			return nil, nil, err
		}
		e.client = client
	}
	c.replace(wh.ID, e, now)
	return e.auth, e.client, nil
}

// replace stores e for webhook id, and drops entries idle for authIdle
// (deleted webhooks', say), closing the idle connections of clients it
// lets go. c.mu is held.
func (c *authCache) replace(id int64, e *authEntry, now time.Time) {
	if old := c.entries[id]; old != nil && old.client != nil {
		old.client.CloseIdleConnections()
	}
	c.entries[id] = e
	for other, e := range c.entries {
		if now.Sub(e.usedAt) > authIdle {
			if e.client != nil {
				e.client.CloseIdleConnections()
			}
			delete(c.entries, other)
		}
	}
}

// mtlsClient builds a client presenting a's certificate and, when a has
// one, trusting a's CA alone for this endpoint; it dials through the
// guarded transport's dialer.
func (c *authCache) mtlsClient(a *hookd.EndpointAuth) (*http.Client, error) {
	pair, err := tls.X509KeyPair([]byte(a.ClientCertificate), []byte(a.ClientKey))
	if err != nil {
		return nil, errors.New("client certificate: " + err.Error())
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
	if a.CACertificate != "" {
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM([]byte(a.CACertificate)) {
			return nil, errors.New("ca_certificate holds no certificate")
		}
	}
	return outbound.NewTLSClient(c.base, cfg)
}

// fixedAuth sets one Authorization value; it has nothing fresher to
// offer on a 401.
type fixedAuth string

// Authorize sets the value.
func (f fixedAuth) Authorize(_ context.Context, h http.Header) error {
	h.Set("Authorization", string(f))
	return nil
}

// Refresh has nothing fresher: the endpoint's 401 is the outcome.
func (fixedAuth) Refresh(context.Context, http.Header) (bool, error) { return false, nil }

// tokenSource is the OAuth 2.0 client-credentials grant of one webhook's
// auth: the client authenticates with HTTP Basic, audience goes as an
// endpoint parameter, and a token is kept until tokenExpiryDelta before
// it expires (the library's reuse) or the endpoint refuses it. Tokens are
// fetched with the guarded client, under the asking attempt's context;
// one fetch at a time, so concurrent attempts share one token.
type tokenSource struct {
	conf   clientcredentials.Config
	client *http.Client
	turn   chan struct{} // holds one value while a goroutine owns tok
	tok    *oauth2.Token
}

func newTokenSource(a *hookd.EndpointAuth, client *http.Client) *tokenSource {
	s := &tokenSource{client: client, turn: make(chan struct{}, 1)}
	s.conf = clientcredentials.Config{
		ClientID: a.ClientID, ClientSecret: a.ClientSecret, TokenURL: a.TokenURL,
		Scopes: strings.Fields(a.Scope), AuthStyle: oauth2.AuthStyleInHeader,
	}
	if a.Audience != "" {
		s.conf.EndpointParams = url.Values{"audience": {a.Audience}}
	}
	return s
}

// token returns the kept token, fetching one when it has none valid; a
// kept token whose header value is stale is dropped first.
func (s *tokenSource) token(ctx context.Context, stale string) (*oauth2.Token, error) {
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.turn }()
	if s.tok != nil && stale != "" && headerValue(s.tok) == stale {
		s.tok = nil
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.client)
	tok, err := oauth2.ReuseTokenSourceWithExpiry(s.tok, s.conf.TokenSource(ctx), tokenExpiryDelta).Token()
	if err != nil {
		return nil, err
	}
	if tok.AccessToken == "" {
		return nil, errors.New("the token endpoint answered no access_token")
	}
	s.tok = tok
	return tok, nil
}

func headerValue(t *oauth2.Token) string { return t.Type() + " " + t.AccessToken }

// Authorize sets a kept or newly fetched token.
func (s *tokenSource) Authorize(ctx context.Context, h http.Header) error {
	tok, err := s.token(ctx, "")
	if err != nil {
		return err
	}
	h.Set("Authorization", headerValue(tok))
	return nil
}

// Refresh drops the token the endpoint refused and sets another: fetched
// anew, unless a concurrent attempt already did.
func (s *tokenSource) Refresh(ctx context.Context, h http.Header) (bool, error) {
	tok, err := s.token(ctx, h.Get("Authorization"))
	if err != nil {
		return false, err
	}
	h.Set("Authorization", headerValue(tok))
	return true, nil
}
