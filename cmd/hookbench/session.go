package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// bench holds what every phase shares.
type bench struct {
	opts          options
	binary        string      // the hookd executable
	tmp           string      // temp directory for SQLite files
	runID         string      // keeps tenants and schemas of different runs apart on a shared database
	encryptionKey string      // for PostgreSQL
	pg            *pgDatabase // nil unless --database is PostgreSQL
	now           func() time.Time
	progress      io.Writer
}

// usage is the CPU used during a measured window, and the peak RSS of
// the phase's hookd processes (0 when the phase has none).
type usage struct {
	HookdCPUPercent float64 `json:"hookd_cpu_percent"` // 100 = one core busy; every node's summed
	BenchCPUPercent float64 `json:"bench_cpu_percent"` // load generator and receiver together
	// DatabaseCPUPercent is what the PostgreSQL server used (its main
	// process and its backends), when it runs on this machine.
	DatabaseCPUPercent float64 `json:"database_cpu_percent,omitempty"`
	DatabaseMeasured   bool    `json:"-"`
	// OtherCPUPercent is what the rest of the machine used meanwhile: other
	// processes, the kernel's softirqs; large values mean the figures
	// were disturbed.
	OtherCPUPercent float64 `json:"other_cpu_percent"`
	StealPercent    float64 `json:"steal_percent"`        // taken by the hypervisor
	PeakRSSBytes    int64   `json:"hookd_peak_rss_bytes"` // the highest node's
	// NodeCPUPercent and NodePeakRSSBytes hold each node's figures when
	// there are several.
	NodeCPUPercent   []float64 `json:"hookd_cpu_percent_per_node,omitempty"`
	NodePeakRSSBytes []int64   `json:"hookd_peak_rss_bytes_per_node,omitempty"`
}

// session is one phase's fresh hookd nodes on one database, a receiver
// for them and an API client per node for a tenant of its own.
type session struct {
	name   string
	nodes  []*hookdProcess
	rc     *receiver
	apis   []*apiClient // apis[i] talks to nodes[i]; one tenant, one token
	hooks  []int64
	now    func() time.Time
	window *cpuWindow
	dbPID  int // PostgreSQL server whose CPU is measured; 0: none
	// cleanup drops what the phase's database held (a PostgreSQL schema);
	// nil when the database is a fresh SQLite file.
	cleanup func(context.Context) error
}

// cpuWindow measures CPU use from its start: of the hookd processes, of
// this process, of the PostgreSQL server (when dbPID is not 0) and of
// the whole machine.
type cpuWindow struct {
	now                     func() time.Time
	hookdPIDs               []int
	dbPID                   int
	at                      time.Time
	hookd                   []time.Duration // per node
	bench, db, busy, stolen time.Duration
}

// startWindow opens a CPU window now.
func startWindow(now func() time.Time, hookdPIDs []int, dbPID int) *cpuWindow {
	w := &cpuWindow{now: now, hookdPIDs: hookdPIDs, dbPID: dbPID, at: now()}
	w.hookd = hookdCPU(hookdPIDs)
	if dbPID != 0 {
		w.db, _ = treeCPU(dbPID)
	}
	w.bench, _ = cpuTime(os.Getpid())
	w.busy, w.stolen, _ = machineCPU()
	return w
}

// hookdCPU returns the CPU time each hookd process has used so far.
func hookdCPU(pids []int) []time.Duration {
	used := make([]time.Duration, len(pids))
	for i, pid := range pids {
		used[i], _ = cpuTime(pid)
	}
	return used
}

