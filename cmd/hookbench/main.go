// Command hookbench measures a real hookd end to end on this machine: it
// builds and starts hookd on a temp SQLite file (or on a fresh schema of a
// PostgreSQL database, one or more nodes), drives its API over loopback,
// receives the deliveries in-process and prints throughput, latency and
// memory figures against the project's bars. The broker phases deliver to
// the machine's RabbitMQ, NATS, Redis and Mosquitto instead and count what
// each broker's own client reads back (brokers.go).
//
//	go run ./cmd/hookbench [--events 20000] [--rates 500,2000] [--duration 10s] [--json]
//	go run ./cmd/hookbench --phases ceiling,single,latency,backlog --backlog-events 100000
//	go run ./cmd/hookbench --database postgres://… [--nodes 2]
//	go run ./cmd/hookbench --phases isolation [--isolation-hanging 0,1,10,100]
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hookbench:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	Hookd    string
	Database string
	Nodes    int
	Workers  string
	Events   int
	// BrokerEvents is how many events each broker phase publishes.
	BrokerEvents   int
	FanoutWebhooks int
	FanoutEvents   int
	// SingleEvents is how many single-event publishes the single phase
	// sends.
	SingleEvents int
	// Rates are the steady publish rates of the latency phase, one
	// measure (and one hookd) each.
	Rates []float64
	// BacklogEvents and BacklogReference are the backlog phase's pending
	// deliveries and its empty-queue reference's.
	BacklogEvents    int
	BacklogReference int
	// Postgres is the database of the postgres phase.
	Postgres     string
	Duration     time.Duration
	CeilingFor   time.Duration
	PublishFor   time.Duration
	PhaseTimeout time.Duration
	// ReceiverDelay is how long the receiver takes to answer each delivery.
	ReceiverDelay time.Duration
	// StreamSubscribers, StreamRate and StreamFor shape the streams phase.
	StreamSubscribers int
	StreamRate        float64
	StreamFor         time.Duration
	// IsolationHanging, IsolationRate, IsolationFor and IsolationTimeout
	// shape the isolation phase.
	IsolationHanging []int
	IsolationRate    float64
	IsolationFor     time.Duration
	IsolationTimeout time.Duration
	Phases           map[string]bool
	LatencyCSV       string
	JSON             bool
}

// phaseNames lists the phases in the order they run.
func phaseNames() []string {
	return append(defaultPhases(), "isolation")
}

// defaultPhases are the phases run when --phases is not given: the HTTP
// ones, then one per broker. The isolation phase, minutes of hanging
// endpoints, runs only when named.
func defaultPhases() []string {
	names := []string{"ceiling", "publish", "e2e", "single", "latency", "fanout", "streams"}
	for _, p := range brokerPhases() {
		names = append(names, p.name)
	}
	return append(names, "postgres", "backlog")
}

