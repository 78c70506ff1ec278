// Package config holds hookd's one configuration struct, read from flags
// and HOOKD_* environment variables (flags win). It imports nothing of ours.
package config

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Config is everything hookd serve can be told.
type Config struct {
	Addr                string
	DatabaseURL         string
	JWTSecret           string
	JWKSURL             string
	JWTIssuer           string
	JWTAudience         string
	AllowPrivateTargets bool
	AllowedTargets      []netip.Prefix
	EncryptionKey       []byte // 32 bytes, or nil for the key file beside the SQLite database
	DeliveryTimeout     time.Duration
	MailchimpAPIBase    string
	AutoDisableAfter    int
	LogRetention        time.Duration
	RateLimit           float64 // API requests per second per user
	RateBurst           int
	PublishRateLimit    float64 // events a tenant may publish a second; 0: unlimited
	Workers             int     // concurrent delivery senders
	ShutdownTimeout     time.Duration
	Lease               time.Duration // how long a claimed delivery stays claimed; 0: 2×DeliveryTimeout+30s
	Dev                 bool
	// PortalFrameAncestors are the origins that may frame the dashboard
	// (its Content-Security-Policy's frame-ancestors).
	PortalFrameAncestors []string
}

// Var describes one configuration variable, for flags, docs and tests.
type Var struct {
	Env     string
	Flag    string
	Default string
	Usage   string
}

// Vars lists every configuration variable. The README's table is generated
// from the same list (see TestReadmeListsEveryVariable).
var Vars = []Var{
	{"HOOKD_ADDR", "addr", ":8080", "listen address"},
	{"HOOKD_DATABASE_URL", "database-url", "sqlite:hookd.db", "sqlite:PATH (or a bare path) for the embedded store, postgres://... for PostgreSQL"},
	{"HOOKD_JWT_SECRET", "jwt-secret", "", "HS256 key for bearer tokens"},
	{"HOOKD_JWT_JWKS_URL", "jwt-jwks-url", "", "JWKS URL for RS256/ES256 tokens from an identity provider"},
	{"HOOKD_JWT_ISSUER", "jwt-issuer", "", "required iss claim, when set"},
	{"HOOKD_JWT_AUDIENCE", "jwt-audience", "", "required aud claim, when set"},
	{"HOOKD_ALLOW_PRIVATE_TARGETS", "allow-private-targets", "false", "let deliveries reach loopback, private and link-local addresses"},
	{"HOOKD_ALLOWED_TARGETS", "allowed-targets", "", "comma-separated CIDRs reachable even though private"},
	{"HOOKD_ENCRYPTION_KEY", "encryption-key", "", "base64 of 32 bytes; encrypts secrets at rest (default: a key file beside the SQLite database)"},
	{"HOOKD_DELIVERY_TIMEOUT", "delivery-timeout", "15s", "one delivery attempt's time limit"},
	{"HOOKD_MAILCHIMP_API_BASE", "mailchimp-api-base", "", "replaces https://<dc>.api.mailchimp.com"},
	{"HOOKD_AUTO_DISABLE_AFTER", "auto-disable-after", "50", "consecutive final failures that switch a webhook off (0: never)"},
	{"HOOKD_LOG_RETENTION", "log-retention", "720h", "delivery logs older than this are pruned"},
	{"HOOKD_RATE_LIMIT", "rate-limit", "100", "API requests per second per user (0: unlimited)"},
	{"HOOKD_RATE_BURST", "rate-burst", "200", "API requests a user may send at once above the rate"},
	{"HOOKD_PUBLISH_RATE_LIMIT", "publish-rate-limit", "0", "events a tenant may publish per second, batches counted by their events (0: unlimited)"},
	{"HOOKD_WORKERS", "workers", "64", "concurrent delivery senders"},
	{"HOOKD_SHUTDOWN_TIMEOUT", "shutdown-timeout", "30s", "how long SIGTERM waits for in-flight deliveries"},
	{"HOOKD_PORTAL_FRAME_ANCESTORS", "portal-frame-ancestors", "'self'", "space-separated origins that may embed the dashboard in a frame (CSP frame-ancestors)"},
	{"HOOKD_LEASE", "lease", "0", "how long a claimed delivery stays claimed before another node may take it (0: 2×delivery timeout + 30s)"},
}

