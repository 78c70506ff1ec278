package auth

import (
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// manualClock is a clock a test sets.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// A token remembered after its first check still holds only within its
// window: the instant exp plus the leeway is reached it is refused, and
// so it is before nbf or iat less the leeway.
func TestVerifyRememberedTokenWindow(t *testing.T) {
	t.Parallel()
	f := setup(t)
	clock := &manualClock{now: testNow}
	opts := f.options(cfgSecret)
	opts.Now = clock.Now
	v := newVerifier(t, opts)
	nbf, iat, exp := testNow.Add(10*time.Second), testNow.Add(-time.Minute), testNow.Add(time.Hour)
	tok := sign(t, jwt.SigningMethodHS256, f.secret, "", claims(jwt.MapClaims{"nbf": nbf.Unix(), "iat": iat.Unix(), "exp": exp.Unix()}))
	late := sign(t, jwt.SigningMethodHS256, f.secret, "", claims(jwt.MapClaims{"iat": testNow.Add(20 * time.Second).Unix(), "exp": exp.Unix()}))

	steps := []struct {
		at      time.Time
		token   string
		wantErr string
	}{
		{testNow, tok, ""},
		{testNow, tok, ""}, // remembered
		{nbf.Add(-Leeway - time.Nanosecond), tok, "token not valid yet"},
		{nbf.Add(-Leeway), tok, ""},
		{exp.Add(Leeway - time.Nanosecond), tok, ""},
		{exp.Add(Leeway), tok, "token expired"},
		{exp.Add(Leeway - time.Nanosecond), tok, ""},
		{exp.Add(Leeway), tok, "token expired"},
		{testNow, late, ""},
		{testNow.Add(-10*time.Second - time.Nanosecond), late, "token issued in the future"},
		{testNow.Add(-10 * time.Second), late, ""},
	}
	for i, s := range steps {
		clock.set(s.at)
		p, err := v.Verify(t.Context(), s.token)
		if s.wantErr != "" {
			if err == nil {
				t.Fatalf("step %d at %v: accepted, want %q", i, s.at, s.wantErr)
			}
			wantUnauthorized(t, err, s.wantErr)
			continue
		}
		if err != nil || p.User != "alice" {
			t.Fatalf("step %d at %v: Verify = %+v, %v", i, s.at, p, err)
		}
	}
}

// The cache keeps at most maxCachedTokens, however many tokens verify.
func TestVerifyCacheBounded(t *testing.T) {
	t.Parallel()
	f := setup(t)
	v := newVerifier(t, f.options(cfgSecret))
	for i := range maxCachedTokens + 10 {
		tok := sign(t, jwt.SigningMethodHS256, f.secret, "", claims(jwt.MapClaims{"sub": "u" + jsonInt(int64(i))}))
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
	}
	v.cache.mu.RLock()
	n := len(v.cache.entries)
	v.cache.mu.RUnlock()
	if n == 0 || n > maxCachedTokens {
		t.Errorf("%d tokens cached, want 1..%d", n, maxCachedTokens)
	}
}