// parseOptions reads the flags.
func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("hookbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Hookd, "hookd", "", "hookd binary to run (default: go build ./cmd/hookd into a temp dir)")
	fs.StringVar(&o.Database, "database", "", "database of every phase (default: a fresh temp SQLite file per phase); on a postgres:// URL each phase gets a fresh schema hookbench_<run>_<phase>, dropped after it, and hookd a generated HOOKD_ENCRYPTION_KEY")
	fs.IntVar(&o.Nodes, "nodes", 1, "hookd processes per phase on the one database, publishers spread over them in turn (more than 1 needs PostgreSQL)")
	fs.StringVar(&o.Workers, "workers", "", "HOOKD_WORKERS (default: hookd's own)")
	fs.IntVar(&o.Events, "events", 20000, "events published to one webhook in the end-to-end phase")
	fs.IntVar(&o.BrokerEvents, "broker-events", 5000, "events published to one webhook in each broker phase (rabbitmq, nats, redis, mqtt; a broker not answering on its usual port is skipped)")
	fs.IntVar(&o.FanoutWebhooks, "fanout-webhooks", 100, "webhooks in the fan-out phase")
	fs.IntVar(&o.FanoutEvents, "fanout-events", 200, "events in the fan-out phase")
	fs.IntVar(&o.SingleEvents, "single-events", 10000, "single-event publishes (one POST each, "+strconv.Itoa(singlePublishers)+" publishers) in the single phase")
	rates := fs.String("rates", "500,2000", "steady publish rates (single events/s) of the latency phase, one measure each")
	rate := fs.Float64("rate", 0, "one steady publish rate for the latency phase instead of --rates")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "length of each latency measure")
	fs.IntVar(&o.BacklogEvents, "backlog-events", 1_000_000, "backlog phase: pending deliveries built up while the endpoint is down, drained once it is up")
	fs.IntVar(&o.BacklogReference, "backlog-reference", 20000, "backlog phase: pending deliveries of the empty-queue reference, drained the same way")
	fs.StringVar(&o.Postgres, "postgres", defaultPostgres(), "postgres phase: the PostgreSQL database (a fresh schema in it) of the end-to-end measure compared with SQLite's; the phase is skipped when it does not answer")
	fs.DurationVar(&o.CeilingFor, "ceiling-duration", 5*time.Second, "length of the raw HTTP ceiling measure")
	fs.DurationVar(&o.PublishFor, "publish-duration", 3*time.Second, "length of each publish-rate measure (single, batch)")
	fs.DurationVar(&o.PhaseTimeout, "phase-timeout", 2*time.Minute, "a phase that takes longer fails the run")
	fs.DurationVar(&o.ReceiverDelay, "receiver-delay", 0, "how long the receiver takes to answer each delivery, like a real endpoint (the ceiling's receiver answers at once)")
	fs.IntVar(&o.StreamSubscribers, "stream-subscribers", 100, "concurrent SSE subscribers in the streams phase")
	fs.Float64Var(&o.StreamRate, "stream-rate", 1000, "steady publish rate (events/s) of the streams phase")
	fs.DurationVar(&o.StreamFor, "stream-duration", 5*time.Second, "length of the streams phase's publishing")
	fs.StringVar(&o.LatencyCSV, "latency-csv", "", "write every latency-phase event (sent at, latency, 202 time) to this CSV file")
	fs.BoolVar(&o.JSON, "json", false, "print the results as JSON too")
	hanging := fs.String("isolation-hanging", "0,1,10,100", "isolation phase: the counts of hanging endpoints, one hookd each")
	fs.Float64Var(&o.IsolationRate, "isolation-rate", 20, "isolation phase: events/s published to each endpoint")
	fs.DurationVar(&o.IsolationFor, "isolation-duration", 10*time.Second, "isolation phase: how long each count publishes")
	fs.DurationVar(&o.IsolationTimeout, "isolation-timeout", 5*time.Second, "isolation phase: HOOKD_DELIVERY_TIMEOUT")
	phases := fs.String("phases", strings.Join(defaultPhases(), ","), "comma-separated phases to run (known: "+strings.Join(phaseNames(), ",")+")")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	if o.IsolationHanging, err = parseCounts(*hanging); err != nil {
		return o, fmt.Errorf("--isolation-hanging: %w", err)
	}
	if o.Rates, err = parseRates(*rates); err != nil {
		return o, fmt.Errorf("--rates: %w", err)
	}
	if *rate != 0 {
		o.Rates = []float64{*rate}
	}
	o.Phases = map[string]bool{}
	for _, p := range strings.Split(*phases, ",") {
		if !slices.Contains(phaseNames(), p) {
			return o, fmt.Errorf("--phases: unknown phase %q (known: %s)", p, strings.Join(phaseNames(), ","))
		}
		o.Phases[p] = true
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.Nodes < 1:
		return o, errors.New("--nodes must be at least 1")
	case o.Nodes > 1 && !isPostgres(o.Database):
		return o, fmt.Errorf("--nodes %d needs --database postgres://…: SQLite serves one hookd process", o.Nodes)
	case strings.HasPrefix(o.Database, "postgres") && !isPostgres(o.Database):
		return o, errors.New("--database: give PostgreSQL as a postgres:// URL")
	case o.Events < 1 || o.BrokerEvents < 1 || o.FanoutWebhooks < 1 || o.FanoutEvents < 1 || o.StreamSubscribers < 1:
		return o, errors.New("--events, --fanout-webhooks, --fanout-events and --stream-subscribers must be at least 1")
	case o.SingleEvents < 1 || o.BacklogEvents < 1 || o.BacklogReference < 1:
		return o, errors.New("--single-events, --backlog-events and --backlog-reference must be at least 1")
	case o.Postgres != "" && !isPostgres(o.Postgres):
		return o, errors.New("--postgres: give PostgreSQL as a postgres:// URL")
	case slices.Min(o.Rates) <= 0 || o.Duration <= 0 || o.CeilingFor <= 0 || o.PublishFor <= 0 || o.PhaseTimeout <= 0 || o.StreamRate <= 0 || o.StreamFor <= 0:
		return o, errors.New("the rates and the durations must be above zero")
	case int(slices.Min(o.Rates)*o.Duration.Seconds()) < 1:
		return o, errors.New("--rates × --duration publishes no event")
	case o.IsolationRate <= 0 || o.IsolationFor <= 0 || o.IsolationTimeout <= 0 || int(o.IsolationRate*o.IsolationFor.Seconds()) < 1:
		return o, errors.New("--isolation-rate × --isolation-duration publishes no event, or --isolation-timeout is not above zero")
	case int(o.StreamRate*o.StreamFor.Seconds()) < 1:
		return o, errors.New("--stream-rate × --stream-duration publishes no event")
	}
	return o, nil
}

