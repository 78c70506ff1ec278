// Package auth verifies the JWT bearer tokens that guard hookd's API
// (docs/api.md §2) and turns them into a Principal: who is calling, for
// which account, with which scopes. It also issues HS256 tokens for
// `hookd token` and tests. HTTP middleware lives in internal/httpapi.
package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/hookd/hookd/internal/hookd"
)

// Scopes that hookd's API checks.
const (
	// ScopePublish allows publishing events.
	ScopePublish = "events:publish"
	// ScopeAdmin allows registering event types.
	ScopeAdmin = "events:admin"
	// ScopeReadOnly limits a token to reading: the embedded portal's
	// viewers. It wins over every other scope.
	ScopeReadOnly = "readonly"
)

// DefaultTenant is the account of a token without a tenant claim.
const DefaultTenant = "default"

// Leeway is the clock skew tolerated on exp, nbf and iat.
const Leeway = 30 * time.Second

// Limits on what a token may carry.
const (
	maxClaimChars = 200      // sub and tenant, in characters
	maxTokenBytes = 16 << 10 // a whole compact JWT
	maxJWKSBytes  = 1 << 20  // one JWKS document
	jwksTimeout   = 10 * time.Second
)

// Signing algorithms hookd accepts.
const (
	algHS256 = "HS256"
	algRS256 = "RS256"
	algES256 = "ES256"
)

// Principal is the verified caller: the account (tenant claim), the user
// (sub claim) and the scopes the token grants.
type Principal struct {
	Tenant string
	User   string
	Scopes []string
}

// Owner returns the (tenant, user) pair that webhooks and integration
// settings of this caller belong to.
func (p Principal) Owner() hookd.Owner {
	return hookd.Owner{Tenant: p.Tenant, User: p.User}
}

// HasScope reports whether the token granted scope s.
func (p Principal) HasScope(s string) bool {
	return slices.Contains(p.Scopes, s)
}

// MayUse reports whether the token may make a request with this HTTP
// method: a read-only token may only GET (and HEAD).
func (p Principal) MayUse(method string) bool {
	return method == "GET" || method == "HEAD" || !p.HasScope(ScopeReadOnly)
}

// Options configures a Verifier. At least one of HS256Secret and JWKSURL
// must be set; both may be.
type Options struct {
	// HS256Secret verifies HS256 tokens (HOOKD_JWT_SECRET). Empty refuses HS256.
	HS256Secret []byte
	// JWKSURL serves the RS256/ES256 keys of an identity provider
	// (HOOKD_JWT_JWKS_URL). Empty refuses RS256 and ES256.
	JWKSURL string
	// Issuer, when set, must equal the iss claim of JWKS-verified tokens.
	Issuer string
	// Audience, when set, must be one of the aud claim of JWKS-verified tokens.
	Audience string
	// HTTPClient fetches the JWKS; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock for exp, nbf and iat; nil means time.Now.
	Now hookd.Clock
}

// Verifier checks bearer tokens. It is safe for concurrent use.
//
// A token is accepted only when all of these hold:
//   - alg is HS256 (and a secret is configured) or RS256/ES256 (and a JWKS
//     URL is configured); everything else, "none" included, is refused;
//   - the signature verifies: HS256 against the secret only, RS256/ES256
//     against the JWKS key named by kid (or, without kid, any JWKS key of
//     the right type) — never the other way round;
//   - exp is present and not past; tokens without exp are refused;
//   - nbf and iat, when present, are not in the future;
//   - for JWKS tokens, iss and aud match Issuer and Audience when set
//     (HS256 tokens are hookd's own, see Issue, and carry neither);
//   - sub is present, at most 200 characters, and tenant (when present)
//     is at most 200 characters.
//
// exp, nbf and iat are compared with a leeway of 30 s for clock skew.
type Verifier struct {
	secret   []byte
	jwks     keyfunc.Keyfunc // nil without a JWKS URL
	issuer   string
	audience string
	methods  []string
	parser   *jwt.Parser
	now      hookd.Clock
	cache    *tokenCache // HS256 tokens that verified (cache.go)
	cancel   context.CancelFunc
}

// NewVerifier returns a Verifier for opts. With a JWKS URL it fetches the
// key set once before returning; a failed fetch is not an error: the keys
// are fetched again when a token names a key that is not cached (at most
// once a minute) and every hour in the background until ctx ends or
// Close is called.
func NewVerifier(ctx context.Context, opts Options) (*Verifier, error) {
	if len(opts.HS256Secret) == 0 && opts.JWKSURL == "" {
		return nil, errors.New("auth: need an HS256 secret or a JWKS URL")
	}
	now := opts.Now.OrSystem()
	v := &Verifier{
		secret:   slices.Clone(opts.HS256Secret),
		issuer:   opts.Issuer,
		audience: opts.Audience,
		now:      now,
		cancel:   func() {},
	}
	if len(v.secret) > 0 {
		v.methods = append(v.methods, algHS256)
		v.cache = newTokenCache()
	}
	if opts.JWKSURL != "" {
		ctx, cancel := context.WithCancel(ctx)
		jwks, err := newJWKS(ctx, opts.JWKSURL, opts.HTTPClient)
		if err != nil {
			cancel()
			return nil, err
		}
		v.jwks, v.cancel = jwks, cancel
		v.methods = append(v.methods, algRS256, algES256)
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(v.methods),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(now),
		jwt.WithStrictDecoding(),
	)
	return v, nil
}

