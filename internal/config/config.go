// Package config holds hookd's one configuration struct, read from flags
// and HOOKD_* environment variables (flags win). It imports nothing of ours.
package config

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
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
	FailingAfter        int // failed attempts in a row that announce webhook.failing (0: never)
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
	// AllowPrivateTargetsSet reports that AllowPrivateTargets was given
	// (flag or environment) rather than defaulted, so --dev does not
	// override an explicit false.
	AllowPrivateTargetsSet bool
	LogLevel               string // debug, info, warn or error
	LogFormat              string // text or json

	fromEnv map[string]bool // variables whose value came from the environment
}

// Kind is the type of a configuration variable's value.
type Kind int

// The kinds of values: a flag of kind Bool may be given without a value
// (--allow-private-targets), the others need one.
const (
	String Kind = iota
	Bool
	Duration
	Int
	Float
)

// Var describes one configuration variable, for flags, docs and tests.
type Var struct {
	Env     string
	Flag    string
	Default string
	Usage   string
	Kind    Kind
}

// Vars lists every configuration variable. The README's table is generated
// from the same list (see TestReadmeListsEveryVariable).
var Vars = []Var{
	{"HOOKD_ADDR", "addr", ":8080", "listen address", String},
	{"HOOKD_DATABASE_URL", "database-url", "sqlite:hookd.db", "sqlite:PATH (or a bare path) for the embedded store, postgres://... for PostgreSQL", String},
	{"HOOKD_JWT_SECRET", "jwt-secret", "", "HS256 key for bearer tokens", String},
	{"HOOKD_JWT_JWKS_URL", "jwt-jwks-url", "", "JWKS URL for RS256/ES256 tokens from an identity provider", String},
	{"HOOKD_JWT_ISSUER", "jwt-issuer", "", "required iss claim, when set", String},
	{"HOOKD_JWT_AUDIENCE", "jwt-audience", "", "required aud claim, when set", String},
	{"HOOKD_ALLOW_PRIVATE_TARGETS", "allow-private-targets", "false", "let webhooks, integrations and deliveries reach loopback, private and link-local addresses", Bool},
	{"HOOKD_ALLOWED_TARGETS", "allowed-targets", "", "comma-separated CIDRs reachable even though private", String},
	{"HOOKD_ENCRYPTION_KEY", "encryption-key", "", "base64 of 32 bytes; encrypts secrets at rest (default: a key file beside the SQLite database)", String},
	{"HOOKD_DELIVERY_TIMEOUT", "delivery-timeout", "15s", "one delivery attempt's time limit", Duration},
	{"HOOKD_MAILCHIMP_API_BASE", "mailchimp-api-base", "", "replaces https://<dc>.api.mailchimp.com", String},
	{"HOOKD_AUTO_DISABLE_AFTER", "auto-disable-after", "50", "consecutive final failures that switch a webhook off (0: never)", Int},
	{"HOOKD_FAILING_AFTER", "failing-after", "3", "failed attempts in a row that announce webhook.failing (0: never)", Int},
	{"HOOKD_LOG_RETENTION", "log-retention", "720h", "delivery logs older than this are pruned", Duration},
	{"HOOKD_RATE_LIMIT", "rate-limit", "100", "API requests per second per user (0: unlimited)", Float},
	{"HOOKD_RATE_BURST", "rate-burst", "200", "API requests a user may send at once above the rate", Int},
	{"HOOKD_PUBLISH_RATE_LIMIT", "publish-rate-limit", "0", "events a tenant may publish per second, batches counted by their events (0: unlimited)", Float},
	{"HOOKD_WORKERS", "workers", "64", "concurrent delivery senders", Int},
	{"HOOKD_SHUTDOWN_TIMEOUT", "shutdown-timeout", "30s", "how long SIGTERM waits for in-flight deliveries", Duration},
	{"HOOKD_PORTAL_FRAME_ANCESTORS", "portal-frame-ancestors", "'self'", "space-separated origins that may embed the dashboard in a frame (CSP frame-ancestors)", String},
	{"HOOKD_LEASE", "lease", "0", "how long a claimed delivery stays claimed before another node may take it (0: 2×delivery timeout + 30s)", Duration},
	{"HOOKD_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", String},
	{"HOOKD_LOG_FORMAT", "log-format", "text", "text or json (one object a line)", String},
}

