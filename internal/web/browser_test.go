package web_test

// Browser tests: a real hookd serve on 127.0.0.1 with a temp SQLite file,
// a local receiver, and headless Chromium driven over the DevTools
// protocol. They skip when /usr/bin/chromium is missing, unless
// HOOKD_TEST_REQUIRE_BROWSER=1 (CI). With HOOKD_TEST_SCREENSHOTS=1 the run
// writes its screenshots in docs/screenshots/ (otherwise it takes them and
// throws them away, so a test run leaves the checkout as it was).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookd/hookd/internal/auth"
)

const (
	chromiumPath = "/usr/bin/chromium"
	testSecret   = "browser-test-secret-0123456789abcdef"
	shotsDir     = "../../docs/screenshots"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// needBrowser skips the test without Chromium, or fails it when CI
// requires the browser tests to run.
func needBrowser(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("HOOKD_TEST_REQUIRE_BROWSER") == "1" {
			t.Fatalf("HOOKD_TEST_REQUIRE_BROWSER=1 but %s is missing: apt-get install -y chromium", chromiumPath)
		}
		t.Skipf("%s is missing (apt-get install -y chromium); browser tests skipped", chromiumPath)
	}
}

// hookdServer is a running hookd serve.
type hookdServer struct {
	url, addr, dir string
	cmd            *exec.Cmd
	logs           *bytes.Buffer
}

// startHookd builds ./cmd/hookd once and runs `hookd serve` on a free
// loopback port with a fresh database until the test ends.
func startHookd(t *testing.T) *hookdServer {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hookd-web-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "hookd")
		out, err := exec.Command("go", "build", "-o", binary, "../../cmd/hookd").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &hookdServer{url: "http://" + addr, addr: addr, dir: t.TempDir(), logs: &bytes.Buffer{}}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("hookd output:\n%s", s.logs.String())
		}
	})
	s.start(t)
	return s
}

// start runs hookd serve and waits until it answers /healthz.
func (s *hookdServer) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(),
		"HOOKD_ADDR="+s.addr,
		"HOOKD_DATABASE_URL=sqlite:"+filepath.Join(s.dir, "hookd.db"),
		"HOOKD_JWT_SECRET="+testSecret,
		"HOOKD_ALLOW_PRIVATE_TARGETS=true",
		"HOOKD_RATE_LIMIT=0",
		"HOOKD_DELIVERY_TIMEOUT=5s",
		"HOOKD_SHUTDOWN_TIMEOUT=2s",
	)
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("hookd did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends hookd with SIGTERM, as a deployment would.
func (s *hookdServer) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

func token(t *testing.T, user string, ttl time.Duration, scopes ...string) string {
	t.Helper()
	tok, err := auth.Issue([]byte(testSecret), auth.Principal{Tenant: "default", User: user, Scopes: scopes}, ttl, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// call makes an API request and decodes the envelope's data.
func (s *hookdServer) call(t *testing.T, tok, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&env)
	return resp.StatusCode, env
}

func (s *hookdServer) mustCall(t *testing.T, tok, method, path string, body any) map[string]any {
	t.Helper()
	code, env := s.call(t, tok, method, path, body)
	if code >= 300 {
		t.Fatalf("%s %s: %d %v", method, path, code, env)
	}
	d, _ := env["data"].(map[string]any)
	return d
}

// inbox is what the receiver got: how many requests, and the
// Authorization header of each request, by path.
type inbox struct {
	n    atomic.Int64
	mu   sync.Mutex
	auth map[string][]string
}

// authorizations are the Authorization headers the requests to path
// carried, in order.
func (b *inbox) authorizations(path string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.auth[path])
}

// receiver answers 200, or 500 on paths under /fail and to draft orders.
func receiver(t *testing.T) (*httptest.Server, *inbox) {
	got := &inbox{auth: map[string][]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.n.Add(1)
		got.mu.Lock()
		got.auth[r.URL.Path] = append(got.auth[r.URL.Path], r.Header.Get("Authorization"))
		got.mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		if strings.HasPrefix(r.URL.Path, "/fail") || bytes.Contains(body, []byte(`"status":"draft"`)) {
			http.Error(w, "receiver is down", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "OK")
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// browser starts headless Chromium with a fresh profile. Uncaught page
// errors fail the test when it ends.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	var mu sync.Mutex
	var pageErrors []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			// The dashboard shows the API's error answers; the browser logs them as failed loads.
			if m.IsException() || (m.Type == "error" && !strings.HasPrefix(m.Text, "Failed to load resource")) {
				mu.Lock()
				pageErrors = append(pageErrors, m.Text)
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range pageErrors {
			t.Errorf("page error: %s", e)
		}
	})
	return ctx
}

type step = chromedp.Action[chromedp.Void]

// run runs the steps, failing the test with where the page was.
func run(t *testing.T, ctx context.Context, steps ...step) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main') ? document.querySelector('main').innerText : ''`))
		t.Fatalf("%v (at %s; page: %.800s)", err, loc, text)
	}
}

// eval returns the value of a JavaScript expression.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// js runs a JavaScript statement as a step.
func js(expr string) step {
	return chromedp.Evaluate[chromedp.Void](expr)
}

func void[T any](a chromedp.Action[T]) step {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

// waitText waits until the selector's text contains want.
func waitText(sel, want string) step {
	return waitJS(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.innerText.includes(%q); })()`, sel, want))
}

// waitJS waits until the expression is true.
func waitJS(expr string) step {
	return void(chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(15*time.Second)))
}

// open loads the dashboard afresh at a page (a fragment-only change would
// not reload it) and waits until that page has rendered.
func open(base, hash string) step {
	u := base
	if !strings.Contains(base, "?") {
		u += "/?"
	} else {
		u += "&"
	}
	u += "load=" + fmt.Sprint(time.Now().UnixNano()) + hash
	return chromedp.Steps(chromedp.Navigate(u), idle())
}

// idle waits for the page to have rendered (no page loading).
func idle() step {
	return waitJS(`!document.querySelector('main [aria-busy="true"]') && !!document.querySelector('main h1')`)
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	run(t, ctx, js(`document.getElementById('toast').className = 'toast'; scrollTo(0, 0)`), chromedp.Sleep(250*time.Millisecond))
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("HOOKD_TEST_SCREENSHOTS") != "1" {
		return
	}
	if err := os.MkdirAll(shotsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shotsDir, name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// axeCheck runs axe-core on the page and fails on serious or critical
// violations.
func axeCheck(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	src, err := os.ReadFile("testdata/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	type violation struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []struct {
			Target []any `json:"target"`
		} `json:"nodes"`
	}
	var violations []violation
	run(t, ctx, js(string(src)))
	violations, err = chromedp.Run(ctx, chromedp.Evaluate[[]violation](
		`axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical'))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe: %v", page, err)
	}
	for _, v := range violations {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target...))
		}
		t.Errorf("%s: axe %s (%s): %s at %s", page, v.ID, v.Impact, v.Help, strings.Join(where, ", "))
	}
}