// usage reports CPU use since the window opened and the hookd
// processes' peak RSS so far.
func (w *cpuWindow) usage() usage {
	var u usage
	wall := float64(w.now().Sub(w.at))
	if wall <= 0 {
		return u
	}
	for i, used := range hookdCPU(w.hookdPIDs) {
		node := 100 * float64(used-w.hookd[i]) / wall
		u.HookdCPUPercent += node
		if len(w.hookdPIDs) > 1 {
			u.NodeCPUPercent = append(u.NodeCPUPercent, node)
		}
	}
	for _, pid := range w.hookdPIDs {
		rss, _ := peakRSS(pid)
		u.PeakRSSBytes = max(u.PeakRSSBytes, rss)
		if len(w.hookdPIDs) > 1 {
			u.NodePeakRSSBytes = append(u.NodePeakRSSBytes, rss)
		}
	}
	if w.dbPID != 0 {
		if db, err := treeCPU(w.dbPID); err == nil {
			u.DatabaseCPUPercent = 100 * float64(db-w.db) / wall
			u.DatabaseMeasured = true
		}
	}
	if m, err := cpuTime(os.Getpid()); err == nil {
		u.BenchCPUPercent = 100 * float64(m-w.bench) / wall
	}
	if busy, stolen, err := machineCPU(); err == nil {
		u.OtherCPUPercent = max(0, 100*float64(busy-w.busy)/wall-u.HookdCPUPercent-u.BenchCPUPercent-u.DatabaseCPUPercent)
		u.StealPercent = 100 * float64(stolen-w.stolen) / wall
	}
	return u
}

// phaseDatabase prepares the database a phase's hookd nodes run on: a
// fresh SQLite file, a fresh schema on PostgreSQL, or else the database
// --database names. cleanup (nil for none) removes what it made.
func (b *bench) phaseDatabase(ctx context.Context, phase string) (dsn string, cleanup func(context.Context) error, err error) {
	switch {
	case b.pg != nil:
		return b.pg.phaseDatabase(ctx, b.runID, phase)
	case b.opts.Database != "":
		return b.opts.Database, nil, nil
	default:
		path := filepath.Join(b.tmp, phase+".db")
		// The file can be large (the backlog phase's is gigabytes): it
		// goes when the phase ends, not with the run.
		return "sqlite:" + path, func(context.Context) error { return removeSQLite(path) }, nil
	}
}

