package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/hookd"
)

type principalKey struct{}

// requestLogKey holds a request's *requestLog, which observe creates and
// authenticate fills, so the request line can name the caller.
type requestLogKey struct{}

// requestLog is what the request line learns while the request is served.
type requestLog struct{ tenant, user string }

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
		if !p.MayUse(r.Method) {
			s.fail(w, r, hookd.Errorf(hookd.EForbidden, "this token is read-only (scope %s)", auth.ScopeReadOnly))
			return
		}
		if rt.Scope != "" && !p.HasScope(rt.Scope) {
			s.fail(w, r, hookd.Errorf(hookd.EForbidden, "this request needs scope %s", rt.Scope))
			return
		}
		// Publishing counts against the tenant's limit on events instead
		// (limitPublishing, once the events are counted).
		if !rt.Publishing {
			if d, limited := s.limiter.allow(r.Context(), hookd.UserBucketKey(p.Tenant, p.User), 1, s.now()); limited {
				s.fail(w, r, &hookd.Error{Code: hookd.ERateLimited, Message: "too many requests; slow down", RetryAfter: d})
				return
			}
		}
		if rl, ok := r.Context().Value(requestLogKey{}).(*requestLog); ok {
			rl.tenant, rl.user = p.Tenant, p.User
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
		rl := &requestLog{}
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
			s.logRequest(r, rec.status, took, rl)
		}()
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestLogKey{}, rl)))
	})
}

// logRequest writes the request line: method, path (never the query,
// which may carry an access_token), status, duration and the caller.
// Probes and scrapes (/healthz, /readyz, /metrics) log at debug, server
// errors at warn, the rest at info.
func (s *Server) logRequest(r *http.Request, status int, took time.Duration, rl *requestLog) {
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelWarn
	case r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics":
		level = slog.LevelDebug
	}
	ctx := r.Context()
	if !s.log.Enabled(ctx, level) {
		return
	}
	s.log.LogAttrs(ctx, level, "request",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", status),
		slog.Duration("duration", took), slog.String("tenant", rl.tenant), slog.String("user", rl.user))
}

// rateLimiter is a rate limit in token buckets, in memory or, on
// PostgreSQL, shared by every node: the API's per user, publishing's per
// tenant. When the buckets cannot be asked it lets requests through (fail
// open) and logs that once, until they can again.
type rateLimiter struct {
	what      string // for logs: "API" or "publishing"
	perSecond float64
	burst     int
	buckets   hookd.TokenBuckets
	log       *slog.Logger
	failing   atomic.Bool // the last Take failed: its error was logged
}

// newRateLimiter limits each key to perSecond tokens a second (0: no
// limit) with bursts of burst, in buckets (nil: in memory).
func newRateLimiter(what string, perSecond float64, burst int, buckets hookd.TokenBuckets, log *slog.Logger) *rateLimiter {
	if buckets == nil {
		buckets = &hookd.MemoryBuckets{}
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &rateLimiter{what: what, perSecond: perSecond, burst: max(burst, 1), buckets: buckets, log: log}
}

// allow takes n tokens from key's bucket (see hookd.TokenBuckets.TakeN);
// when it cannot it says how long to wait.
func (l *rateLimiter) allow(ctx context.Context, key string, n int, now time.Time) (time.Duration, bool) {
	if l.perSecond <= 0 {
		return 0, false
	}
	wait, err := l.buckets.TakeN(ctx, key, n, l.perSecond, l.burst, now)
	if err != nil {
		if ctx.Err() == nil && !l.failing.Swap(true) {
			l.log.Warn(l.what+" rate limits cannot be checked; serving without them until they can", "err", err)
		}
		return 0, false
	}
	if l.failing.Swap(false) {
		l.log.Info(l.what + " rate limits checked again")
	}
	return wait, wait > 0
}

// limitPublishing counts n events against the tenant's publishing limit:
// an ERateLimited error when over it.
func (s *Server) limitPublishing(r *http.Request, tenant string, n int) error {
	if d, limited := s.publishing.allow(r.Context(), hookd.PublishBucketKey(tenant), n, s.now()); limited {
		return &hookd.Error{Code: hookd.ERateLimited, Message: "too many events published; slow down", RetryAfter: d}
	}
	return nil
}