// Parse reads args (after the subcommand) and the environment into a Config.
func Parse(name string, args []string, getenv func(string) string) (*Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	vals := make(map[string]*string, len(Vars))
	for _, v := range Vars {
		def := v.Default
		if e := getenv(v.Env); e != "" {
			def = e
		}
		vals[v.Env] = fs.String(v.Flag, def, v.Usage+" ($"+v.Env+")")
	}
	dev := fs.Bool("dev", false, "development mode: generate a JWT secret, print a token, allow loopback targets")
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	c := &Config{Dev: *dev}
	var errs []error
	get := func(env string) string { return strings.TrimSpace(*vals[env]) }
	dur := func(env string) time.Duration {
		d, err := time.ParseDuration(get(env))
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration", env, get(env)))
		}
		return d
	}
	num := func(env string) int {
		n, err := strconv.Atoi(get(env))
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a whole number >= 0", env, get(env)))
		}
		return n
	}
	c.Addr = get("HOOKD_ADDR")
	c.DatabaseURL = get("HOOKD_DATABASE_URL")
	c.JWTSecret = get("HOOKD_JWT_SECRET")
	c.JWKSURL = get("HOOKD_JWT_JWKS_URL")
	c.JWTIssuer = get("HOOKD_JWT_ISSUER")
	c.JWTAudience = get("HOOKD_JWT_AUDIENCE")
	b, err := strconv.ParseBool(get("HOOKD_ALLOW_PRIVATE_TARGETS"))
	if err != nil {
		errs = append(errs, fmt.Errorf("HOOKD_ALLOW_PRIVATE_TARGETS: %q is not true or false", get("HOOKD_ALLOW_PRIVATE_TARGETS")))
	}
	c.AllowPrivateTargets = b
	for _, s := range strings.Split(get("HOOKD_ALLOWED_TARGETS"), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if a, aerr := netip.ParseAddr(s); aerr == nil {
				p, err = a.Prefix(a.BitLen())
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("HOOKD_ALLOWED_TARGETS: %q is not a CIDR", s))
			continue
		}
		c.AllowedTargets = append(c.AllowedTargets, p.Masked())
	}
	if k := get("HOOKD_ENCRYPTION_KEY"); k != "" {
		key, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(key) != 32 {
			errs = append(errs, errors.New("HOOKD_ENCRYPTION_KEY: must be base64 of exactly 32 bytes"))
		}
		c.EncryptionKey = key
	}
	c.DeliveryTimeout = dur("HOOKD_DELIVERY_TIMEOUT")
	c.MailchimpAPIBase = strings.TrimRight(get("HOOKD_MAILCHIMP_API_BASE"), "/")
	c.AutoDisableAfter = num("HOOKD_AUTO_DISABLE_AFTER")
	c.LogRetention = dur("HOOKD_LOG_RETENTION")
	rate, err := strconv.ParseFloat(get("HOOKD_RATE_LIMIT"), 64)
	if err != nil || rate < 0 {
		errs = append(errs, fmt.Errorf("HOOKD_RATE_LIMIT: %q is not a number >= 0", get("HOOKD_RATE_LIMIT")))
	}
	c.RateLimit = rate
	c.RateBurst = num("HOOKD_RATE_BURST")
	publishRate, err := strconv.ParseFloat(get("HOOKD_PUBLISH_RATE_LIMIT"), 64)
	if err != nil || publishRate < 0 {
		errs = append(errs, fmt.Errorf("HOOKD_PUBLISH_RATE_LIMIT: %q is not a number >= 0", get("HOOKD_PUBLISH_RATE_LIMIT")))
	}
	c.PublishRateLimit = publishRate
	c.Workers = num("HOOKD_WORKERS")
	c.ShutdownTimeout = dur("HOOKD_SHUTDOWN_TIMEOUT")
	c.Lease = dur("HOOKD_LEASE")
	c.PortalFrameAncestors = strings.Fields(get("HOOKD_PORTAL_FRAME_ANCESTORS"))
	for _, o := range c.PortalFrameAncestors {
		if strings.ContainsAny(o, ";,") {
			errs = append(errs, fmt.Errorf("HOOKD_PORTAL_FRAME_ANCESTORS: %q is not an origin", o))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fs, err
	}
	return c, fs, c.Validate()
}

// Validate checks what single variables cannot: combinations and ranges.
func (c *Config) Validate() error {
	var errs []error
	if c.JWTSecret == "" && c.JWKSURL == "" && !c.Dev {
		errs = append(errs, errors.New("set HOOKD_JWT_SECRET or HOOKD_JWT_JWKS_URL (or run with --dev)"))
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 16 {
		errs = append(errs, errors.New("HOOKD_JWT_SECRET: use at least 16 characters"))
	}
	if c.DeliveryTimeout <= 0 {
		errs = append(errs, errors.New("HOOKD_DELIVERY_TIMEOUT: must be above zero"))
	}
	if c.Lease > 0 && c.Lease <= c.DeliveryTimeout {
		errs = append(errs, errors.New("HOOKD_LEASE: must be longer than HOOKD_DELIVERY_TIMEOUT, or a delivery could be sent twice"))
	}
	if c.Workers < 1 {
		errs = append(errs, errors.New("HOOKD_WORKERS: must be at least 1"))
	}
	if c.IsPostgres() && c.EncryptionKey == nil {
		errs = append(errs, errors.New("HOOKD_ENCRYPTION_KEY: required with PostgreSQL (every node needs the same key)"))
	}
	return errors.Join(errs...)
}

// IsPostgres reports whether DatabaseURL names a PostgreSQL database.
func (c *Config) IsPostgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

// SQLitePath returns the file path of an embedded-store DatabaseURL.
func (c *Config) SQLitePath() string {
	return strings.TrimPrefix(strings.TrimPrefix(c.DatabaseURL, "sqlite://"), "sqlite:")
}