// value is one variable's flag: it keeps the text given and checks it
// has the variable's kind, so the flag package names the flag in its error.
type value struct {
	kind Kind
	text string
	set  bool
}

func (v *value) String() string { return v.text }

func (v *value) IsBoolFlag() bool { return v.kind == Bool }

func (v *value) Set(s string) error {
	if err := checkKind(v.kind, s); err != nil {
		return err
	}
	v.text, v.set = s, true
	return nil
}

// checkKind reports whether s is a value of kind k.
func checkKind(k Kind, s string) error {
	s = strings.TrimSpace(s)
	switch k {
	case Bool:
		if _, err := strconv.ParseBool(s); err != nil {
			return errors.New("not true or false")
		}
	case Duration:
		if d, err := time.ParseDuration(s); err != nil || d < 0 {
			return errors.New("not a duration >= 0 such as 15s or 1h30m")
		}
	case Int:
		if n, err := strconv.Atoi(s); err != nil || n < 0 {
			return errors.New("not a whole number >= 0")
		}
	case Float:
		if f, err := strconv.ParseFloat(s, 64); err != nil || f < 0 {
			return errors.New("not a number >= 0")
		}
	}
	return nil
}

// Parse reads args (after the subcommand) and the environment into a
// Config. Flags win over the environment. Errors name the flag, and the
// environment variable when the value came from there. Usage goes to
// output (--help answers flag.ErrHelp).
func Parse(name string, args []string, getenv func(string) string, output io.Writer) (*Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(output)
	vals := make(map[string]*value, len(Vars))
	for _, v := range Vars {
		vals[v.Env] = &value{kind: v.Kind, text: v.Default}
		fs.Var(vals[v.Env], v.Flag, v.Usage+" ($"+v.Env+")")
	}
	dev := fs.Bool("dev", false, "development mode: a JWT secret kept beside the database, a printed token, loopback targets allowed")
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	if fs.NArg() > 0 {
		return nil, fs, fmt.Errorf("unexpected argument %q (flags take --name value or --name=value)", fs.Arg(0))
	}
	c := &Config{Dev: *dev, fromEnv: map[string]bool{}}
	var errs []error
	for _, v := range Vars {
		val := vals[v.Env]
		if val.set {
			continue
		}
		if e := getenv(v.Env); e != "" {
			if err := checkKind(v.Kind, e); err != nil {
				errs = append(errs, fmt.Errorf("--%s: %q from %s is %v", v.Flag, e, v.Env, err))
				continue
			}
			val.text = e
			c.fromEnv[v.Env] = true
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fs, err
	}
	get := func(env string) string { return strings.TrimSpace(vals[env].text) }
	dur := func(env string) time.Duration { d, _ := time.ParseDuration(get(env)); return d }
	num := func(env string) int { n, _ := strconv.Atoi(get(env)); return n }
	c.Addr = get("HOOKD_ADDR")
	c.DatabaseURL = get("HOOKD_DATABASE_URL")
	c.JWTSecret = get("HOOKD_JWT_SECRET")
	c.JWKSURL = get("HOOKD_JWT_JWKS_URL")
	c.JWTIssuer = get("HOOKD_JWT_ISSUER")
	c.JWTAudience = get("HOOKD_JWT_AUDIENCE")
	c.AllowPrivateTargets, _ = strconv.ParseBool(get("HOOKD_ALLOW_PRIVATE_TARGETS"))
	c.AllowPrivateTargetsSet = vals["HOOKD_ALLOW_PRIVATE_TARGETS"].set || c.fromEnv["HOOKD_ALLOW_PRIVATE_TARGETS"]
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
			errs = append(errs, fmt.Errorf("%s: %q is not a CIDR", c.Name("HOOKD_ALLOWED_TARGETS"), s))
			continue
		}
		c.AllowedTargets = append(c.AllowedTargets, p.Masked())
	}
	if k := get("HOOKD_ENCRYPTION_KEY"); k != "" {
		key, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(key) != 32 {
			errs = append(errs, fmt.Errorf("%s: must be base64 of exactly 32 bytes", c.Name("HOOKD_ENCRYPTION_KEY")))
		}
		c.EncryptionKey = key
	}
	c.DeliveryTimeout = dur("HOOKD_DELIVERY_TIMEOUT")
	c.MailchimpAPIBase = strings.TrimRight(get("HOOKD_MAILCHIMP_API_BASE"), "/")
	c.AutoDisableAfter = num("HOOKD_AUTO_DISABLE_AFTER")
	c.FailingAfter = num("HOOKD_FAILING_AFTER")
	c.LogRetention = dur("HOOKD_LOG_RETENTION")
	c.RateLimit, _ = strconv.ParseFloat(get("HOOKD_RATE_LIMIT"), 64)
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
			errs = append(errs, fmt.Errorf("%s: %q is not an origin", c.Name("HOOKD_PORTAL_FRAME_ANCESTORS"), o))
		}
	}
	switch lvl := strings.ToLower(get("HOOKD_LOG_LEVEL")); lvl {
	case "debug", "info", "warn", "error":
		c.LogLevel = lvl
	default:
		errs = append(errs, fmt.Errorf("%s: %q is not debug, info, warn or error", c.Name("HOOKD_LOG_LEVEL"), get("HOOKD_LOG_LEVEL")))
	}
	switch f := strings.ToLower(get("HOOKD_LOG_FORMAT")); f {
	case "text", "json":
		c.LogFormat = f
	default:
		errs = append(errs, fmt.Errorf("%s: %q is not text or json", c.Name("HOOKD_LOG_FORMAT"), get("HOOKD_LOG_FORMAT")))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fs, err
	}
	return c, fs, c.Validate()
}

