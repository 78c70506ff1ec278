package auth

import (
	"crypto/x509"
	"encoding/pem"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Verifier configurations the table cases run against.
const (
	cfgSecret = "secret" // HS256 only
	cfgJWKS   = "jwks"   // RS256/ES256 only
	cfgBoth   = "both"   // secret and JWKS
	cfgIdP    = "idp"    // secret and JWKS, with issuer and audience
)

const (
	testIssuer   = "https://idp.example.test/"
	testAudience = "hookd-api"
)

func (f *fixture) options(cfg string) Options {
	var o Options
	switch cfg {
	case cfgSecret:
		o.HS256Secret = f.secret
	case cfgJWKS:
		o.JWKSURL = f.jwks.URL
	case cfgBoth:
		o.HS256Secret, o.JWKSURL = f.secret, f.jwks.URL
	case cfgIdP:
		o.HS256Secret, o.JWKSURL = f.secret, f.jwks.URL
		o.Issuer, o.Audience = testIssuer, testAudience
	default:
		panic("unknown configuration " + cfg)
	}
	o.HTTPClient = f.jwks.Client()
	return o
}

func TestVerify(t *testing.T) {
	t.Parallel()
	f := setup(t)
	other := setup(t) // keys the verifier does not know
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, f.secret, "", c) }
	rs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodRS256, f.rsa, kidRSA, c) }
	es := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodES256, f.ec, kidEC, c) }
	idp := func(c jwt.MapClaims) jwt.MapClaims {
		c["iss"], c["aud"] = testIssuer, testAudience
		return c
	}
	alice := Principal{Tenant: "default", User: "alice"}

	pubDER, err := x509.MarshalPKIXPublicKey(&f.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	confused := sign(t, jwt.SigningMethodHS256, pubPEM, kidRSA, claims(nil))

	valid := hs(claims(nil))
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + b64([]byte(`{"sub":"mallory","exp":`+jsonInt(testNow.Add(time.Hour).Unix())+`}`)) + "." + parts[2]

	longName := strings.Repeat("é", 200)
	tests := []struct {
		name    string
		cfg     string
		token   string
		want    Principal
		wantErr string
	}{
		// Accepted.
		{name: "HS256", cfg: cfgSecret, token: hs(claims(nil)), want: alice},
		{name: "RS256", cfg: cfgJWKS, token: rs(claims(nil)), want: alice},
		{name: "ES256", cfg: cfgJWKS, token: es(claims(nil)), want: alice},
		{name: "HS256 with both configured", cfg: cfgBoth, token: hs(claims(nil)), want: alice},
		{name: "RS256 with both configured", cfg: cfgBoth, token: rs(claims(nil)), want: alice},
		{name: "ES256 with both configured", cfg: cfgBoth, token: es(claims(nil)), want: alice},
		{name: "RS256 without kid tries every key", cfg: cfgJWKS, token: sign(t, jwt.SigningMethodRS256, f.rsa, "", claims(nil)), want: alice},
		{name: "ES256 without kid tries every key", cfg: cfgJWKS, token: sign(t, jwt.SigningMethodES256, f.ec, "", claims(nil)), want: alice},
		{name: "expired within leeway", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"exp": testNow.Add(-20 * time.Second).Unix()})), want: alice},
		{name: "nbf within leeway", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"nbf": testNow.Add(20 * time.Second).Unix()})), want: alice},
		{name: "iat within leeway", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"iat": testNow.Add(20 * time.Second).Unix()})), want: alice},
		{name: "no iat", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"iat": nil})), want: alice},
		{name: "issuer and audience match", cfg: cfgIdP, token: rs(idp(claims(nil))), want: alice},
		{name: "audience array holds ours", cfg: cfgIdP, token: es(claims(jwt.MapClaims{"iss": testIssuer, "aud": []string{"other", testAudience}})), want: alice},
		{name: "HS256 skips issuer and audience", cfg: cfgIdP, token: hs(claims(nil)), want: alice},
		{name: "tenant claim", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"tenant": "acme"})), want: Principal{Tenant: "acme", User: "alice"}},
		{name: "empty tenant is default", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"tenant": ""})), want: alice},
		{name: "200-character sub and tenant", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"sub": longName, "tenant": longName})), want: Principal{Tenant: longName, User: longName}},
		{name: "scope string", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"scope": " events:publish  events:admin "})),
			want: Principal{Tenant: "default", User: "alice", Scopes: []string{ScopePublish, ScopeAdmin}}},
		{name: "scp array", cfg: cfgJWKS, token: rs(claims(jwt.MapClaims{"scp": []string{"events:publish", "read write"}})),
			want: Principal{Tenant: "default", User: "alice", Scopes: []string{ScopePublish, "read", "write"}}},
		{name: "scp string", cfg: cfgJWKS, token: rs(claims(jwt.MapClaims{"scp": "events:admin"})),
			want: Principal{Tenant: "default", User: "alice", Scopes: []string{ScopeAdmin}}},
		{name: "scope and scp merged without duplicates", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"scope": "a b", "scp": []string{"b", "c"}})),
			want: Principal{Tenant: "default", User: "alice", Scopes: []string{"a", "b", "c"}}},

		// Not a token.
		{name: "empty", cfg: cfgSecret, token: "", wantErr: "missing bearer token"},
		{name: "one part", cfg: cfgSecret, token: "abc", wantErr: "malformed token"},
		{name: "two parts", cfg: cfgSecret, token: parts[0] + "." + parts[1], wantErr: "malformed token"},
		{name: "four parts", cfg: cfgSecret, token: valid + ".x", wantErr: "malformed token"},
		{name: "non-base64url characters", cfg: cfgSecret, token: parts[0] + "." + parts[1] + ".ab+/cd==", wantErr: "malformed token"},
		{name: "newline in signature", cfg: cfgSecret, token: parts[0] + "." + parts[1] + "." + parts[2][:5] + "\n" + parts[2][5:], wantErr: "malformed token"},
		{name: "bad base64 header", cfg: cfgSecret, token: "a." + parts[1] + "." + parts[2], wantErr: "malformed token"},
		{name: "bad base64 payload", cfg: cfgSecret, token: parts[0] + ".e." + parts[2], wantErr: "malformed token"},
		{name: "non-canonical base64 signature", cfg: cfgSecret, token: parts[0] + "." + parts[1] + "." + flipTrailingBits(parts[2]), wantErr: "malformed token"},
		{name: "bad JSON header", cfg: cfgSecret, token: rawHS256(f.secret, `{"alg":"HS256"`, `{"sub":"alice"}`), wantErr: "malformed token"},
		{name: "bad JSON payload", cfg: cfgSecret, token: rawHS256(f.secret, `{"alg":"HS256","typ":"JWT"}`, `{"sub":"alice",`), wantErr: "malformed token"},
		{name: "null payload", cfg: cfgSecret, token: rawHS256(f.secret, `{"alg":"HS256","typ":"JWT"}`, `null`), wantErr: "malformed token"},
		{name: "array payload", cfg: cfgSecret, token: rawHS256(f.secret, `{"alg":"HS256","typ":"JWT"}`, `[1]`), wantErr: "malformed token"},
		{name: "sub not a string", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"sub": 42})), wantErr: "malformed token"},
		{name: "scope not a string", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"scope": 7})), wantErr: "malformed token"},
		{name: "oversized token", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"pad": strings.Repeat("x", maxTokenBytes)})), wantErr: "malformed token"},

		// Bad signatures and algorithms.
		{name: "tampered payload", cfg: cfgSecret, token: tampered, wantErr: "invalid signature"},
		{name: "wrong secret", cfg: cfgSecret, token: sign(t, jwt.SigningMethodHS256, []byte("another-secret-of-length"), "", claims(nil)), wantErr: "invalid signature"},
		{name: "RS256 by another key under our kid", cfg: cfgJWKS, token: sign(t, jwt.SigningMethodRS256, other.rsa, kidRSA, claims(nil)), wantErr: "invalid signature"},
		{name: "ES256 by another key under our kid", cfg: cfgJWKS, token: sign(t, jwt.SigningMethodES256, other.ec, kidEC, claims(nil)), wantErr: "invalid signature"},
		{name: "ES256 by another key without kid", cfg: cfgJWKS, token: sign(t, jwt.SigningMethodES256, other.ec, "", claims(nil)), wantErr: "invalid signature"},
		{name: "alg none", cfg: cfgBoth, token: sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims(nil)), wantErr: "unsupported algorithm"},
		{name: "alg none with signature", cfg: cfgSecret, token: rawHS256(f.secret, `{"alg":"none"}`, `{"sub":"alice"}`), wantErr: "unsupported algorithm"},
		{name: "alg missing", cfg: cfgSecret, token: rawHS256(f.secret, `{"typ":"JWT"}`, `{"sub":"alice"}`), wantErr: "unsupported algorithm"},
		{name: "alg unknown", cfg: cfgSecret, token: rawHS256(f.secret, `{"alg":"XS256"}`, `{"sub":"alice"}`), wantErr: "unsupported algorithm"},
		{name: "HS384", cfg: cfgSecret, token: sign(t, jwt.SigningMethodHS384, f.secret, "", claims(nil)), wantErr: "unsupported algorithm"},
		{name: "PS256", cfg: cfgJWKS, token: sign(t, jwt.SigningMethodPS256, f.rsa, kidRSA, claims(nil)), wantErr: "unsupported algorithm"},
		{name: "RS512", cfg: cfgJWKS, token: sign(t, jwt.SigningMethodRS512, f.rsa, kidRSA, claims(nil)), wantErr: "unsupported algorithm"},
		{name: "key confusion: HS256 keyed with the RSA public key, both configured", cfg: cfgBoth, token: confused, wantErr: "invalid signature"},
		{name: "key confusion: HS256 keyed with the RSA public key, JWKS only", cfg: cfgJWKS, token: confused, wantErr: "unsupported algorithm"},
		{name: "RS256 with only a secret", cfg: cfgSecret, token: rs(claims(nil)), wantErr: "unsupported algorithm"},
		{name: "ES256 with only a secret", cfg: cfgSecret, token: es(claims(nil)), wantErr: "unsupported algorithm"},
		{name: "HS256 with only a JWKS", cfg: cfgJWKS, token: hs(claims(nil)), wantErr: "unsupported algorithm"},
		{name: "unknown kid", cfg: cfgJWKS, token: sign(t, jwt.SigningMethodRS256, other.rsa, "ghost", claims(nil)), wantErr: "unknown signing key"},
		{name: "kid of the EC key on an RS256 token", cfg: cfgJWKS, token: sign(t, jwt.SigningMethodRS256, f.rsa, kidEC, claims(nil)), wantErr: "unknown signing key"},
		{name: "kid of the RSA key on an ES256 token", cfg: cfgJWKS, token: sign(t, jwt.SigningMethodES256, f.ec, kidRSA, claims(nil)), wantErr: "unknown signing key"},
		{name: "crit header", cfg: cfgSecret, token: rawHS256(f.secret, `{"alg":"HS256","crit":["exp"]}`, `{"sub":"alice","exp":`+jsonInt(testNow.Add(time.Hour).Unix())+`}`), wantErr: "unsupported critical header"},

		// Times.
		{name: "expired", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"exp": testNow.Add(-31 * time.Second).Unix()})), wantErr: "token expired"},
		{name: "expired RS256", cfg: cfgJWKS, token: rs(claims(jwt.MapClaims{"exp": testNow.Add(-time.Hour).Unix()})), wantErr: "token expired"},
		{name: "no exp", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"exp": nil})), wantErr: "missing exp claim"},
		{name: "nbf in the future", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"nbf": testNow.Add(31 * time.Second).Unix()})), wantErr: "token not valid yet"},
		{name: "nbf in the future ES256", cfg: cfgJWKS, token: es(claims(jwt.MapClaims{"nbf": testNow.Add(time.Hour).Unix()})), wantErr: "token not valid yet"},
		{name: "iat in the future", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"iat": testNow.Add(time.Minute).Unix()})), wantErr: "token issued in the future"},
		{name: "exp not a number", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"exp": "tomorrow"})), wantErr: "malformed token"},

		// Issuer and audience.
		{name: "issuer mismatch", cfg: cfgIdP, token: rs(claims(jwt.MapClaims{"iss": "https://evil.test/", "aud": testAudience})), wantErr: "invalid issuer"},
		{name: "issuer missing", cfg: cfgIdP, token: rs(claims(jwt.MapClaims{"aud": testAudience})), wantErr: "invalid issuer"},
		{name: "audience string mismatch", cfg: cfgIdP, token: rs(claims(jwt.MapClaims{"iss": testIssuer, "aud": "other"})), wantErr: "invalid audience"},
		{name: "audience array mismatch", cfg: cfgIdP, token: es(claims(jwt.MapClaims{"iss": testIssuer, "aud": []string{"a", "b"}})), wantErr: "invalid audience"},
		{name: "audience missing", cfg: cfgIdP, token: es(claims(jwt.MapClaims{"iss": testIssuer})), wantErr: "invalid audience"},

		// Subject and tenant.
		{name: "missing sub", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"sub": nil})), wantErr: "missing sub claim"},
		{name: "empty sub", cfg: cfgJWKS, token: rs(claims(jwt.MapClaims{"sub": ""})), wantErr: "missing sub claim"},
		{name: "sub too long", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"sub": longName + "x"})), wantErr: "sub claim too long"},
		{name: "sub with control character", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"sub": "ali\nce"})), wantErr: "invalid sub claim"},
		{name: "tenant too long", cfg: cfgSecret, token: hs(claims(jwt.MapClaims{"tenant": longName + "x"})), wantErr: "tenant claim too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newVerifier(t, f.options(tt.cfg))
			// Twice: the second answer may come from the cache of
			// verified tokens and must be the same.
			for range 2 {
				got, err := v.Verify(t.Context(), tt.token)
				if tt.wantErr != "" {
					wantUnauthorized(t, err, tt.wantErr)
					if !reflect.DeepEqual(got, Principal{}) {
						t.Errorf("principal on failure = %+v, want zero", got)
					}
					continue
				}
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("Verify = %+v, want %+v", got, tt.want)
				}
			}
		})
	}
}

func jsonInt(n int64) string { return strconv.FormatInt(n, 10) }

// flipTrailingBits changes the unused low bit of the last base64url
// character, which lenient decoders ignore.
func flipTrailingBits(seg string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[i^1])
}
