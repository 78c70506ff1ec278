package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/pgtest"
)

func TestParseOptionsNodes(t *testing.T) {
	t.Parallel()
	const pg = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	cases := []struct {
		args  []string
		nodes int
		err   string // "" = valid
	}{
		{nil, 1, ""},
		{[]string{"--database", pg}, 1, ""},
		{[]string{"--database", pg, "--nodes", "2"}, 2, ""},
		{[]string{"--database", "postgresql://u@127.0.0.1/db", "--nodes", "3"}, 3, ""},
		{[]string{"--nodes", "2"}, 0, "SQLite serves one hookd process"},
		{[]string{"--database", "sqlite:/tmp/x.db", "--nodes", "2"}, 0, "SQLite serves one hookd process"},
		{[]string{"--database", pg, "--nodes", "0"}, 0, "--nodes must be at least 1"},
		{[]string{"--database", "postgres:x", "--nodes", "1"}, 0, "postgres:// URL"},
	}
	for _, c := range cases {
		o, err := parseOptions(c.args, io.Discard)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("parseOptions(%q): %v", c.args, err)
		case c.err == "" && o.Nodes != c.nodes:
			t.Errorf("parseOptions(%q): %d nodes, want %d", c.args, o.Nodes, c.nodes)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("parseOptions(%q) error %v, want one saying %q", c.args, err, c.err)
		}
	}
}

