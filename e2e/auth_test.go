package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func signed(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claims(sub string, exp time.Duration) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"sub": sub, "tenant": "acme", "iat": now.Unix(), "exp": now.Add(exp).Unix()}
}

func TestBadTokens(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	future := claims("alice", time.Hour)
	future["nbf"] = time.Now().Add(30 * time.Minute).Unix()
	noSub := claims("", time.Hour)
	delete(noSub, "sub")
	b64 := base64.RawURLEncoding.EncodeToString
	none := b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64([]byte(`{"sub":"alice","exp":`+jsonNum(time.Now().Add(time.Hour).Unix())+`}`)) + "."
	good := signed(t, jwt.SigningMethodHS256, []byte(testSecret), claims("alice", time.Hour), "")
	cases := map[string]string{
		"missing":            "",
		"not a jwt":          "Bearer abc",
		"basic scheme":       "Basic " + b64([]byte("a:b")),
		"bad base64":         "Bearer !!!.###.$$$",
		"wrong secret":       "Bearer " + signed(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789"), claims("alice", time.Hour), ""),
		"tampered":           "Bearer " + good[:len(good)-4] + "AAAA",
		"expired":            "Bearer " + signed(t, jwt.SigningMethodHS256, []byte(testSecret), claims("alice", -time.Minute*5), ""),
		"not yet valid":      "Bearer " + signed(t, jwt.SigningMethodHS256, []byte(testSecret), future, ""),
		"alg none":           "Bearer " + none,
		"wrong algorithm":    "Bearer " + signed(t, jwt.SigningMethodHS384, []byte(testSecret), claims("alice", time.Hour), ""),
		"rs256 without jwks": "Bearer " + signed(t, jwt.SigningMethodRS256, rsaKey, claims("alice", time.Hour), "k1"),
		"missing sub":        "Bearer " + signed(t, jwt.SigningMethodHS256, []byte(testSecret), noSub, ""),
	}
	for name, header := range cases {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", s.URL+"/api/webhooks/", nil)
			if header != "" {
				req.Header.Set("Authorization", header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("status %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
			if e, _ := body["error"].(map[string]any); e["code"] != "unauthorized" {
				t.Fatalf("body %v", body)
			}
		})
	}
	s.do("GET", "/api/webhooks/", strings.TrimPrefix(cases["wrong secret"], "Bearer "), nil).must(t, 401)
	s.do("GET", "/api/webhooks/", good, nil).must(t, 200)
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

// jwk renders a public key as a JWK.
func jwk(kid string, pub any) map[string]any {
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		pad := func(b []byte) []byte { return append(make([]byte, 32-len(b)), b...) }
		return map[string]any{"kty": "EC", "kid": kid, "alg": "ES256", "use": "sig", "crv": "P-256", "x": b64(pad(k.X.Bytes())), "y": b64(pad(k.Y.Bytes()))}
	}
	panic("unsupported key")
}

func TestJWKSTokens(t *testing.T) {
	t.Parallel()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{jwk("rsa1", &rsaKey.PublicKey), jwk("ec1", &ecKey.PublicKey)}})
	}))
	defer jwks.Close()
	s := startServer(t, "HOOKD_JWT_JWKS_URL="+jwks.URL, "HOOKD_JWT_ISSUER=https://idp.example", "HOOKD_JWT_AUDIENCE=hookd")
	withIssAud := func(c jwt.MapClaims, iss, aud string) jwt.MapClaims {
		c["iss"], c["aud"] = iss, aud
		return c
	}
	okRS := signed(t, jwt.SigningMethodRS256, rsaKey, withIssAud(claims("alice", time.Hour), "https://idp.example", "hookd"), "rsa1")
	okES := signed(t, jwt.SigningMethodES256, ecKey, withIssAud(claims("alice", time.Hour), "https://idp.example", "hookd"), "ec1")
	s.do("GET", "/api/webhooks/", okRS, nil).must(t, 200)
	s.do("GET", "/api/webhooks/", okES, nil).must(t, 200)
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	bad := map[string]string{
		"wrong issuer":   signed(t, jwt.SigningMethodRS256, rsaKey, withIssAud(claims("alice", time.Hour), "https://evil.example", "hookd"), "rsa1"),
		"wrong audience": signed(t, jwt.SigningMethodRS256, rsaKey, withIssAud(claims("alice", time.Hour), "https://idp.example", "other"), "rsa1"),
		"unknown kid":    signed(t, jwt.SigningMethodRS256, otherKey, withIssAud(claims("alice", time.Hour), "https://idp.example", "hookd"), "nope"),
		"forged key":     signed(t, jwt.SigningMethodRS256, otherKey, withIssAud(claims("alice", time.Hour), "https://idp.example", "hookd"), "rsa1"),
	}
	for name, tok := range bad {
		if r := s.do("GET", "/api/webhooks/", tok, nil); r.Status != 401 || r.errCode() != "unauthorized" {
			t.Fatalf("%s: %d %s", name, r.Status, r.Raw)
		}
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	plain := token(t, "acme", "alice")
	admin := token(t, "acme", "alice", "events:admin")
	body := `{"name":"shipment.created","category":"logistics","description":"A shipment left","payload_schema":{"type":"object","properties":{"id":{"type":"string"}}}}`
	r := s.do("POST", "/api/webhooks/events/", plain, body).must(t, 403)
	if r.errCode() != "forbidden" {
		t.Fatalf("code %s", r.errCode())
	}
	s.do("POST", "/api/webhooks/events/", admin, body).must(t, 201)
}
