package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// Verifying an HS256 token (base64, JSON, HMAC) costs about as much as
// the rest of a small API request, and a publisher sends the same token
// with every request. So a Verifier remembers the HS256 tokens it
// accepted, each with the window in which it holds, and checks only that
// window when it sees one again: the signature and the claims of the
// same bytes under the same secret cannot have changed, while time can,
// and is checked on every request exactly as the parser checks it (exp
// plus the leeway, nbf and iat less it). JWKS tokens are not remembered:
// their provider may withdraw a key at any moment, and a token of a
// withdrawn key must fail at once.

const (
	maxCachedTokens    = 1024
	maxCachedTokenSize = 4 << 10 // longer tokens are verified every time
)

// tokenCache holds verified HS256 tokens by their SHA-256, so that it
// keeps no token itself and its size is bounded whatever tokens come.
type tokenCache struct {
	mu      sync.RWMutex
	entries map[[sha256.Size]byte]cachedToken
}

// cachedToken is a verified token's caller and the window in which the
// token is valid: from notBefore on, until (not at) expires.
type cachedToken struct {
	p         Principal
	notBefore time.Time // the later of nbf and iat, less Leeway; zero: neither claim
	expires   time.Time // exp plus Leeway
}

// valid reports whether the token is valid at now.
func (c *cachedToken) valid(now time.Time) bool {
	return !now.Before(c.notBefore) && now.Before(c.expires)
}

func newTokenCache() *tokenCache {
	return &tokenCache{entries: map[[sha256.Size]byte]cachedToken{}}
}

func (c *tokenCache) get(key [sha256.Size]byte) (cachedToken, bool) {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	return e, ok
}

// put remembers a token; when the cache is full it first forgets the
// tokens that expired by now, then, if none did, all of them.
func (c *tokenCache) put(key [sha256.Size]byte, e cachedToken, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedTokens {
		for k, old := range c.entries {
			if !now.Before(old.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCachedTokens {
			clear(c.entries)
		}
	}
	c.entries[key] = e
}

func (c *tokenCache) drop(key [sha256.Size]byte) {
	c.mu.Lock()
	delete(c.entries, key)
	c.mu.Unlock()
}

// cacheEntry is what the cache keeps of claims that verified.
func cacheEntry(p Principal, c *tokenClaims) cachedToken {
	e := cachedToken{p: p, expires: c.ExpiresAt.Add(Leeway)}
	if c.NotBefore != nil {
		e.notBefore = c.NotBefore.Add(-Leeway)
	}
	if c.IssuedAt != nil {
		if t := c.IssuedAt.Add(-Leeway); t.After(e.notBefore) {
			e.notBefore = t
		}
	}
	return e
}
