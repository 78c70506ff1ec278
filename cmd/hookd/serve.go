package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hookd/hookd/internal/app"
	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/crypto"
	brokerdest "github.com/hookd/hookd/internal/destination/broker"
	destinations "github.com/hookd/hookd/internal/destination/builtin"
	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/httpapi"
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/integrations/builtin"
	"github.com/hookd/hookd/internal/outbound"
	"github.com/hookd/hookd/internal/publish"
	"github.com/hookd/hookd/internal/store/postgres"
	"github.com/hookd/hookd/internal/store/sqlite"
	"github.com/hookd/hookd/internal/stream"
	"github.com/hookd/hookd/internal/stream/pgstream"
	"github.com/hookd/hookd/internal/web"
)

// serve runs the server until ctx ends (SIGINT/SIGTERM).
// defaultGOGC is the garbage collector's target for serve when GOGC is not
// set in the environment.
const defaultGOGC = 200

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _, err := config.Parse("serve", args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("configuration: %w", err)
	}
	log := newLogger(cfg, stderr)
	if os.Getenv("GOGC") == "" {
		// Every event and delivery allocates a few KB that die young;
		// collecting at twice the live heap instead of once costs 10–25
		// MB and buys about 8 % more deliveries a second (BENCHMARKS.md).
		// GOGC set in the environment wins.
		debug.SetGCPercent(defaultGOGC)
	}
	if os.Getenv("GOMEMLIMIT") == "" && os.Getenv("GOGC") == "" {
		// Either set in the environment leaves the trade to the runtime.
		limitCtx, stopLimit := context.WithCancel(ctx)
		limited := make(chan struct{})
		go func() { defer close(limited); governMemory(limitCtx) }()
		defer func() { stopLimit(); <-limited }()
	}
	// Listen first: a start that fails here (port taken) leaves no new
	// database, key file or development secret behind.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if cfg.Dev {
		if cfg.JWTSecret == "" {
			secret, path, err := devJWTSecret(cfg)
			if err != nil {
				return err
			}
			cfg.JWTSecret = secret
			if path != "" {
				log.Info("development JWT secret kept in", "path", path)
			}
		}
		if !cfg.AllowPrivateTargetsSet {
			cfg.AllowPrivateTargets = true // so a receiver on localhost works in development
		}
	}

	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	store := db.store
	defer store.Close()

	cat, err := catalog.Builtin()
	if err != nil {
		return fmt.Errorf("event catalog: %w", err)
	}
	// One clock for everything that decides by time.
	clock := hookd.Clock(time.Now)
	verifier, err := auth.NewVerifier(ctx, auth.Options{
		Now: clock, HS256Secret: []byte(cfg.JWTSecret), JWKSURL: cfg.JWKSURL, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
	})
	if err != nil {
		return fmt.Errorf("authentication: %w", err)
	}
	defer verifier.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	broker, publishTo, err := db.openStreams(ctx, log)
	if err != nil {
		return fmt.Errorf("event streams: %w", err)
	}
	defer broker.Close()

	guard := &outbound.Guard{AllowPrivate: cfg.AllowPrivateTargets, Allowed: cfg.AllowedTargets, Log: log}
	transport := outbound.NewTransport(guard, cfg.DeliveryTimeout, 0)
	// Every sender may hold a connection to one host (many webhooks of
	// one receiver): the pool keeps them all, so none is dialled again.
	transport.MaxIdleConnsPerHost = max(transport.MaxIdleConnsPerHost, cfg.Workers)
	sender := &outbound.Sender{
		Client: outbound.NewClient(transport, cfg.DeliveryTimeout), UserAgent: "hookd/" + version, Now: clock,
		Deliveries: outbound.NewDeliveryClient(guard, cfg.DeliveryTimeout, 0, nil),
	}
	defer sender.Deliveries.CloseIdleConnections()
	// Integrations send through the same guarded client as webhooks.
	providers := builtin.Registry(integrations.Deps{Client: sender.Client, UserAgent: sender.UserAgent, Now: clock, MailchimpAPIBase: cfg.MailchimpAPIBase})
	// Broker hosts pass the same guard as HTTP endpoints: their
	// publishers dial with the transport's dialer.
	dests := destinations.Registry(sender, providers, brokerdest.Options{
		Dial: outbound.NewDialer(guard, cfg.DeliveryTimeout).DialContext, Timeout: cfg.DeliveryTimeout, Clock: clock,
	})
	defer dests.Close()
	// The dispatcher comes first: the publisher hands it what each commit
	// queues, and the services wake it. It hands back the rows whose
	// subscription ended to the services, which are built last; it
	// reaches them through endSubscription.
	fanout := publish.NewCache(store, cat, clock)
	var services *app.Services
	endSubscription := func(ctx context.Context, row *hookd.Webhook) error {
		return services.Integrations.EndSubscription(ctx, row)
	}
	dispatcher := dispatch.New(dispatch.Config{
		Workers: cfg.Workers, AttemptTimeout: cfg.DeliveryTimeout, AutoDisableAfter: cfg.AutoDisableAfter, FailingAfter: cfg.FailingAfter,
		ShutdownGrace: cfg.ShutdownTimeout, Lease: cfg.Lease, Now: clock, RateBuckets: db.buckets, Unsubscribed: endSubscription,
	}, store, dests, dispatch.RetryPolicy{}, dispatch.NewMetrics(reg, store, clock), log)
	publisher := publish.New(publishTo, fanout, dispatcher, clock, rand.Reader)
	services = app.New(app.Deps{
		Store: store, Catalog: cat, Integrations: providers,
		Publisher: app.EnginePublisher{P: publisher}, Notifier: dispatcher, Forgetter: dispatcher, Circuits: dispatcher.Breakers(),
		Destinations: dests, URLKinds: dests, Targets: guard,
		AttemptTimeout: cfg.DeliveryTimeout, Now: clock, Random: rand.Reader,
	})
	api := httpapi.NewServer(httpapi.Deps{
		Webhooks: services.Webhooks, EventTypes: services.EventTypes, Events: services.Events,
		Deliveries: services.Deliveries, Integrations: services.Integrations, Readiness: services.Readiness,
		Verifier: verifier, Logger: log, Registry: reg, Now: clock, Version: version,
		RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst, PublishRateLimit: cfg.PublishRateLimit, RateBuckets: db.buckets,
		Broker: broker,
	})

	dashboard := web.Handler(web.Options{FrameAncestors: cfg.PortalFrameAncestors})
	srv := &http.Server{Handler: httpapi.WithDashboard(api, dashboard), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	// Open streams never go idle by themselves: end them when shutdown
	// begins (each tells its client to resume with Last-Event-ID).
	srv.RegisterOnShutdown(func() { _ = broker.Close() })
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("hookd listening", "addr", ln.Addr().String(), "database", redactDSN(cfg.DatabaseURL), "version", version)
	if cfg.Dev {
		printDevBanner(stdout, cfg, ln.Addr().String())
	}

	workCtx, stopWork := context.WithCancel(context.Background())
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		_ = dispatcher.Run(workCtx)
	}()
	go prune(workCtx, store, cfg.LogRetention, clock, log)

	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	log.Info("shutting down: no new requests; in-flight deliveries get up to the shutdown timeout")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	publisher.Close() // no request is left to publish
	stopWork()
	<-dispatched
	log.Info("stopped")
	return serveErr
}

