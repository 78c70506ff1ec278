package httpapi

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// Failed X-API-Key attempts are limited per client address (docs/api.md
// §8): keyFailureBurst wrong keys at once, then one more every
// keyFailureRefill. An address over the limit gets 429 before its key is
// even looked at, so guessing cannot go faster than the limit.
const (
	keyFailureBurst  = 5
	keyFailureRefill = 12 * time.Second // 5 a minute
)

// keyFailureLimiter counts failed API-key attempts in token buckets: on
// PostgreSQL the database's, shared by every node. Like the API's rate
// limit it fails open when the buckets cannot be asked.
type keyFailureLimiter struct {
	buckets hookd.TokenPeeker
	log     *slog.Logger
	failing atomic.Bool
}

func newKeyFailureLimiter(buckets hookd.TokenBuckets, log *slog.Logger) *keyFailureLimiter {
	p, ok := buckets.(hookd.TokenPeeker)
	if !ok {
		p = &hookd.MemoryBuckets{}
	}
	return &keyFailureLimiter{buckets: p, log: log}
}

func (l *keyFailureLimiter) perSecond() float64 { return 1 / keyFailureRefill.Seconds() }

// blocked says how long addr must wait before its next attempt (0: none).
func (l *keyFailureLimiter) blocked(ctx context.Context, addr string, now time.Time) time.Duration {
	wait, err := l.buckets.Peek(ctx, hookd.KeyFailureBucketKey(addr), l.perSecond(), keyFailureBurst, now)
	return l.checked(ctx, wait, err)
}

// failed counts a failed attempt of addr.
func (l *keyFailureLimiter) failed(ctx context.Context, addr string, now time.Time) {
	_, err := l.buckets.Take(ctx, hookd.KeyFailureBucketKey(addr), l.perSecond(), keyFailureBurst, now)
	l.checked(ctx, 0, err)
}

func (l *keyFailureLimiter) checked(ctx context.Context, wait time.Duration, err error) time.Duration {
	if err != nil {
		if ctx.Err() == nil && !l.failing.Swap(true) {
			l.log.Warn("API-key failure limits cannot be checked; serving without them until they can", "err", err)
		}
		return 0
	}
	if l.failing.Swap(false) {
		l.log.Info("API-key failure limits checked again")
	}
	return wait
}

// limitKeyFailures wraps a route authenticated by X-API-Key: an address
// over its limit of failed attempts gets 429 with Retry-After, and every
// answer 401 counts as a failed attempt.
func (s *Server) limitKeyFailures(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := clientAddr(r)
		if wait := s.keyFailures.blocked(r.Context(), addr, s.now()); wait > 0 {
			s.fail(w, r, &hookd.Error{Code: hookd.ERateLimited, Message: "too many failed API-key attempts; try again later", RetryAfter: wait})
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == http.StatusUnauthorized {
			s.keyFailures.failed(r.Context(), addr, s.now())
		}
	})
}

// clientAddr is the address a request came from: the peer's IP (hookd
// trusts no forwarding header).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
