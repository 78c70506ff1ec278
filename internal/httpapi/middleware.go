package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/hookd"
)

type principalKey struct{}

// principal returns the authenticated caller of an /api/ request.
func principal(r *http.Request) auth.Principal {
	p, _ := r.Context().Value(principalKey{}).(auth.Principal)
	return p
}

// authenticate verifies the bearer token (or, where allowed, the
// access_token query parameter) and enforces the route's scope.
func (s *Server) authenticate(rt *route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := auth.BearerToken(r)
		if err != nil && rt.QueryToken {
			if q := r.URL.Query().Get("access_token"); q != "" {
				token, err = q, nil
			}
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p, err := s.verifier.Verify(r.Context(), token)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if rt.Scope != "" && !p.HasScope(rt.Scope) {
			s.fail(w, r, hookd.Errorf(hookd.EForbidden, "this request needs scope %s", rt.Scope))
			return
		}
		if d, limited := s.limiter.allow(p.Tenant+"\x00"+p.User, s.now()); limited {
			s.fail(w, r, &hookd.Error{Code: hookd.ERateLimited, Message: "too many requests; slow down", RetryAfter: d})
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// limitBody caps request bodies at maxBodyBytes, answering 413 early when
// Content-Length already says too much.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBodyBytes {
			s.fail(w, r, hookd.Errorf(hookd.EPayloadTooLarge, "request body exceeds %d bytes", maxBodyBytes))
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status a handler wrote, for logs and metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (sr *statusRecorder) WriteHeader(code int) {
	if sr.status == 0 {
		sr.status = code
	}
	sr.ResponseWriter.WriteHeader(code)
}

func (sr *statusRecorder) Write(b []byte) (int, error) {
	if sr.status == 0 {
		sr.status = http.StatusOK
	}
	return sr.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the recorder.
func (sr *statusRecorder) Flush() {
	if f, ok := sr.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// FlushError flushes and reports a failed write (a stalled stream reader),
// which Flush cannot.
func (sr *statusRecorder) FlushError() error {
	return http.NewResponseController(sr.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the real writer.
func (sr *statusRecorder) Unwrap() http.ResponseWriter { return sr.ResponseWriter }

// observe recovers panics, logs each request and feeds the HTTP metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v)
				if rec.status == 0 {
					s.fail(rec, r, hookd.Errorf(hookd.EInternal, "internal error"))
				}
			}
			took := time.Since(start)
			pattern := r.Pattern
			if pattern == "" {
				pattern = "unmatched"
			}
			s.metrics.requests.WithLabelValues(pattern, strconv.Itoa(rec.status)).Inc()
			s.metrics.latency.WithLabelValues(pattern).Observe(took.Seconds())
			s.log.Debug("request", logAttrs(r, rec.status, took)...)
		}()
		next.ServeHTTP(rec, r)
	})
}

// userLimiter is a token bucket per user, forgotten after idling.
type userLimiter struct {
	perSecond rate.Limit
	burst     int
	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newUserLimiter(perSecond float64, burst int) *userLimiter {
	if burst < 1 {
		burst = 1
	}
	return &userLimiter{perSecond: rate.Limit(perSecond), burst: burst, buckets: map[string]*bucket{}}
}

// allow takes a token for key; when none is left it says how long to wait.
func (l *userLimiter) allow(key string, now time.Time) (time.Duration, bool) {
	if l.perSecond <= 0 {
		return 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.perSecond, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d, true
	}
	return 0, false
}