// prune deletes delivery logs older than the retention, hourly.
func prune(ctx context.Context, store hookd.Store, retention time.Duration, clock hookd.Clock, log *slog.Logger) {
	if retention <= 0 {
		return
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := store.PruneDeliveries(ctx, clock().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("prune delivery logs", "err", err)
		case n > 0:
			log.Info("pruned delivery logs", "deleted", n, "older_than", retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// database is an open store and what its engine offers beside it.
type database struct {
	store hookd.Store
	// buckets hold the token buckets of the API's and the webhooks' rate
	// limits: the database's when it shares them among nodes
	// (PostgreSQL), else this process's memory.
	buckets hookd.TokenBuckets
	// openStreams returns the event streams' broker and the store the
	// publisher must write through. On one node, events enter streams
	// once their transaction committed, in commit order
	// (stream.PublishOnCommit), never waiting for a subscriber. On
	// PostgreSQL every node reads committed events back after the
	// database's notification instead, whichever node published them.
	openStreams func(ctx context.Context, log *slog.Logger) (stream.Broker, hookd.Store, error)
}

// openStore opens the configured database with secrets sealed by the
// configured key (or a key file beside the SQLite database).
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*database, error) {
	if cfg.IsPostgres() {
		if cfg.EncryptionKey == nil {
			return nil, errors.New("HOOKD_ENCRYPTION_KEY is required with PostgreSQL (every node needs the same key)")
		}
		box, err := crypto.New(cfg.EncryptionKey)
		if err != nil {
			return nil, err
		}
		st, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{Cipher: box})
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", redactDSN(cfg.DatabaseURL), err)
		}
		return &database{store: st, buckets: st.Buckets(),
			openStreams: func(ctx context.Context, log *slog.Logger) (stream.Broker, hookd.Store, error) {
				broker, err := pgstream.New(ctx, st, pgstream.Options{Logger: log})
				return broker, st, err
			}}, nil
	}
	path := cfg.SQLitePath()
	key := cfg.EncryptionKey
	if key == nil {
		keyPath := keyFilePath(path)
		var err error
		if key, err = crypto.LoadOrCreateKeyFile(keyPath); err != nil {
			return nil, fmt.Errorf("encryption key: %w", err)
		}
		log.Info("secrets encrypted with the key file", "path", keyPath)
	}
	box, err := crypto.New(key)
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, path, sqlite.Options{Cipher: box})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &database{store: st, buckets: &hookd.MemoryBuckets{},
		openStreams: func(context.Context, *slog.Logger) (stream.Broker, hookd.Store, error) {
			broker := stream.NewMemory()
			return broker, stream.PublishOnCommit(st, broker), nil
		}}, nil
}

// redactDSN hides a password in a database URL for logs.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	return dsn
}

func printDevBanner(w io.Writer, cfg *config.Config, addr string) {
	tok, err := auth.Issue([]byte(cfg.JWTSecret), auth.Principal{Tenant: "default", User: "dev", Scopes: []string{auth.ScopePublish, auth.ScopeAdmin}}, 24*time.Hour, time.Now())
	if err != nil {
		fmt.Fprintln(w, "cannot issue a development token:", err)
		return
	}
	host := addr
	if h, p, err := net.SplitHostPort(addr); err == nil && (h == "::" || h == "0.0.0.0" || h == "") {
		host = net.JoinHostPort("localhost", p)
	}
	fmt.Fprintf(w, `
hookd is running in development mode (a JWT secret kept beside the database; deliveries may reach localhost).

  the secret, and a token (user "dev", tenant "default", scopes events:publish events:admin, valid 24h):

    export HOOKD_JWT_SECRET=%s
    export HOOKD_TOKEN=%s

  dashboard:   http://%s/#token=%s

  try it:

    curl -s http://%s/api/webhooks/events/ -H "Authorization: Bearer $HOOKD_TOKEN"

`, cfg.JWTSecret, tok, host, tok, host)
}