// run parses args, runs every phase and prints the report to stdout;
// progress goes to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "hookbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	b := &bench{opts: opts, binary: opts.Hookd, tmp: tmp, now: time.Now, progress: stderr}
	if b.binary == "" {
		fmt.Fprintln(stderr, "building hookd")
		if b.binary, err = buildHookd(ctx, tmp, stderr); err != nil {
			return err
		}
	}
	digest, err := binaryDigest(b.binary)
	if err != nil {
		return fmt.Errorf("hookd binary: %w", err)
	}
	if b.runID, err = newRunID(); err != nil {
		return err
	}
	if isPostgres(opts.Database) {
		if b.encryptionKey, err = newEncryptionKey(); err != nil {
			return err
		}
		if b.pg, err = openPostgres(ctx, opts.Database); err != nil {
			return err
		}
	}
	res := &results{
		Date: time.Now().UTC().Format(time.RFC3339), CPUs: runtime.NumCPU(),
		GoVersion: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		Database:  describeDatabase(opts.Database), Nodes: opts.Nodes, Workers: opts.Workers, HookdSHA256: digest,
		ReceiverDelayMs:     float64(opts.ReceiverDelay) / float64(time.Millisecond),
		DatabaseCPUMeasured: b.pg != nil && b.pg.serverPID != 0,
	}
	if res.Workers == "" {
		res.Workers = "hookd default"
	}
	runErr := b.runPhases(ctx, res)
	res.judge()
	if err := res.writeTable(stdout); err != nil {
		return err
	}
	if opts.JSON {
		if err := res.writeJSON(stdout); err != nil {
			return err
		}
	}
	return runErr
}

