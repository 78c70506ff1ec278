package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenClaims is the payload hookd reads from a token.
type tokenClaims struct {
	jwt.RegisteredClaims
	Tenant string    `json:"tenant"`
	Scope  scopeList `json:"scope"`
	// Scp is the scope claim as some identity providers name it.
	Scp scopeList `json:"scp"`
}

// principal checks sub and tenant and returns the caller they name.
func (c *tokenClaims) principal() (Principal, error) {
	if c.Subject == "" {
		return Principal{}, unauthorized("missing sub claim")
	}
	if err := checkName("sub", c.Subject); err != nil {
		return Principal{}, unauthorized(err.Error())
	}
	tenant := c.Tenant
	if tenant == "" {
		tenant = DefaultTenant
	}
	if err := checkName("tenant", tenant); err != nil {
		return Principal{}, unauthorized(err.Error())
	}
	var scopes []string
	for _, s := range slices.Concat(c.Scope, c.Scp) {
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	return Principal{Tenant: tenant, User: c.Subject, Scopes: scopes}, nil
}

// scopeList is a scope claim: a space-separated string ("a b") or an
// array of such strings (["a", "b"]), as identity providers differ.
type scopeList []string

// UnmarshalJSON accepts a string, an array of strings, or null.
func (s *scopeList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = strings.Fields(one)
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("scope: want a string or an array of strings")
	}
	*s = nil
	for _, m := range many {
		*s = append(*s, strings.Fields(m)...)
	}
	return nil
}

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header; the scheme is case-insensitive. A missing header, another
// scheme, an empty token or a repeated header is an unauthorized error:
// "missing bearer token" when no token was given (no header, an empty
// one, or "Bearer " alone), else "malformed authorization header".
func BearerToken(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	switch {
	case len(values) == 0:
		return "", unauthorized("missing bearer token")
	case len(values) > 1:
		return "", unauthorized("malformed authorization header")
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	token = strings.TrimLeft(token, " ")
	if scheme == "" || strings.EqualFold(scheme, "Bearer") && token == "" {
		return "", unauthorized("missing bearer token")
	}
	if !strings.EqualFold(scheme, "Bearer") {
		return "", unauthorized("malformed authorization header")
	}
	if strings.ContainsAny(token, " \t") {
		return "", unauthorized("malformed authorization header")
	}
	return token, nil
}

// Issue returns an HS256 token for p signed with secret, valid from now
// for ttl, with claims sub, tenant (omitted when empty), scope, iat, nbf
// and exp. It backs `hookd token` and tests.
func Issue(secret []byte, p Principal, ttl time.Duration, now time.Time) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("auth: issue: empty secret")
	}
	if ttl <= 0 {
		return "", fmt.Errorf("auth: issue: ttl %v is not positive", ttl)
	}
	if p.User == "" {
		return "", errors.New("auth: issue: empty sub")
	}
	if err := checkName("sub", p.User); err != nil {
		return "", fmt.Errorf("auth: issue: %w", err)
	}
	if err := checkName("tenant", p.Tenant); err != nil {
		return "", fmt.Errorf("auth: issue: %w", err)
	}
	for _, s := range p.Scopes {
		if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return "", fmt.Errorf("auth: issue: invalid scope %q", s)
		}
	}
	claims := jwt.MapClaims{
		"sub": p.User,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(ttl).Unix(),
	}
	if p.Tenant != "" {
		claims["tenant"] = p.Tenant
	}
	if len(p.Scopes) > 0 {
		claims["scope"] = strings.Join(p.Scopes, " ")
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}
