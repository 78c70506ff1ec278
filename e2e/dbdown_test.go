package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// ownPostgres is a PostgreSQL server of the test's own, on a free
// loopback port, which the test may stop and start (never the machine's
// shared one).
type ownPostgres struct {
	t    *testing.T
	bin  string // the directory of initdb and pg_ctl
	dir  string // data directory
	port int
	user *user.User // who runs it when the test runs as root
}

// startOwnPostgres initdb's a cluster in a temporary directory and starts
// it; it is stopped and removed when the test ends. The test is skipped
// where PostgreSQL's server binaries are not installed.
func startOwnPostgres(t *testing.T) *ownPostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skip("no /usr/lib/postgresql/<version>/bin/initdb")
	}
	sort.Strings(bins)
	pg := &ownPostgres{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	root, err := os.MkdirTemp("", "hookd-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if os.Geteuid() == 0 { // initdb refuses root: run the server as postgres
		if pg.user, err = user.Lookup("postgres"); err != nil {
			t.Skipf("running as root and no postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(pg.user.Uid)
		gid, _ := strconv.Atoi(pg.user.Gid)
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	pg.dir = filepath.Join(root, "data")
	_, portStr, _ := net.SplitHostPort(freeAddr(t))
	pg.port, _ = strconv.Atoi(portStr)
	pg.run("initdb", "-D", pg.dir, "-U", "postgres", "-A", "trust", "--no-sync")
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(root, "server.log"))
			t.Logf("PostgreSQL log:\n%s", log)
		}
	})
	pg.Start()
	t.Cleanup(func() { pg.run("pg_ctl", "-D", pg.dir, "-m", "immediate", "-w", "stop") })
	return pg
}

// run runs a PostgreSQL tool as the cluster's owner.
func (pg *ownPostgres) run(name string, args ...string) {
	pg.t.Helper()
	name = filepath.Join(pg.bin, name)
	if pg.user != nil {
		args = append([]string{"-u", pg.user.Username, "--", name}, args...)
		name = "runuser"
	}
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		pg.t.Logf("%s %v: %v\n%s", name, args, err, out)
		if !strings.Contains(strings.Join(args, " "), "stop") {
			pg.t.FailNow()
		}
	}
}

// URL is the cluster's postgres database.
func (pg *ownPostgres) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
}

// Start starts the server and waits until it accepts connections.
func (pg *ownPostgres) Start() {
	root := filepath.Dir(pg.dir)
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off", pg.port, root)
	pg.run("pg_ctl", "-D", pg.dir, "-l", filepath.Join(root, "server.log"), "-o", opts, "-w", "start")
}

// Stop stops the server (fast: open connections are closed).
func (pg *ownPostgres) Stop() { pg.run("pg_ctl", "-D", pg.dir, "-m", "fast", "-w", "stop") }

// While the database is down the API answers 503 unavailable with
// Retry-After and /readyz 503; events accepted before are all delivered
// once it is back (docs/api.md §3, §6).
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	pg := startOwnPostgres(t)
	s := startServerOn(t, pg.URL(), "HOOKD_DELIVERY_TIMEOUT=2s", "HOOKD_LEASE=4s")
	tok := token(t, "acme", "alice", "events:publish")
	var up atomic.Bool // the receiver fails until the database is back
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		if !up.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	createHook(t, s, tok, `{"name":"o","url":"`+rc.URL+`/","events":["order.created"],
		"retry_config":{"max_retries":25,"retry_delay":200,"backoff_multiplier":1}}`)
	const n = 20
	want := map[string]bool{}
	for range n {
		r := publish(t, s, tok, "order.created", orderPayload).must(t, 202)
		want[r.data()["event"].(map[string]any)["id"].(string)] = true
	}
	s.do("GET", "/readyz", "", nil).must(t, 200)

	pg.Stop()
	for _, c := range []struct{ method, path, tok string }{
		{"GET", "/api/webhooks/", tok},
		{"POST", "/api/events/", tok},
		{"GET", "/readyz", ""},
	} {
		var body any
		if c.method == "POST" {
			body = `{"event":"order.created","payload":` + orderPayload + `}`
		}
		r := s.do(c.method, c.path, c.tok, body)
		if r.Status != http.StatusServiceUnavailable || r.errCode() != "unavailable" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("%s %s while the database is down: %d %s %v", c.method, c.path, r.Status, r.Raw, r.Header)
		}
	}
	time.Sleep(time.Second) // the dispatcher meets the outage too

	pg.Start()
	up.Store(true)
	eventually(t, 60*time.Second, "every event accepted before the outage is delivered", func() bool {
		for _, req := range rc.requests() {
			delete(want, req.Header.Get("Webhook-Id"))
		}
		return len(want) == 0
	})
	eventually(t, 10*time.Second, "ready again", func() bool { return s.do("GET", "/readyz", "", nil).Status == 200 })
	publish(t, s, tok, "order.created", orderPayload).must(t, 202)
}
