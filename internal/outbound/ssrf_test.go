package outbound

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestGuardCheck(t *testing.T) {
	t.Parallel()
	blocked := []string{
		"10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1", "169.254.169.254",
		"fc00::1", "fd12::1", "fe80::1", "fe80::1%eth0", "::ffff:10.0.0.1", "::ffff:127.0.0.1",
		"::ffff:169.254.169.254", "100.64.0.1", "100.127.255.254", "224.0.0.1", "239.255.255.250",
		"ff02::1", "ff0e::1", "0.0.0.0", "0.1.2.3", "::", "127.0.0.1", "127.8.9.10", "::1",
		"255.255.255.255", "240.0.0.1", "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.19.255.255",
		"198.51.100.7", "203.0.113.9", "2001:db8::1", "3fff::1", "100::1", "2001:2::1",
		"2001:0:4136:e378:8000:63bf:3fff:fdd2", "::127.0.0.1", "::10.0.0.1",
		"64:ff9b::10.0.0.1", "64:ff9b::7f00:1", "64:ff9b::169.254.169.254", "64:ff9b:1::1",
		"::ffff:0:10.0.0.1", "2002:a00:1::1", "2002:7f00:1::1",
	}
	allowed := []string{
		"8.8.8.8", "1.1.1.1", "2606:4700::1111", "93.184.216.34", "172.32.0.1", "172.15.255.255",
		"100.63.255.255", "100.128.0.0", "192.169.0.1", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8",
		"2002:808:808::1", "2a00:1450:4001::1",
	}
	var g Guard
	for _, s := range blocked {
		t.Run("blocked "+s, func(t *testing.T) {
			t.Parallel()
			addr := netip.MustParseAddr(s)
			err := g.Check(addr)
			var be *BlockedError
			if !errors.As(err, &be) {
				t.Fatalf("Check(%s) = %v, want *BlockedError", s, err)
			}
			if be.Addr != addr || be.Reason == "" {
				t.Fatalf("BlockedError = %+v, want Addr %s and a reason", be, addr)
			}
			if !strings.Contains(err.Error(), addr.String()) {
				t.Fatalf("error %q does not name the address", err)
			}
			if err := (&Guard{AllowPrivate: true}).Check(addr); err != nil {
				t.Fatalf("AllowPrivate: Check(%s) = %v, want nil", s, err)
			}
		})
	}
	for _, s := range allowed {
		t.Run("allowed "+s, func(t *testing.T) {
			t.Parallel()
			if err := g.Check(netip.MustParseAddr(s)); err != nil {
				t.Fatalf("Check(%s) = %v, want nil", s, err)
			}
		})
	}
	if err := g.Check(netip.Addr{}); err == nil {
		t.Error("Check(zero Addr) = nil, want blocked")
	}
}

func TestGuardAllowedPrefixes(t *testing.T) {
	t.Parallel()
	g := Guard{Allowed: []netip.Prefix{
		netip.MustParsePrefix("10.20.0.0/16"),
		netip.MustParsePrefix("fd00:1234::/32"),
	}}
	tests := []struct {
		addr    string
		blocked bool
	}{
		{"10.20.0.1", false},
		{"10.20.255.255", false},
		{"::ffff:10.20.3.4", false}, // mapped form of an allowed address
		{"fd00:1234::5", false},
		{"10.21.0.1", true},
		{"10.19.255.255", true},
		{"192.168.1.1", true},
		{"127.0.0.1", true},
		{"fd00:1235::5", true},
		{"8.8.8.8", false},
	}
	for _, tt := range tests {
		err := g.Check(netip.MustParseAddr(tt.addr))
		if got := err != nil; got != tt.blocked {
			t.Errorf("Check(%s) = %v, want blocked=%v", tt.addr, err, tt.blocked)
		}
	}
}

func TestGuardControl(t *testing.T) {
	t.Parallel()
	var g Guard
	tests := []struct {
		network, address string
		blocked          bool
	}{
		{"tcp4", "127.0.0.1:80", true},
		{"tcp6", "[::1]:443", true},
		{"tcp6", "[fe80::1%lo]:443", true},
		{"tcp4", "0.0.0.0:8080", true},
		{"tcp4", "8.8.8.8:443", false},
		{"tcp6", "[2606:4700::1111]:443", false},
		{"tcp", "not-an-address", true},
	}
	for _, tt := range tests {
		err := g.Control(tt.network, tt.address, nil)
		var be *BlockedError
		if tt.blocked != errors.As(err, &be) {
			t.Errorf("Control(%s, %s) = %v, want blocked=%v", tt.network, tt.address, err, tt.blocked)
		}
		if !tt.blocked && err != nil {
			t.Errorf("Control(%s, %s) = %v, want nil", tt.network, tt.address, err)
		}
	}
}

func TestNewTransportSettings(t *testing.T) {
	t.Parallel()
	tr := NewTransport(&Guard{}, 3*time.Second, 7)
	if tr.Proxy != nil {
		t.Error("Proxy is set; a proxy from the environment would bypass the guard")
	}
	if !tr.ForceAttemptHTTP2 {
		t.Error("HTTP/2 not attempted for https")
	}
	if tr.MaxConnsPerHost != 7 || tr.MaxIdleConnsPerHost < 2 {
		t.Errorf("MaxConnsPerHost %d, MaxIdleConnsPerHost %d", tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost)
	}
	if tr.TLSHandshakeTimeout <= 0 || tr.TLSHandshakeTimeout > 3*time.Second {
		t.Errorf("TLSHandshakeTimeout = %v, want within the 3s timeout", tr.TLSHandshakeTimeout)
	}
}

