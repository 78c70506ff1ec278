package e2e

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// proxy is a TCP relay in front of hookd that a test can cut (every
// connection closed, new ones refused) and point at another process.
type proxy struct {
	ln     net.Listener
	mu     sync.Mutex
	target string // "" while cut
	conns  map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.relay(c)
		}
	}()
	return p
}

// URL is the proxy's base URL.
func (p *proxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) relay(client net.Conn) {
	p.mu.Lock()
	target := p.target
	p.mu.Unlock()
	if target == "" {
		client.Close()
		return
	}
	upstream, err := net.Dial("tcp", target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	p.conns[client], p.conns[upstream] = true, true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(upstream, client); upstream.Close() }()
	_, _ = io.Copy(client, upstream)
	client.Close()
}

// cut closes every relayed connection and refuses new ones.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = ""
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// point sends new connections to target.
func (p *proxy) point(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
}

// listenProc is a running `hookd listen`.
type listenProc struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
	err            error
}

func startListen(t *testing.T, env []string, args ...string) *listenProc {
	t.Helper()
	l := &listenProc{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	l.cmd = exec.Command(binary, append([]string{"listen"}, args...)...)
	l.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	l.cmd.Stdout, l.cmd.Stderr = l.stdout, l.stderr
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { l.err = l.cmd.Wait(); close(l.done) }()
	t.Cleanup(func() {
		l.stop(t)
		if t.Failed() {
			t.Logf("hookd listen stdout:\n%s\nstderr:\n%s", l.stdout.String(), l.stderr.String())
		}
	})
	return l
}

// stop interrupts listen (as ^C does) and returns its exit error.
func (l *listenProc) stop(t *testing.T) error {
	select {
	case <-l.done:
		return l.err
	default:
	}
	_ = l.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-l.done:
	case <-time.After(10 * time.Second):
		_ = l.cmd.Process.Kill()
		<-l.done
		t.Error("hookd listen did not stop on SIGINT")
	}
	return l.err
}

var secretPattern = regexp.MustCompile(`signing secret is (whsec_[A-Za-z0-9+/=]+)`)

// waitReady waits for listen's Ready line and returns the secret it printed.
func (l *listenProc) waitReady(t *testing.T) string {
	t.Helper()
	var secret string
	eventually(t, 20*time.Second, "hookd listen is ready", func() bool {
		m := secretPattern.FindStringSubmatch(l.stdout.String())
		if m != nil && strings.Contains(l.stdout.String(), "Ready!") {
			secret = m[1]
			return true
		}
		select {
		case <-l.done:
			t.Fatalf("hookd listen exited: %v\n%s%s", l.err, l.stdout.String(), l.stderr.String())
		default:
		}
		return false
	})
	return secret
}

// publishOrders publishes n events, alternating order.created with a
// customer.created that an order.* listener must not forward, and
// returns the ids of the order events.
func publishOrders(t *testing.T, s *server, tok string, n int, tag string) []string {
	t.Helper()
	var ids []string
	for i := range n {
		r := publish(t, s, tok, "order.created", fmt.Sprintf(`{"order_id":"%s-%d","status":"confirmed","amount":%d}`, tag, i, i+1)).must(t, 202)
		ids = append(ids, r.data()["event"].(map[string]any)["id"].(string))
		publish(t, s, tok, "customer.created", fmt.Sprintf(`{"customer_id":%d,"email":"c%d@example.com"}`, i+1, i)).must(t, 202)
	}
	return ids
}

// verifyForwarded checks that a forwarded request is signed with secret
// as a delivery would be, and returns its event id.
func verifyForwarded(t *testing.T, got received, secret string) string {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(got.Body, got.Header); err != nil {
		t.Fatalf("standard webhooks verify with the secret listen printed: %v\n%s", err, got.Body)
	}
	key, _ := decodeWhsec(secret)
	mac := hmac.New(sha256.New, key)
	mac.Write(got.Body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); got.Header.Get("X-Webhook-Signature") != want {
		t.Fatalf("X-Webhook-Signature %q, want %q", got.Header.Get("X-Webhook-Signature"), want)
	}
	ev := decodeEvent(t, got.Body)
	if ev.Event != "order.created" || got.Header.Get("X-Webhook-Event") != ev.Event ||
		got.Header.Get("X-Webhook-Id") != ev.ID || got.Header.Get("Webhook-Id") != ev.ID || ev.Version != "1.0" || ev.Timestamp == "" {
		t.Fatalf("forwarded %s with headers %v", got.Body, got.Header)
	}
	return ev.ID
}

