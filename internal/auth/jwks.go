package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// How the JWKS cache is kept fresh.
const (
	// jwksRefreshInterval is the background refresh period.
	jwksRefreshInterval = time.Hour
	// unknownKIDRefreshEvery limits refreshes triggered by tokens naming a
	// key that is not cached, so random kids cannot hammer the provider.
	unknownKIDRefreshEvery = time.Minute
	// unknownKIDWaitMax bounds how long Verify waits for such a refresh
	// (rate limiter and HTTP fetch together). A wait the limiter knows to
	// be longer fails at once instead of blocking.
	unknownKIDWaitMax = 5 * time.Second
)

// newJWKS returns a key function backed by the JWKS at rawURL: fetched
// once now (a failure is tolerated), every jwksRefreshInterval until ctx
// ends, and on demand for unknown kids. Refresh errors are dropped: the
// next token that needs a key retries, and Verify reports "unknown signing
// key".
func newJWKS(ctx context.Context, rawURL string, client *http.Client) (keyfunc.Keyfunc, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("auth: JWKS URL %q: want an http or https URL", rawURL)
	}
	remote, err := jwkset.NewStorageFromHTTP(rawURL, jwkset.HTTPClientStorageOptions{
		Client:                    limitedClient(client),
		Ctx:                       ctx,
		HTTPTimeout:               jwksTimeout,
		NoErrorReturnFirstHTTPReq: true,
		RefreshInterval:           jwksRefreshInterval,
	})
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS %q: %w", rawURL, err)
	}
	storage, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{rawURL: remote},
		RateLimitWaitMax:  unknownKIDWaitMax,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(unknownKIDRefreshEvery), 1),
	})
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS %q: %w", rawURL, err)
	}
	return keyfunc.New(keyfunc.Options{
		Ctx:          ctx,
		Storage:      storage,
		UseWhitelist: []jwkset.USE{jwkset.UseSig, ""},
	})
}

// keysFor keeps from a JWKS lookup only keys that fit alg: RSA public keys
// for RS256, P-256 public keys for ES256. A JWKS "oct" key or a key of the
// other family never reaches the signature check.
func keysFor(alg string, key any) (any, error) {
	if set, ok := key.(jwt.VerificationKeySet); ok {
		var fit jwt.VerificationKeySet
		for _, k := range set.Keys {
			if keyFits(alg, k) {
				fit.Keys = append(fit.Keys, k)
			}
		}
		if len(fit.Keys) == 0 {
			return nil, errUnknownKey
		}
		return fit, nil
	}
	if !keyFits(alg, key) {
		return nil, errUnknownKey
	}
	return key, nil
}

func keyFits(alg string, key any) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return alg == algRS256
	case *ecdsa.PublicKey:
		return alg == algES256 && k.Curve == elliptic.P256()
	default:
		return false
	}
}

// limitedClient returns a copy of client (or a fresh client) whose
// response bodies stop after maxJWKSBytes, so a broken provider cannot
// make hookd read without end.
func limitedClient(client *http.Client) *http.Client {
	var c http.Client
	if client != nil {
		c = *client
	} else {
		c.Timeout = jwksTimeout
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = limitedBody{base: base, max: maxJWKSBytes}
	return &c
}

// limitedBody is an http.RoundTripper that caps response bodies.
type limitedBody struct {
	base http.RoundTripper
	max  int64
}

func (l limitedBody) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, l.max), resp.Body}
	return resp, nil
}
