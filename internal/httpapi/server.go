// Package httpapi serves hookd's HTTP API: routes, authentication, the
// response envelope and one file per resource.
package httpapi

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/stream"
)

// Deps is what the API needs from the rest of hookd: the services it
// calls, and what serving HTTP needs besides.
type Deps struct {
	Webhooks     hookd.WebhookService
	EventTypes   hookd.EventTypeService
	Events       hookd.EventService
	Deliveries   hookd.DeliveryService
	Integrations hookd.IntegrationService
	Readiness    hookd.ReadinessService

	Verifier *auth.Verifier
	Logger   *slog.Logger
	// Registry receives the API's metrics and is served on /metrics.
	Registry *prometheus.Registry
	// Now is the clock of rate limits and of default query windows.
	Now     func() time.Time
	Version string
	// RateLimit and RateBurst bound API requests per user (0: unlimited),
	// publishing excepted.
	RateLimit float64
	RateBurst int
	// PublishRateLimit bounds the events a tenant publishes a second (0:
	// unlimited), with bursts of a second's worth.
	PublishRateLimit float64
	// RateBuckets hold the users' and tenants' buckets: on PostgreSQL the
	// database's, shared by every node. nil: in memory, this node only.
	RateBuckets hookd.TokenBuckets
	// Broker carries committed events to GET /api/events/stream/, tuned by
	// Stream (zero values take the defaults). Without one, streams answer 500.
	Broker stream.Broker
	Stream stream.Options
}

// Server is hookd's HTTP API.
type Server struct {
	webhooks     hookd.WebhookService
	eventTypes   hookd.EventTypeService
	events       hookd.EventService
	deliveries   hookd.DeliveryService
	integrations hookd.IntegrationService
	readiness    hookd.ReadinessService
	verifier     *auth.Verifier
	log          *slog.Logger
	registry     *prometheus.Registry
	now          func() time.Time
	version      string
	limiter      *rateLimiter // per user, the management API
	publishing   *rateLimiter // per tenant, events published
	keyFailures  *keyFailureLimiter
	streamer     *stream.Streamer
	metrics      apiMetrics
	routes       []*route
	handler      http.Handler
}

type apiMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewServer builds the API handler.
func NewServer(d Deps) *Server {
	s := &Server{
		webhooks: d.Webhooks, eventTypes: d.EventTypes, events: d.Events, deliveries: d.Deliveries,
		integrations: d.Integrations, readiness: d.Readiness,
		verifier: d.Verifier, log: d.Logger, registry: d.Registry, now: d.Now, version: d.Version,
		limiter: newRateLimiter("API", d.RateLimit, d.RateBurst, d.RateBuckets, d.Logger),
	}
	if d.RateBuckets == nil { // one set of buckets in memory for both limits
		d.RateBuckets = s.limiter.buckets
	}
	s.publishing = newRateLimiter("publishing", d.PublishRateLimit, int(math.Ceil(d.PublishRateLimit)), d.RateBuckets, d.Logger)
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.keyFailures = newKeyFailureLimiter(d.RateBuckets, s.log)
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	s.metrics = apiMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_http_requests_total", Help: "API requests by route and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hookd_http_request_duration_seconds", Help: "API request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"route"}),
	}
	s.registry.MustRegister(s.metrics.requests, s.metrics.latency)
	s.streamer = s.newStreamer(d.Broker, d.Stream)
	s.routes = s.routeTable()
	rt := &router{
		notFound: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.fail(w, r, hookd.Errorf(hookd.ENotFound, "no such path: %s", r.URL.Path))
		}),
		notAllow: func(allow []string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for _, m := range allow {
					w.Header().Add("Allow", m)
				}
				s.fail(w, r, hookd.Errorf(hookd.EMethodNotAllowed, "method %s is not allowed here", r.Method))
			})
		},
	}
	for _, r := range s.routes {
		r.segs = splitPath(r.Pattern)
		h := r.handler
		if r.Auth {
			h = s.authenticate(r, h)
		}
		if r.APIKey {
			h = s.limitKeyFailures(h)
		}
		r.handler = s.limitBody(s.refuseControlText(h))
		rt.routes = append(rt.routes, r)
	}
	s.handler = s.observe(rt)
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// route is one entry of the route table; the router, the auth middleware
// and the OpenAPI document are all derived from it.
type route struct {
	Method     string
	Pattern    string
	Summary    string
	Tag        string
	Auth       bool     // needs a bearer token
	Publishing bool     // counts against the tenant's publishing limit, not the user's API limit
	Scope      string   // needs this scope too
	QueryToken bool     // accepts ?access_token= (EventSource cannot set headers)
	APIKey     bool     // authenticated by X-API-Key (Zapier) instead of a bearer token
	Produces   []string // media types of a streaming answer (default: the JSON envelope)
	Status     int      // success status
	Query      []param
	Body       string // name of the request body schema in the OpenAPI document
	Result     string // name of the data schema in the OpenAPI document
	handler    http.Handler
	segs       []string
}

// param is a documented query parameter.
type param struct {
	Name, Type, Description string
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	ok(w, http.StatusOK, map[string]string{"status": "ok", "version": s.version}, "")
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.readiness.Ready(ctx); err != nil {
		s.log.Warn("readiness check failed", "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(int(hookd.UnavailableRetryAfter/time.Second)))
		writeJSON(w, http.StatusServiceUnavailable, envelope{Error: &errorBody{Code: hookd.EUnavailable, Message: "the database cannot be read and written"}})
		return
	}
	ok(w, http.StatusOK, map[string]string{"status": "ready"}, "")
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})
}