// TestListenForwardsAndResumes runs `hookd listen` against a real server
// through a relay, cuts the relay while events are published, then
// restarts hookd on the same database: every order event reaches the
// local receiver once, in order, signed with the secret listen printed.
func TestListenForwardsAndResumes(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tok := token(t, "acme", "dev", "events:publish")
	rc := newReceiver(t, nil)
	px := newProxy(t, strings.TrimPrefix(s.URL, "http://"))
	l := startListen(t, []string{"HOOKD_TOKEN=" + tok},
		"--forward-to", rc.URL+"/webhooks", "--server", px.URL(), "--events", "order.*")
	secret := l.waitReady(t)

	want := publishOrders(t, s, tok, 4, "live")
	rc.waitFor(t, len(want), 20*time.Second)

	// The connection drops; events published meanwhile are replayed on
	// reconnection, from the id listen saw last.
	px.cut()
	eventually(t, 10*time.Second, "listen noticed the cut", func() bool {
		return strings.Contains(l.stderr.String(), "stream interrupted")
	})
	want = append(want, publishOrders(t, s, tok, 4, "cut")...)
	px.point(strings.TrimPrefix(s.URL, "http://"))
	rc.waitFor(t, len(want), 20*time.Second)

	// hookd stops (SIGTERM ends the stream) and starts again on the same
	// database; events published before listen reconnects are replayed
	// from the store, later ones arrive live.
	s.Stop()
	s2 := startServerOn(t, s.DB)
	want = append(want, publishOrders(t, s2, tok, 3, "restart")...)
	px.point(strings.TrimPrefix(s2.URL, "http://"))
	rc.waitFor(t, len(want), 30*time.Second)
	want = append(want, publishOrders(t, s2, tok, 2, "after")...)
	rc.waitFor(t, len(want), 20*time.Second)

	time.Sleep(200 * time.Millisecond) // room for a duplicate to show up
	got := rc.requests()
	if len(got) != len(want) {
		t.Fatalf("receiver got %d requests, want %d", len(got), len(want))
	}
	for i, g := range got {
		if id := verifyForwarded(t, g, secret); id != want[i] {
			t.Fatalf("request %d is %s, want %s", i, id, want[i])
		}
	}
	if !strings.Contains(l.stderr.String(), "resuming after "+want[3]) {
		t.Fatalf("listen did not say it resumed after %s:\n%s", want[3], l.stderr.String())
	}
	lines := 0
	for line := range strings.SplitSeq(l.stdout.String(), "\n") {
		if strings.Contains(line, "--> order.created [evt_") && strings.Contains(line, "<-- [200] POST "+rc.URL+"/webhooks (") {
			lines++
		}
	}
	if lines != len(want) {
		t.Fatalf("listen printed %d event lines, want %d:\n%s", lines, len(want), l.stdout.String())
	}
	if err := l.stop(t); err != nil {
		t.Fatalf("listen exited with %v after SIGINT", err)
	}
}

// TestListenGivenSecretAndRefusedToken: --secret signs the forwards; a
// token the server refuses ends listen with an error instead of retrying.
func TestListenGivenSecretAndRefusedToken(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tok := token(t, "acme", "dev", "events:publish")
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	l := startListen(t, nil, "--forward-to", rc.URL, "--server", s.URL, "--token", tok, "--secret", secret)
	if got := l.waitReady(t); got != secret {
		t.Fatalf("listen printed secret %s, want the one given", got)
	}
	id := publishOrders(t, s, tok, 1, "given")[0]
	if got := verifyForwarded(t, rc.waitFor(t, 1, 20*time.Second)[0], secret); got != id {
		t.Fatalf("forwarded %s, want %s", got, id)
	}
	eventually(t, 5*time.Second, "listen printed the local answer", func() bool {
		return strings.Contains(l.stdout.String(), "<-- [418] POST "+rc.URL)
	})

	bad := startListen(t, []string{"HOOKD_TOKEN=not-a-token"}, "--forward-to", rc.URL, "--server", s.URL)
	select {
	case <-bad.done:
	case <-time.After(20 * time.Second):
		t.Fatal("listen kept running with a refused token")
	}
	if bad.err == nil || !strings.Contains(bad.stderr.String(), "refused the stream (401)") {
		t.Fatalf("exit %v, stderr:\n%s", bad.err, bad.stderr.String())
	}
}

// TestStreamOverRealServer reads both formats from the real binary and
// resumes after a restart from the store.
func TestStreamOverRealServer(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tok := token(t, "acme", "reader", "events:publish")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	sse, err := http.NewRequestWithContext(ctx, "GET", s.URL+"/api/events/stream/?format=sse&events=order.created&access_token="+tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(sse)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("SSE answer %d %v", resp.StatusCode, resp.Header)
	}
	first := publishOrders(t, s, tok, 2, "real")
	r := bufio.NewReader(resp.Body)
	for _, id := range first {
		var block []string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if line == "\n" {
				break
			}
			block = append(block, strings.TrimSuffix(line, "\n"))
		}
		if len(block) != 3 || block[0] != "id: "+id || block[1] != "event: order.created" ||
			!strings.HasPrefix(block[2], `data: {"order_id":"real-`) || !strings.Contains(block[2], `"timestamp":"`) {
			t.Fatalf("SSE event %q, want id %s", block, id)
		}
	}

	// After a restart the broker is new: resuming comes from the store.
	s.Stop()
	s2 := startServerOn(t, s.DB)
	later := publishOrders(t, s2, tok, 1, "later")
	req, _ := http.NewRequestWithContext(ctx, "GET", s2.URL+"/api/events/stream/?events=order.*", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Last-Event-ID", first[0])
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	if resp2.StatusCode != 200 || resp2.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("NDJSON answer %d %v", resp2.StatusCode, resp2.Header)
	}
	lines := bufio.NewScanner(resp2.Body)
	live := publishOrders(t, s2, tok, 1, "live")
	for _, id := range []string{first[1], later[0], live[0]} {
		if !lines.Scan() {
			t.Fatalf("stream ended: %v", lines.Err())
		}
		if ev := decodeEvent(t, lines.Bytes()); ev.ID != id || ev.Event != "order.created" {
			t.Fatalf("line %s, want event %s", lines.Bytes(), id)
		}
	}
}