// Name names a variable in an error: its flag, and the environment
// variable when the value came from there.
func (c *Config) Name(env string) string {
	for _, v := range Vars {
		if v.Env == env {
			if c.fromEnv[env] {
				return "--" + v.Flag + " (from " + env + ")"
			}
			return "--" + v.Flag
		}
	}
	return env
}

// Validate checks what single variables cannot: combinations and ranges.
func (c *Config) Validate() error {
	var errs []error
	if c.JWTSecret == "" && c.JWKSURL == "" && !c.Dev {
		errs = append(errs, errors.New("set --jwt-secret or --jwt-jwks-url (HOOKD_JWT_SECRET, HOOKD_JWT_JWKS_URL), or run with --dev"))
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 16 {
		errs = append(errs, fmt.Errorf("%s: use at least 16 characters", c.Name("HOOKD_JWT_SECRET")))
	}
	if c.DeliveryTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%s: must be above zero", c.Name("HOOKD_DELIVERY_TIMEOUT")))
	}
	if c.Lease > 0 && c.Lease <= c.DeliveryTimeout {
		errs = append(errs, fmt.Errorf("%s: must be longer than %s, or a delivery could be sent twice", c.Name("HOOKD_LEASE"), c.Name("HOOKD_DELIVERY_TIMEOUT")))
	}
	if c.Workers < 1 {
		errs = append(errs, fmt.Errorf("%s: must be at least 1", c.Name("HOOKD_WORKERS")))
	}
	if c.IsPostgres() && c.EncryptionKey == nil {
		errs = append(errs, fmt.Errorf("%s: required with PostgreSQL (every node needs the same key)", c.Name("HOOKD_ENCRYPTION_KEY")))
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