// runPhases runs the phases in order, each under the phase timeout and
// each against its own hookd, filling res as they finish.
func (b *bench) runPhases(ctx context.Context, res *results) error {
	type phase struct {
		name string
		run  func(ctx context.Context) error
	}
	phases := []phase{
		{"ceiling", func(ctx context.Context) error {
			c, err := measureCeiling(ctx, b.now, b.opts.CeilingFor)
			if err == nil {
				res.Ceiling = &c
				res.Ceiling.Runs = []float64{c.PerSecond}
			}
			return err
		}},
		{"publish", func(ctx context.Context) error {
			p, err := b.measurePublish(ctx)
			if err == nil {
				res.Publish = &p
			}
			return err
		}},
		{"e2e", func(ctx context.Context) error {
			d, err := b.measureDeliveries(ctx, sessionSpec{phase: "e2e"}, 1, b.opts.Events, e2eBatchSize)
			if err == nil {
				res.EndToEnd = &d
			}
			return err
		}},
		{"single", func(ctx context.Context) error {
			r, err := b.measureSingle(ctx)
			if err == nil {
				res.Single = &r
			}
			return err
		}},
		{"latency", func(ctx context.Context) error {
			for _, rate := range b.opts.Rates {
				l, err := b.measureLatency(ctx, rate)
				if err != nil {
					return fmt.Errorf("at %s events/s: %w", num(rate), err)
				}
				res.Latency = append(res.Latency, l)
			}
			return nil
		}},
		{"fanout", func(ctx context.Context) error {
			d, err := b.measureDeliveries(ctx, sessionSpec{phase: "fanout"}, b.opts.FanoutWebhooks, b.opts.FanoutEvents, publishBatchSize)
			if err == nil {
				res.FanOut = &d
			}
			return err
		}},
		{"streams", func(ctx context.Context) error {
			r, err := b.measureStreams(ctx)
			if err == nil {
				res.Streams = &r
			}
			return err
		}},
		{"isolation", func(ctx context.Context) error {
			r, err := b.measureIsolation(ctx)
			res.Isolation = r
			return err
		}},
	}
	for _, bp := range brokerPhases() {
		phases = append(phases, phase{bp.name, func(ctx context.Context) error {
			r, err := b.measureBroker(ctx, bp)
			if err == nil {
				res.Brokers = append(res.Brokers, r)
			}
			return err
		}})
	}
	phases = append(phases,
		phase{"postgres", func(ctx context.Context) error {
			r, err := b.measurePostgres(ctx)
			res.Postgres = r
			return err
		}},
		phase{"backlog", func(ctx context.Context) error {
			r, err := b.measureBacklog(ctx)
			res.Backlog = r
			return err
		}})
	// The ceiling again: a machine shared with other work can depress
	// one measure, and the bars are ratios to the better of the two.
	phases = append(phases, phase{"ceiling", func(ctx context.Context) error {
		c, err := measureCeiling(ctx, b.now, b.opts.CeilingFor)
		if err != nil {
			return err
		}
		if res.Ceiling == nil {
			res.Ceiling = &c
			res.Ceiling.Runs = []float64{c.PerSecond}
			return nil
		}
		runs := append(res.Ceiling.Runs, c.PerSecond)
		if c.PerSecond > res.Ceiling.PerSecond {
			res.Ceiling = &c
		}
		res.Ceiling.Runs = runs
		return nil
	}})
	// The ceiling again: a machine shared with other work can depress
	// one measure, and the bars are ratios to the better of the two.
	phases = append(phases, phase{"ceiling", func(ctx context.Context) error {
		c, err := measureCeiling(ctx, b.now, b.opts.CeilingFor)
		if err != nil {
			return err
		}
		runs := append(res.Ceiling.Runs, c.PerSecond)
		if c.PerSecond > res.Ceiling.PerSecond {
			res.Ceiling = &c
		}
		res.Ceiling.Runs = runs
		return nil
	}})
	for _, p := range phases {
		if !b.opts.Phases[p.name] {
			continue
		}
		fmt.Fprintf(b.progress, "phase: %s\n", p.name)
		timeout := b.opts.PhaseTimeout
		switch p.name {
		case "isolation": // one hookd per count of hanging endpoints
			timeout *= time.Duration(len(b.opts.IsolationHanging))
		case "latency": // one hookd per rate
			timeout *= time.Duration(len(b.opts.Rates))
		case "backlog":
			timeout = backlogTimeout(b.opts.PhaseTimeout, b.opts.BacklogEvents+b.opts.BacklogReference)
		}
		pctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("phase %s took over %v", p.name, timeout))
		start := b.now()
		err := p.run(pctx)
		cancel()
		if err != nil {
			return fmt.Errorf("phase %s: %w", p.name, err)
		}
		fmt.Fprintf(b.progress, "  done in %.1fs\n", b.now().Sub(start).Seconds())
	}
	return nil
}

// defaultPostgres is the postgres phase's database unless --postgres
// says otherwise: $HOOKD_TEST_POSTGRES_URL, or the local test database.
func defaultPostgres() string {
	if u := os.Getenv("HOOKD_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// parseRates reads a comma-separated list of rates above zero.
func parseRates(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v <= 0 || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%q is not a rate above zero", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// newRunID returns a short random id that names this run's tenants.
func newRunID() (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// isPostgres reports whether a database URL names PostgreSQL.
func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// describeDatabase names the database without its password.
func describeDatabase(dsn string) string {
	switch {
	case dsn == "":
		return "SQLite, a fresh temp file per phase"
	case isPostgres(dsn):
		if u, err := url.Parse(dsn); err == nil {
			return "PostgreSQL " + u.Redacted() + ", a fresh schema per phase"
		}
		return "postgres (unparsable URL)"
	default:
		return dsn
	}
}