func TestWithSearchPath(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=hookbench_ab_e2e"},
		{"postgresql://u:p@h/db", "postgresql://u:p@h/db?search_path=hookbench_ab_e2e"},
		{"postgres://h/db?search_path=public&pool_max_conns=4", "postgres://h/db?pool_max_conns=4&search_path=hookbench_ab_e2e"},
		{"postgres://h/db?options=-c%20geqo%3Doff&search%5Fpath=x", "postgres://h/db?options=-c%20geqo%3Doff&search_path=hookbench_ab_e2e"},
	}
	for _, c := range cases {
		got, err := withSearchPath(c.in, "hookbench_ab_e2e")
		if err != nil || got != c.want {
			t.Errorf("withSearchPath(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := withSearchPath("host=h dbname=db", "hookbench_ab_e2e"); err == nil {
		t.Error("withSearchPath accepted a key=value DSN")
	}
}

func TestPhaseSchema(t *testing.T) {
	t.Parallel()
	if s, err := phaseSchema("0a1b2c3d", "fanout"); err != nil || s != "hookbench_0a1b2c3d_fanout" {
		t.Fatalf("phaseSchema = %q, %v", s, err)
	}
	for _, bad := range [][2]string{{"0a1b", "e2e; DROP"}, {"XYZ", "e2e"}, {"0a1b", ""}} {
		if s, err := phaseSchema(bad[0], bad[1]); err == nil {
			t.Errorf("phaseSchema(%q, %q) = %q, want an error", bad[0], bad[1], s)
		}
	}
	db := &pgDatabase{url: "postgres://h/db"}
	if _, err := db.createSchema(context.Background(), "public; DROP SCHEMA x"); err == nil {
		t.Error("createSchema took a name that is not a benchmark schema")
	}
	if err := db.dropSchema(context.Background(), "public"); err == nil {
		t.Error("dropSchema would drop public")
	}
}

// batchServer answers POST /api/events/batch/ as hookd does, counting the
// batches it took.
func batchServer(t *testing.T, got *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Events []json.RawMessage `json:"events"`
		}
		if r.URL.Path != "/api/events/batch/" || json.NewDecoder(r.Body).Decode(&body) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		got.Add(1)
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]int{"accepted": len(body.Events), "rejected": 0}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSendBatchesSpreadsOverNodes(t *testing.T) {
	t.Parallel()
	var counts [3]atomic.Int64
	apis := make([]*apiClient, len(counts))
	for i := range counts {
		api, err := newAPIClient(batchServer(t, &counts[i]).URL, "bench-test", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(api.close)
		apis[i] = api
	}
	batches := renderBatches(30*5, 5) // 30 batches
	if err := sendBatches(t.Context(), apis, batches, 4); err != nil {
		t.Fatal(err)
	}
	for i := range counts {
		if n := counts[i].Load(); n != 10 {
			t.Errorf("node %d took %d batches, want 10", i, n)
		}
	}
	s := &session{apis: apis}
	for seq, want := range []int{0, 1, 2, 0, 1} {
		if s.api(seq) != apis[want] {
			t.Errorf("publish %d went to another node than %d", seq, want)
		}
	}
}

func TestUsageSumsNodes(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	// This process stands for both nodes: their CPU is summed, their RSS
	// is the highest one's and each one's is listed.
	self := os.Getpid()
	w := startWindow(time.Now, []int{self, self}, 0)
	// Burn 60 ms of CPU, however long a busy machine takes to give it.
	for start := processCPU(t); processCPU(t)-start < 60*time.Millisecond; {
	}
	u := w.usage()
	if u.HookdCPUPercent < 1.5*u.BenchCPUPercent || u.BenchCPUPercent <= 0 {
		t.Errorf("hookd CPU %.1f%% for two copies of bench's %.1f%%", u.HookdCPUPercent, u.BenchCPUPercent)
	}
	if len(u.NodeCPUPercent) != 2 || u.NodeCPUPercent[0]+u.NodeCPUPercent[1] != u.HookdCPUPercent {
		t.Errorf("per node CPU %v, summed %.1f%%", u.NodeCPUPercent, u.HookdCPUPercent)
	}
	if len(u.NodePeakRSSBytes) != 2 || u.PeakRSSBytes < 1<<20 || u.NodePeakRSSBytes[0] > u.PeakRSSBytes {
		t.Errorf("peak RSS %d, per node %v", u.PeakRSSBytes, u.NodePeakRSSBytes)
	}
	if u.DatabaseMeasured {
		t.Error("database CPU measured without a database process")
	}
}

func TestTreeCPUCountsChildren(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	// A child of this test's own: treeCPU of this process must grow by at
	// least what the child used, while it runs and after it ended.
	child := exec.Command("sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; read x; exit 0")
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	before, err := treeCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	if ppid, err := parentPID(child.Process.Pid); err != nil || ppid != os.Getpid() {
		t.Fatalf("parentPID(child) = %d, %v; want %d", ppid, err, os.Getpid())
	}
	// Wait until the loop is done and the child waits for its input.
	var used time.Duration
	for range 500 {
		if used, _ = cpuTime(child.Process.Pid); used >= 50*time.Millisecond {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	live, err := treeCPU(os.Getpid())
	if err != nil || live-before < used {
		t.Errorf("treeCPU grew by %v with a live child that used %v (%v)", live-before, used, err)
	}
	stdin.Close()
	if err := child.Wait(); err != nil {
		t.Fatal(err)
	}
	ended, err := treeCPU(os.Getpid())
	if err != nil || ended-before < used {
		t.Errorf("treeCPU grew by %v after a child that used %v ended (%v)", ended-before, used, err)
	}
}

func TestReportHeaderNamesDatabaseAndNodes(t *testing.T) {
	t.Parallel()
	r := &results{
		Database: describeDatabase("postgres://u:secret@127.0.0.1/test"), Nodes: 2, DatabaseCPUMeasured: true, CPUs: 2,
		EndToEnd: &deliveryResult{PerSecond: 3000, Usage: usage{HookdCPUPercent: 120, DatabaseCPUPercent: 55, DatabaseMeasured: true,
			PeakRSSBytes: 40e6, NodeCPUPercent: []float64{70, 50}, NodePeakRSSBytes: []int64{40e6, 38e6}}},
	}
	r.judge()
	var out strings.Builder
	if err := r.writeTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"database: PostgreSQL postgres://u:xxxxx@127.0.0.1/test, a fresh schema per phase; hookd nodes: 2", "CPU hookd sums the 2 nodes", "db = the PostgreSQL server", "120%", "55%", "per node CPU, RSS: 70% 40 MB, 50% 38 MB"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "secret") {
		t.Errorf("table shows the password:\n%s", out.String())
	}
}

// TestPhaseSchemasKeepPhasesApart runs against PostgreSQL: each phase's
// URL reaches an empty schema of its own, and closing the phase drops it.
func TestPhaseSchemasKeepPhasesApart(t *testing.T) {
	t.Parallel()
	base := pgtest.URL(t)
	ctx := t.Context()
	db, err := openPostgres(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL server pid %d (0: not on this machine)", db.serverPID)
	runID, err := newRunID()
	if err != nil {
		t.Fatal(err)
	}
	b := &bench{opts: options{Database: base}, runID: runID, pg: db}
	urlA, dropA, err := b.phaseDatabase(ctx, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	urlB, dropB, err := b.phaseDatabase(ctx, "fanout")
	if err != nil {
		_ = dropA(ctx)
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dropA(context.Background()); _ = dropB(context.Background()) })
	exec := func(dsn, sql string) {
		t.Helper()
		conn, err := connectPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	count := func(dsn, sql string) int {
		t.Helper()
		conn, err := connectPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var n int
		if err := conn.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	exec(urlA, "CREATE TABLE webhooks (id int); INSERT INTO webhooks VALUES (1), (2)")
	if n := count(urlA, "SELECT count(*) FROM webhooks"); n != 2 {
		t.Fatalf("phase e2e sees %d rows, want 2", n)
	}
	if n := count(urlB, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"); n != 0 {
		t.Fatalf("phase fanout's schema has %d tables, want none", n)
	}
	if err := dropA(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(base, "SELECT count(*) FROM pg_namespace WHERE nspname = 'hookbench_"+runID+"_e2e'"); n != 0 {
		t.Fatal("phase e2e's schema is still there after its cleanup")
	}
	if n := count(base, "SELECT count(*) FROM pg_namespace WHERE nspname = 'hookbench_"+runID+"_fanout'"); n != 1 {
		t.Fatal("phase fanout's schema went with e2e's")
	}
}

// processCPU is the CPU time this process has used.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
