package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerifierKeyRotation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	v := newVerifier(t, f.options(cfgJWKS))
	if got := f.jwks.hits.Load(); got != 1 {
		t.Fatalf("JWKS fetched %d times at start, want 1", got)
	}
	oldToken := sign(t, jwt.SigningMethodRS256, f.rsa, kidRSA, claims(nil))
	if _, err := v.Verify(t.Context(), oldToken); err != nil {
		t.Fatalf("token of the first key: %v", err)
	}

	// The provider rotates: rsa-1 is withdrawn, rsa-2 takes its place.
	next := mustRSAKey(t)
	f.jwks.setKeys(t, jwkRSA("rsa-2", &next.PublicKey), jwkEC(kidEC, &f.ec.PublicKey))
	newToken := sign(t, jwt.SigningMethodRS256, next, "rsa-2", claims(jwt.MapClaims{"sub": "bob"}))
	p, err := v.Verify(t.Context(), newToken)
	if err != nil {
		t.Fatalf("token of the rotated key: %v", err)
	}
	if p.User != "bob" {
		t.Errorf("user = %q, want bob", p.User)
	}
	if got := f.jwks.hits.Load(); got != 2 {
		t.Fatalf("JWKS fetched %d times after an unknown kid, want 2", got)
	}

	// The withdrawn key is gone from the cache.
	_, err = v.Verify(t.Context(), oldToken)
	wantUnauthorized(t, err, "unknown signing key")

	// Further unknown kids within the rate limit fail at once without a fetch.
	start := time.Now()
	for i := range 5 {
		tok := sign(t, jwt.SigningMethodRS256, next, "random-"+jsonInt(int64(i)), claims(nil))
		_, err := v.Verify(t.Context(), tok)
		wantUnauthorized(t, err, "unknown signing key")
	}
	if got := f.jwks.hits.Load(); got != 2 {
		t.Errorf("JWKS fetched %d times after rate-limited unknown kids, want 2", got)
	}
	if d := time.Since(start); d > unknownKIDWaitMax {
		t.Errorf("rate-limited lookups took %v; they should fail without waiting", d)
	}
	// Cached keys keep working.
	if _, err := v.Verify(t.Context(), newToken); err != nil {
		t.Errorf("cached key after rate limiting: %v", err)
	}
}

func TestVerifierJWKSUnavailableAtStart(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.jwks.status.Store(http.StatusServiceUnavailable)
	v := newVerifier(t, f.options(cfgBoth))

	// HS256 does not need the provider.
	if _, err := v.Verify(t.Context(), sign(t, jwt.SigningMethodHS256, f.secret, "", claims(nil))); err != nil {
		t.Fatalf("HS256 while the JWKS is down: %v", err)
	}

	f.jwks.status.Store(http.StatusOK)
	p, err := v.Verify(t.Context(), sign(t, jwt.SigningMethodES256, f.ec, kidEC, claims(nil)))
	if err != nil {
		t.Fatalf("ES256 once the JWKS is back: %v", err)
	}
	if p.User != "alice" {
		t.Errorf("user = %q, want alice", p.User)
	}
	if got := f.jwks.hits.Load(); got != 2 {
		t.Errorf("JWKS fetched %d times, want 2 (start, then on demand)", got)
	}
}

func TestVerifierJWKSRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body func(f *fixture) []byte
	}{
		{name: "oversized document", body: func(f *fixture) []byte {
			b, _ := json.Marshal(map[string]any{
				"keys": []any{jwkRSA(kidRSA, &f.rsa.PublicKey)},
				"pad":  strings.Repeat("x", maxJWKSBytes),
			})
			return b
		}},
		{name: "not JSON", body: func(*fixture) []byte { return []byte("<html>") }},
		{name: "encryption key", body: func(f *fixture) []byte {
			k := jwkRSA(kidRSA, &f.rsa.PublicKey)
			k["use"] = "enc"
			b, _ := json.Marshal(map[string]any{"keys": []any{k}})
			return b
		}},
		{name: "symmetric key under the kid", body: func(f *fixture) []byte {
			k := map[string]any{"kty": "oct", "kid": kidRSA, "k": b64(f.secret)}
			b, _ := json.Marshal(map[string]any{"keys": []any{k}})
			return b
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			body := tt.body(f)
			f.jwks.body.Store(&body)
			v := newVerifier(t, f.options(cfgJWKS))
			_, err := v.Verify(t.Context(), sign(t, jwt.SigningMethodRS256, f.rsa, kidRSA, claims(nil)))
			wantUnauthorized(t, err, "unknown signing key")
		})
	}
}

func TestNewVerifierErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
	}{
		{name: "nothing configured", opts: Options{Issuer: testIssuer}},
		{name: "not a URL", opts: Options{JWKSURL: "::nope"}},
		{name: "relative URL", opts: Options{JWKSURL: "/jwks.json"}},
		{name: "other scheme", opts: Options{JWKSURL: "file:///etc/jwks.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := NewVerifier(t.Context(), tt.opts)
			if err == nil {
				v.Close()
				t.Fatal("NewVerifier succeeded, want an error")
			}
		})
	}
}

func TestVerifierAfterClose(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	opts := f.options(cfgBoth)
	opts.Now = func() time.Time { return testNow }
	v, err := NewVerifier(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	v.Close() // idempotent
	for _, tok := range []string{
		sign(t, jwt.SigningMethodHS256, f.secret, "", claims(nil)),
		sign(t, jwt.SigningMethodRS256, f.rsa, kidRSA, claims(nil)),
	} {
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Errorf("Verify after Close: %v", err)
		}
	}
}

func TestVerifierDefaultClock(t *testing.T) {
	t.Parallel()
	f := setup(t)
	v, err := NewVerifier(t.Context(), Options{HS256Secret: f.secret})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	now := time.Now()
	tok, err := Issue(f.secret, Principal{User: "alice"}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Errorf("fresh token on the wall clock: %v", err)
	}
	old, err := Issue(f.secret, Principal{User: "alice"}, time.Hour, now.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(t.Context(), old)
	wantUnauthorized(t, err, "token expired")
}
