// Package e2e drives a real hookd binary over HTTP: the tests build
// ./cmd/hookd once, start it on a fresh database and talk to it as a user
// would. The database is a temp SQLite file, or with
// HOOKD_E2E_STORE=postgres a fresh schema in HOOKD_TEST_POSTGRES_URL's
// database.
package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/auth"
)

// binary is the hookd executable built by TestMain.
var binary string

func TestMain(m *testing.M) {
	switch os.Getenv("HOOKD_E2E_STORE") {
	case "", "sqlite":
	case "postgres":
		if os.Getenv("HOOKD_TEST_POSTGRES_URL") == "" {
			fmt.Fprintln(os.Stderr, "HOOKD_E2E_STORE=postgres needs HOOKD_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "HOOKD_E2E_STORE=%q: want sqlite or postgres\n", os.Getenv("HOOKD_E2E_STORE"))
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "hookd-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "hookd")
	build := exec.Command("go", "build", "-o", binary, "../cmd/hookd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build hookd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testSecret is the HS256 key every test server is started with.
const testSecret = "e2e-test-secret-0123456789abcdef"

// onPostgres reports whether the suite runs hookd on PostgreSQL
// (HOOKD_E2E_STORE=postgres) instead of SQLite.
func onPostgres() bool { return os.Getenv("HOOKD_E2E_STORE") == "postgres" }

// skipOnPostgres skips a test that is about the SQLite store itself when
// the suite runs on PostgreSQL.
func skipOnPostgres(t *testing.T, why string) {
	t.Helper()
	if onPostgres() {
		t.Skip("SQLite-specific: " + why)
	}
}

// freshDatabase returns a database no other test uses, removed when the
// test ends: a SQLite file path, or on PostgreSQL a schema's URL.
func freshDatabase(t *testing.T) string {
	t.Helper()
	if onPostgres() {
		return postgresSchema(t)
	}
	return filepath.Join(t.TempDir(), "hookd.db")
}

// isPostgresURL reports whether db is a PostgreSQL URL, not a file path.
func isPostgresURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// encryptionKeys holds one HOOKD_ENCRYPTION_KEY per PostgreSQL URL, so that
// every process started on a database can read the secrets of the ones
// before it.
var encryptionKeys = struct {
	sync.Mutex
	byURL map[string]string
}{byURL: map[string]string{}}

// databaseEnv returns the variables that run hookd on db, a SQLite file
// path or a PostgreSQL URL (with the same encryption key each time; a
// SQLite database keeps its key in the file beside it).
func databaseEnv(t *testing.T, db string) []string {
	t.Helper()
	if !isPostgresURL(db) {
		return []string{"HOOKD_DATABASE_URL=sqlite:" + db}
	}
	encryptionKeys.Lock()
	defer encryptionKeys.Unlock()
	key, ok := encryptionKeys.byURL[db]
	if !ok {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		key = base64.StdEncoding.EncodeToString(b)
		encryptionKeys.byURL[db] = key
	}
	return []string{"HOOKD_DATABASE_URL=" + db, "HOOKD_ENCRYPTION_KEY=" + key}
}

// server is one running hookd process.
type server struct {
	t   *testing.T
	URL string
	// DB is the database hookd runs on: a SQLite file path or a
	// PostgreSQL URL, as startServerOn takes it.
	DB   string
	Env  []string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// syncBuffer collects a process's output safely.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs hookd serve on a fresh database (freshDatabase) with
// extra HOOKD_* variables, and stops it when the test ends.
func startServer(t *testing.T, env ...string) *server {
	t.Helper()
	return startServerOn(t, freshDatabase(t), env...)
}

// startServerOn runs hookd serve on db, a SQLite file path or a
// PostgreSQL URL; a variable in env overrides the harness's (a process
// gets the last value of a variable set twice).
func startServerOn(t *testing.T, db string, env ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	s := &server{t: t, URL: "http://" + addr, DB: db, out: &syncBuffer{}, done: make(chan struct{})}
	s.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOOKD_ADDR=" + addr}, databaseEnv(t, db)...)
	s.Env = append(s.Env, "HOOKD_JWT_SECRET="+testSecret, "HOOKD_ALLOW_PRIVATE_TARGETS=true")
	s.Env = append(s.Env, env...)
	s.cmd = exec.Command(binary, "serve")
	s.cmd.Env = s.Env
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("hookd output:\n%s", s.out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("hookd exited before it was healthy:\n%s", s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hookd not healthy after 30s:\n%s", s.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop sends SIGTERM and waits for the process to exit.
func (s *server) Stop() {
	if s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(40 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Kill ends the process with SIGKILL, as a crash would.
func (s *server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// token issues an HS256 token for the test secret.
func token(t *testing.T, tenant, user string, scopes ...string) string {
	t.Helper()
	tok, err := auth.Issue([]byte(testSecret), auth.Principal{Tenant: tenant, User: user, Scopes: scopes}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// response is a decoded API answer.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// data returns body.data.
func (r *response) data() map[string]any {
	d, _ := r.Body["data"].(map[string]any)
	return d
}

// errCode returns body.error.code.
func (r *response) errCode() string {
	e, _ := r.Body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// detailFields returns the field of every body.error.details entry.
func (r *response) detailFields() []string {
	e, _ := r.Body["error"].(map[string]any)
	ds, _ := e["details"].([]any)
	var out []string
	for _, d := range ds {
		m, _ := d.(map[string]any)
		f, _ := m["field"].(string)
		out = append(out, f)
	}
	return out
}

// do sends a request with an optional bearer token and JSON body (a
// string is sent as is).
func (s *server) do(method, path, tok string, body any) *response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := &response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// must fails the test unless the answer has the wanted status.
func (r *response) must(t *testing.T, status int) *response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	return r
}

// loopbackName returns this machine's host name when it resolves to a
// loopback address: a name the SSRF guard must block when connecting,
// since a name is not refused when saved. The test skips where the name
// resolves elsewhere.
func loopbackName(t *testing.T) string {
	t.Helper()
	name, err := os.Hostname()
	if err != nil {
		t.Skip(err)
	}
	if addrs, err := net.LookupHost(name); err != nil || len(addrs) == 0 || !net.ParseIP(addrs[0]).IsLoopback() {
		t.Skipf("%s does not resolve to loopback here: %v %v", name, addrs, err)
	}
	return name
}