// removeSQLite deletes a SQLite database and the files beside it.
func removeSQLite(path string) error {
	var errs []error
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// phaseDatabase creates the phase's fresh schema and returns its URL and
// what drops it.
func (db *pgDatabase) phaseDatabase(ctx context.Context, runID, phase string) (string, func(context.Context) error, error) {
	schema, err := phaseSchema(runID, phase)
	if err != nil {
		return "", nil, err
	}
	dsn, err := db.createSchema(ctx, schema)
	if err != nil {
		return "", nil, err
	}
	return dsn, func(ctx context.Context) error { return db.dropSchema(ctx, schema) }, nil
}

// openSession starts the phase's hookd nodes on a database of its own
// and a receiver for them.
func (b *bench) openSession(ctx context.Context, phase string) (*session, error) {
	return b.openSessionWith(ctx, phase, nil)
}

// openSessionWith is openSession with each node's configuration adjusted
// by adjust (nil: none).
func (b *bench) openSessionWith(ctx context.Context, phase string, adjust func(*hookdConfig)) (*session, error) {
	return b.openSessionSpec(ctx, sessionSpec{phase: phase, adjust: adjust})
}

// sessionSpec shapes a session beyond its phase's name.
type sessionSpec struct {
	phase  string
	adjust func(*hookdConfig) // nil: none
	// db, when set, is the database instead of the run's (--database).
	db *pgDatabase
	// nodes overrides --nodes when above zero.
	nodes int
	// noReceiver leaves the receiver to the phase (startReceiverAt).
	noReceiver bool
}

// openSessionSpec starts a phase's hookd nodes on a database of its own
// and, unless the spec says otherwise, a receiver for them.
func (b *bench) openSessionSpec(ctx context.Context, spec sessionSpec) (_ *session, err error) {
	phase := spec.phase
	var (
		dsn     string
		cleanup func(context.Context) error
	)
	if spec.db != nil {
		dsn, cleanup, err = spec.db.phaseDatabase(ctx, b.runID, phase)
	} else {
		dsn, cleanup, err = b.phaseDatabase(ctx, phase)
	}
	if err != nil {
		return nil, err
	}
	s := &session{name: phase, now: b.now, cleanup: cleanup}
	defer func() {
		if err != nil {
			_ = s.close()
		}
	}()
	nodes := b.opts.Nodes
	if spec.nodes > 0 {
		nodes = spec.nodes
	}
	for range nodes {
		cfg := hookdConfig{
			Binary: b.binary, DatabaseURL: dsn,
			EncryptionKey: b.encryptionKey, Workers: b.opts.Workers,
		}
		if spec.db != nil {
			cfg.EncryptionKey = spec.db.encryptionKey
		}
		if spec.adjust != nil {
			spec.adjust(&cfg)
		}
		proc, err := startHookd(ctx, cfg)
		if err != nil {
			return nil, err
		}
		s.nodes = append(s.nodes, proc)
	}
	if !spec.noReceiver {
		if s.rc, err = startReceiver(b.now, b.opts.ReceiverDelay); err != nil {
			return nil, err
		}
	}
	for _, proc := range s.nodes {
		api, err := newAPIClient(proc.URL, "bench-"+b.runID+"-"+phase, b.now())
		if err != nil {
			return nil, err
		}
		s.apis = append(s.apis, api)
	}
	switch {
	case spec.db != nil:
		s.dbPID = spec.db.serverPID
	case b.pg != nil:
		s.dbPID = b.pg.serverPID
	}
	return s, nil
}

// stopNodes stops every node with SIGTERM, as an operator would, and
// waits for them to exit.
func (s *session) stopNodes() {
	var wg sync.WaitGroup
	for _, p := range s.nodes {
		wg.Go(p.stop)
	}
	wg.Wait()
	for _, api := range s.apis {
		api.close()
	}
}

// startNodes starts the stopped nodes again, each on its database and
// address as before (so the API clients keep working), and returns when
// every one answers /healthz.
func (s *session) startNodes(ctx context.Context) error {
	for i, p := range s.nodes {
		cfg := p.cfg
		cfg.Addr = strings.TrimPrefix(p.URL, "http://")
		proc, err := startHookd(ctx, cfg)
		if err != nil {
			return fmt.Errorf("restart node %d: %w", i+1, err)
		}
		s.nodes[i] = proc
	}
	return nil
}

// api is the client of the node that takes the seq-th publish: the
// publishers are spread over the nodes round-robin.
func (s *session) api(seq int) *apiClient { return s.apis[seq%len(s.apis)] }

// addWebhook creates a webhook to the receiver at path (through the
// first node; every node reads it from the shared database).
func (s *session) addWebhook(ctx context.Context, path string) error {
	id, err := s.apis[0].createWebhook(ctx, "bench "+s.name+" "+path, s.rc.URL+path)
	if err != nil {
		return err
	}
	s.hooks = append(s.hooks, id)
	return nil
}

// mark starts the window that usage measures.
func (s *session) mark() {
	pids := make([]int, len(s.nodes))
	for i, p := range s.nodes {
		pids[i] = p.pid()
	}
	s.window = startWindow(s.now, pids, s.dbPID)
}

// usage reports CPU use since mark and the nodes' peak RSS so far.
func (s *session) usage() usage { return s.window.usage() }

// checkAlive fails when a hookd node has exited under the benchmark.
func (s *session) checkAlive() error {
	for i, p := range s.nodes {
		if p.exited() {
			return fmt.Errorf("hookd node %d exited during phase %s:\n%s", i+1, s.name, p.out)
		}
	}
	return nil
}

// close stops the nodes and the receiver and removes the phase's
// database. On a database that outlives the phase (--database other than
// PostgreSQL) it first deletes the phase's webhooks, so no pending
// deliveries carry into the next phase.
func (s *session) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	if s.cleanup == nil && len(s.apis) > 0 && !s.nodes[0].exited() {
		for _, id := range s.hooks {
			if err := s.apis[0].deleteWebhook(ctx, id); err != nil {
				errs = append(errs, err)
				break
			}
		}
	}
	for _, api := range s.apis {
		api.close()
	}
	var wg sync.WaitGroup
	for _, p := range s.nodes {
		wg.Go(p.stop)
	}
	wg.Wait()
	if s.rc != nil {
		errs = append(errs, s.rc.close())
	}
	if s.cleanup != nil {
		errs = append(errs, s.cleanup(ctx))
	}
	return errors.Join(errs...)
}