// Close stops the background JWKS refresh. Verify keeps working with the
// keys already fetched.
func (v *Verifier) Close() { v.cancel() }

// Verify checks token and returns the caller it names. Every failure is a
// *hookd.Error with code unauthorized and a short message that is safe to
// show the client ("token expired", "invalid signature", ...). ctx bounds a
// JWKS refresh that an unknown key id may trigger.
func (v *Verifier) Verify(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, unauthorized("missing bearer token")
	}
	cacheable := v.cache != nil && len(token) <= maxCachedTokenSize
	var key [sha256.Size]byte
	if cacheable {
		key = sha256.Sum256([]byte(token))
		if e, ok := v.cache.get(key); ok {
			if e.valid(v.now()) {
				return e.p, nil
			}
			// Out of its window: the parser says why, and it is forgotten.
			v.cache.drop(key)
		}
	}
	if !wellFormed(token) {
		return Principal{}, unauthorized("malformed token")
	}
	claims := &tokenClaims{}
	parsed, err := v.parser.ParseWithClaims(token, claims, v.keyfunc(ctx))
	if err != nil {
		return Principal{}, v.failure(parsed, err)
	}
	if parsed.Method.Alg() != algHS256 {
		if err := v.checkIdentityProvider(claims); err != nil {
			return Principal{}, err
		}
		return claims.principal()
	}
	p, err := claims.principal()
	if err == nil && cacheable {
		v.cache.put(key, cacheEntry(p, claims), v.now())
	}
	return p, err
}

// wellFormed reports whether token is a plausible compact JWS: three
// base64url segments whose payload is a JSON object. The character check
// keeps out whitespace, which Go's base64 decoder would otherwise skip
// inside the signature; the object check refuses a "null" or array payload
// up front (RFC 7519 wants an object), which jwt would misreport.
func wellFormed(token string) bool {
	if len(token) > maxTokenBytes || strings.Count(token, ".") != 2 {
		return false
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	_, rest, _ := strings.Cut(token, ".")
	segment, _, _ := strings.Cut(rest, ".")
	payload, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		return false
	}
	payload = bytes.TrimLeft(payload, " \t\r\n")
	return len(payload) > 0 && payload[0] == '{'
}

// Errors from keyfunc, told apart in failure.
var (
	errUnsupportedAlg = errors.New("unsupported algorithm")
	errUnknownKey     = errors.New("unknown signing key")
	errCritHeader     = errors.New("unsupported critical header")
)

// keyfunc returns the key for a parsed, not yet verified token: the secret
// for HS256, a JWKS key for RS256/ES256. Which store is consulted depends
// only on alg, so an HS256 token can never be checked against a public key.
func (v *Verifier) keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			return nil, errCritHeader
		}
		alg := t.Method.Alg()
		if !slices.Contains(v.methods, alg) {
			return nil, errUnsupportedAlg
		}
		if alg == algHS256 {
			return v.secret, nil
		}
		key, err := v.jwks.KeyfuncCtx(ctx)(t)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errUnknownKey, err)
		}
		return keysFor(alg, key)
	}
}

// failure turns a jwt parse error into the client-safe unauthorized error.
func (v *Verifier) failure(t *jwt.Token, err error) *hookd.Error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return unauthorized("malformed token")
	case t != nil && !v.algAllowed(t.Header["alg"]), errors.Is(err, errUnsupportedAlg):
		return unauthorized("unsupported algorithm")
	case errors.Is(err, errCritHeader):
		return unauthorized("unsupported critical header")
	case errors.Is(err, errUnknownKey):
		return unauthorized("unknown signing key")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return unauthorized("invalid signature")
	case errors.Is(err, jwt.ErrTokenExpired):
		return unauthorized("token expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return unauthorized("token not valid yet")
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return unauthorized("token issued in the future")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return unauthorized("missing exp claim")
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return unauthorized("invalid claims")
	default:
		return unauthorized("invalid token")
	}
}

func (v *Verifier) algAllowed(alg any) bool {
	s, ok := alg.(string)
	return ok && slices.Contains(v.methods, s)
}

// checkIdentityProvider applies the configured iss and aud checks.
func (v *Verifier) checkIdentityProvider(c *tokenClaims) error {
	if v.issuer != "" && c.Issuer != v.issuer {
		return unauthorized("invalid issuer")
	}
	if v.audience != "" && !slices.Contains(c.Audience, v.audience) {
		return unauthorized("invalid audience")
	}
	return nil
}

// checkName validates a sub or tenant value.
func checkName(claim, s string) error {
	if utf8.RuneCountInString(s) > maxClaimChars {
		return fmt.Errorf("%s claim too long", claim)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("invalid %s claim", claim)
		}
	}
	return nil
}

func unauthorized(msg string) *hookd.Error {
	return &hookd.Error{Code: hookd.EUnauthorized, Message: msg}
}
