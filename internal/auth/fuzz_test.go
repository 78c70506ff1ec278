package auth

import (
	"errors"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hookd/hookd/internal/hookd"
)

// FuzzVerify feeds arbitrary strings to a verifier holding both a secret
// and a JWKS. Verify must never panic, must fail with unauthorized, and may
// succeed only for the exact tokens signed by the test's keys.
func FuzzVerify(f *testing.F) {
	fx := setup(f)
	valid := map[string]bool{}
	for _, tok := range []string{
		sign(f, jwt.SigningMethodHS256, fx.secret, "", claims(jwt.MapClaims{"scope": "events:publish", "tenant": "acme"})),
		sign(f, jwt.SigningMethodRS256, fx.rsa, kidRSA, claims(nil)),
		sign(f, jwt.SigningMethodES256, fx.ec, kidEC, claims(jwt.MapClaims{"scp": []string{"a", "b"}})),
	} {
		valid[tok] = true
		f.Add(tok)
	}
	for _, seed := range []string{
		"",
		"a.b.c",
		"..",
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.",
		rawHS256(fx.secret, `{"alg":"HS256"}`, `null`),
		rawHS256(fx.secret, `{"alg":"HS256","crit":["x"]}`, `{"sub":"a","exp":99999999999}`),
		sign(f, jwt.SigningMethodHS256, fx.secret, "", claims(jwt.MapClaims{"exp": nil})),
		sign(f, jwt.SigningMethodRS256, fx.rsa, "unknown", claims(nil)),
	} {
		f.Add(seed)
	}

	v := newVerifier(f, fx.options(cfgBoth))

	f.Fuzz(func(t *testing.T, token string) {
		p, err := v.Verify(t.Context(), token)
		if err == nil {
			if !valid[token] {
				t.Fatalf("Verify accepted a token the test never signed: %q -> %+v", token, p)
			}
			return
		}
		var he *hookd.Error
		if !errors.As(err, &he) || he.Code != hookd.EUnauthorized || he.Message == "" {
			t.Fatalf("Verify(%q) = %v, want an unauthorized *hookd.Error", token, err)
		}
	})
}