// loopbackTarget is a receiver reachable through some URL form.
type loopbackTarget struct {
	name string
	url  string
}

// startReceiver starts a server on listenAddr counting its requests, or
// skips the test when that address cannot be listened on.
func startReceiver(t *testing.T, listenAddr string, hits *atomic.Int64) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", listenAddr, err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestClientGuardAgainstLoopbackTargets(t *testing.T) {
	t.Parallel()
	resolver := startTestDNS(t, map[string][]netip.Addr{
		"localhost":   {netip.MustParseAddr("127.0.0.1")},
		"rebind.test": {netip.MustParseAddr("127.0.0.1")},
	})
	var hits4, hits6 atomic.Int64
	srv4 := startReceiver(t, "127.0.0.1:0", &hits4)
	port4 := srv4.Listener.Addr().(*net.TCPAddr).Port

	targets := []loopbackTarget{
		{"ipv4 loopback", fmt.Sprintf("http://127.0.0.1:%d/hook", port4)},
		{"localhost", fmt.Sprintf("http://localhost:%d/hook", port4)},
		{"unspecified", fmt.Sprintf("http://0.0.0.0:%d/hook", port4)},
		{"dns name resolving to loopback", fmt.Sprintf("http://rebind.test:%d/hook", port4)},
	}
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
		srv6 := startReceiver(t, "[::1]:0", &hits6)
		targets = append(targets, loopbackTarget{"ipv6 loopback",
			fmt.Sprintf("http://[::1]:%d/hook", srv6.Listener.Addr().(*net.TCPAddr).Port)})
	} else {
		t.Logf("no IPv6 loopback (%v): [::1] case skipped", err)
	}

	blocking := NewClient(NewTransport(&Guard{Resolver: resolver}, 5*time.Second, 0), 5*time.Second)
	for _, target := range targets {
		resp, err := blocking.Post(target.url, "application/json", strings.NewReader(`{}`))
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s: default guard let %s through (status %d)", target.name, target.url, resp.StatusCode)
			continue
		}
		var be *BlockedError
		if !errors.As(err, &be) {
			t.Errorf("%s: error %v, want a *BlockedError in the chain", target.name, err)
		}
		if typ, _ := Classify(err, nil); typ != "blocked_target" {
			t.Errorf("%s: Classify = %q, want blocked_target", target.name, typ)
		}
	}
	if hits4.Load() != 0 || hits6.Load() != 0 {
		t.Fatalf("blocked requests reached the receivers: %d on IPv4, %d on IPv6", hits4.Load(), hits6.Load())
	}

	allowing := NewClient(NewTransport(&Guard{AllowPrivate: true, Resolver: resolver}, 5*time.Second, 0), 5*time.Second)
	for _, target := range targets {
		resp, err := allowing.Post(target.url, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Errorf("%s: AllowPrivate: %v", target.name, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("%s: AllowPrivate: status %d, want 204", target.name, resp.StatusCode)
		}
	}

	allowListed := NewClient(NewTransport(&Guard{
		Allowed:  []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Resolver: resolver,
	}, 5*time.Second, 0), 5*time.Second)
	resp, err := allowListed.Post(targets[3].url, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatalf("Allowed 127.0.0.0/8: %v", err)
	}
	resp.Body.Close()
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var followed atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { followed.Add(1) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	client := NewClient(NewTransport(&Guard{AllowPrivate: true}, 5*time.Second, 0), 5*time.Second)
	resp, err := client.Post(srv.URL+"/hook", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently {
		t.Fatalf("status %d, want the 301 itself", resp.StatusCode)
	}
	if followed.Load() != 0 {
		t.Fatal("the redirect was followed")
	}
	if typ, msg := Classify(nil, resp); typ != "http_301" || !strings.Contains(msg, "301") {
		t.Fatalf("Classify = %q, %q; want http_301", typ, msg)
	}
}

func TestClientSpeaksHTTP2OverTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)

	tr := NewTransport(&Guard{AllowPrivate: true}, 5*time.Second, 0)
	t.Cleanup(tr.CloseIdleConnections)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	resp, err := NewClient(tr, 5*time.Second).Post(srv.URL, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("got %s %d, want HTTP/2 202", resp.Proto, resp.StatusCode)
	}
}

// The refused address goes to the server log, the only place it is told.
func TestControlLogsBlockedAddress(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	g := &Guard{Log: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := g.Control("tcp4", "10.9.8.7:443", nil); err == nil {
		t.Fatal("10.9.8.7 not blocked")
	}
	if !strings.Contains(logs.String(), "10.9.8.7") || !strings.Contains(logs.String(), "private") {
		t.Errorf("log: %q", logs.String())
	}
	logs.Reset()
	if err := g.Control("tcp4", "93.184.216.34:443", nil); err != nil || logs.Len() != 0 {
		t.Errorf("public address: %v, log %q", err, logs.String())
	}
}
