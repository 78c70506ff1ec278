package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hookd/hookd/internal/hookd"
)

// testNow is the fixed clock of every verifier in these tests.
var testNow = time.Date(2031, 3, 14, 15, 9, 26, 0, time.UTC)

// Key ids served by the test JWKS.
const (
	kidRSA = "rsa-1"
	kidEC  = "ec-1"
)

// fixture holds the keys and JWKS server a test signs and verifies with.
type fixture struct {
	secret []byte
	rsa    *rsa.PrivateKey
	ec     *ecdsa.PrivateKey
	jwks   *jwksServer
}

func setup(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{
		secret: []byte("0123456789abcdef-test-secret"),
		rsa:    mustRSAKey(t),
		ec:     mustECKey(t),
		jwks:   newJWKSServer(t),
	}
	f.jwks.setKeys(t, jwkRSA(kidRSA, &f.rsa.PublicKey), jwkEC(kidEC, &f.ec.PublicKey))
	return f
}

func mustRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// jwksServer serves a JWKS document that tests may swap, and counts fetches.
type jwksServer struct {
	*httptest.Server
	body   atomic.Pointer[[]byte]
	status atomic.Int32
	hits   atomic.Int64
}

func newJWKSServer(t testing.TB) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.status.Store(http.StatusOK)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if code := int(s.status.Load()); code != http.StatusOK {
			http.Error(w, "unavailable", code)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*s.body.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(t testing.TB, keys ...map[string]any) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	s.body.Store(&b)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func jwkRSA(kid string, pub *rsa.PublicKey) map[string]any {
	return map[string]any{
		"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": b64(pub.N.Bytes()),
		"e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}
}

func jwkEC(kid string, pub *ecdsa.PublicKey) map[string]any {
	point, err := pub.Bytes() // 0x04 || X || Y
	if err != nil {
		panic(err)
	}
	return map[string]any{
		"kty": "EC", "kid": kid, "alg": "ES256", "use": "sig", "crv": "P-256",
		"x": b64(point[1:33]),
		"y": b64(point[33:]),
	}
}

// newVerifier returns a verifier on the fixed test clock, closed at cleanup.
func newVerifier(t testing.TB, opts Options) *Verifier {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	v, err := NewVerifier(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

// claims returns valid claims for alice, with overrides applied; a nil
// override value deletes the claim.
func claims(overrides jwt.MapClaims) jwt.MapClaims {
	c := jwt.MapClaims{
		"sub": "alice",
		"iat": testNow.Add(-time.Minute).Unix(),
		"exp": testNow.Add(time.Hour).Unix(),
	}
	for k, v := range overrides {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// sign signs c with method and key, naming kid in the header when set.
func sign(t testing.TB, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rawHS256 builds a token from literal header and payload JSON, signed
// with secret, so malformed contents still carry a valid signature.
func rawHS256(secret []byte, header, payload string) string {
	input := b64([]byte(header)) + "." + b64([]byte(payload))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + b64(mac.Sum(nil))
}

// wantUnauthorized fails t unless err is an unauthorized *hookd.Error
// carrying msg.
func wantUnauthorized(t testing.TB, err error, msg string) {
	t.Helper()
	var he *hookd.Error
	if !errors.As(err, &he) {
		t.Fatalf("err = %v (%T), want *hookd.Error %q", err, err, msg)
	}
	if he.Code != hookd.EUnauthorized || he.Message != msg {
		t.Fatalf("err = %s/%q, want %s/%q", he.Code, he.Message, hookd.EUnauthorized, msg)
	}
}
