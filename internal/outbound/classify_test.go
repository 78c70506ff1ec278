package outbound

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// loopbackClient returns a delivery client that may reach loopback and
// resolves names through a DNS server on loopback only.
func loopbackClient(t *testing.T, timeout time.Duration) (*http.Client, *http.Transport) {
	t.Helper()
	resolver := startTestDNS(t, map[string][]netip.Addr{
		"receiver.test": {netip.MustParseAddr("127.0.0.1")},
	})
	tr := NewTransport(&Guard{AllowPrivate: true, Resolver: resolver}, timeout, 0)
	t.Cleanup(tr.CloseIdleConnections)
	return NewClient(tr, timeout), tr
}

// post sends an empty JSON object and reads the whole response body,
// returning the response and the first error met.
func post(client *http.Client, url string) (*http.Response, error) {
	resp, err := client.Post(url, "application/json", strings.NewReader(`{}`))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp, err
}

// hijacking starts a server whose handler takes over the connection and
// hands it to act.
func hijacking(t *testing.T, act func(conn net.Conn, rw *bufio.ReadWriter)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		act(conn, rw)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// hanging starts a server that answers only after the client gave up.
func hanging(t *testing.T, writeHeaderFirst bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the whole body lets the server notice the client leaving.
		_, _ = io.Copy(io.Discard, r.Body)
		if writeHeaderFirst {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("partial"))
			_ = http.NewResponseController(w).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// refusedURL is the URL of a loopback port nothing listens on.
func refusedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	return url
}

// plainAsHTTPS is an https URL of a plain HTTP server.
func plainAsHTTPS(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	return strings.Replace(srv.URL, "http://", "https://", 1)
}

// closing is the URL of a server that closes each connection once it
// wrote partial (possibly nothing) or, with reset, with an RST.
func closing(t *testing.T, partial string, reset bool) string {
	return hijacking(t, func(conn net.Conn, rw *bufio.ReadWriter) {
		if partial != "" {
			_, _ = rw.WriteString(partial)
			_ = rw.Flush()
		}
		if tcp, ok := conn.(*net.TCPConn); ok && reset {
			_ = tcp.SetLinger(0) // close sends RST
		}
	}).URL
}

// Answers cut short: in the middle of the headers, of the body.
const (
	partialHeaders = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	partialBody    = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part"
)

func TestClassifyRealFailures(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		timeout  time.Duration
		setup    func(t *testing.T, tr *http.Transport) string // starts the receiver, returns its URL
		send     func(t *testing.T, client *http.Client, url string) (*http.Response, error)
		wantType string
		wantMsg  string
	}{
		{
			name:     "connection refused",
			setup:    func(t *testing.T, _ *http.Transport) string { return refusedURL(t) },
			wantType: "connection_error",
			wantMsg:  "refused",
		},
		{
			name:     "client timeout before headers",
			timeout:  300 * time.Millisecond,
			setup:    func(t *testing.T, _ *http.Transport) string { return hanging(t, false).URL },
			wantType: "timeout",
		},
		{
			name:     "client timeout while reading the body",
			timeout:  300 * time.Millisecond,
			setup:    func(t *testing.T, _ *http.Transport) string { return hanging(t, true).URL },
			wantType: "timeout",
		},
		{
			name:  "context deadline",
			setup: func(t *testing.T, _ *http.Transport) string { return hanging(t, false).URL },
			send: func(t *testing.T, client *http.Client, url string) (*http.Response, error) {
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				defer cancel()
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{}`))
				if err != nil {
					t.Fatal(err)
				}
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				return resp, err
			},
			wantType: "timeout",
		},
		{
			name: "untrusted certificate",
			setup: func(t *testing.T, _ *http.Transport) string {
				return tlsReceiver(t).URL
			},
			wantType: "tls_error",
			wantMsg:  "certificate",
		},
		{
			name: "certificate for another name",
			setup: func(t *testing.T, tr *http.Transport) string {
				srv := tlsReceiver(t)
				// Trust the server's certificate, which does not name receiver.test.
				pool := x509.NewCertPool()
				pool.AddCert(srv.Certificate())
				tr.TLSClientConfig = &tls.Config{RootCAs: pool}
				return strings.Replace(srv.URL, "127.0.0.1", "receiver.test", 1)
			},
			wantType: "tls_error",
			wantMsg:  "receiver.test",
		},
		{
			name:     "https to a plain HTTP server",
			setup:    func(t *testing.T, _ *http.Transport) string { return plainAsHTTPS(t) },
			wantType: "tls_error",
		},
		{
			name:     "closed before answering",
			setup:    func(t *testing.T, _ *http.Transport) string { return closing(t, "", false) },
			wantType: "connection_error",
			wantMsg:  "EOF",
		},
		{
			name:     "closed in the middle of the headers",
			setup:    func(t *testing.T, _ *http.Transport) string { return closing(t, partialHeaders, false) },
			wantType: "connection_error",
			wantMsg:  "EOF",
		},
		{
			name:     "closed in the middle of the body",
			setup:    func(t *testing.T, _ *http.Transport) string { return closing(t, partialBody, false) },
			wantType: "connection_error",
			wantMsg:  "EOF",
		},
		{
			name:     "connection reset",
			setup:    func(t *testing.T, _ *http.Transport) string { return closing(t, "", true) },
			wantType: "connection_error",
			wantMsg:  "reset",
		},
		{
			name:     "unresolvable name",
			setup:    func(*testing.T, *http.Transport) string { return "http://no-such-receiver.invalid/hook" },
			wantType: "dns_error",
			wantMsg:  "no-such-receiver.invalid",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			client, tr := loopbackClient(t, timeout)
			url := tt.setup(t, tr)
			send := tt.send
			if send == nil {
				send = func(_ *testing.T, client *http.Client, url string) (*http.Response, error) {
					return post(client, url)
				}
			}
			resp, err := send(t, client, url)
			if err == nil {
				t.Fatalf("request to %s succeeded with status %d, want a failure", url, resp.StatusCode)
			}
			gotType, gotMsg := Classify(err, resp)
			t.Logf("%s: %s", gotType, gotMsg)
			if gotType != tt.wantType {
				t.Fatalf("Classify(%v) type = %q, want %q", err, gotType, tt.wantType)
			}
			if gotMsg == "" || !strings.Contains(gotMsg, tt.wantMsg) {
				t.Fatalf("Classify(%v) message = %q, want it to mention %q", err, gotMsg, tt.wantMsg)
			}
			if strings.HasPrefix(gotMsg, "Post ") {
				t.Errorf("message %q keeps the url.Error prefix", gotMsg)
			}
		})
	}
}

// tlsReceiver starts an httptest TLS server whose certificate the
// delivery transport does not trust; its handshake errors are not logged.
func tlsReceiver(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestClassifyResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status   int
		text     string // Status line text after the code; "" leaves Status empty
		wantType string
		wantMsg  string
	}{
		{200, "OK", "", ""},
		{201, "Created", "", ""},
		{204, "No Content", "", ""},
		{299, "", "", ""},
		{301, "Moved Permanently", "http_301", "HTTP 301 Moved Permanently"},
		{304, "Not Modified", "http_304", "HTTP 304 Not Modified"},
		{400, "Bad Request", "http_400", "HTTP 400 Bad Request"},
		{410, "Gone", "http_410", "HTTP 410 Gone"},
		{429, "Too Many Requests", "http_429", "HTTP 429 Too Many Requests"},
		{500, "Internal Server Error", "http_500", "HTTP 500 Internal Server Error"},
		{500, "Oops Something Broke", "http_500", "HTTP 500 Oops Something Broke"},
		{503, "", "http_503", "HTTP 503 Service Unavailable"},
		{599, "", "http_599", "HTTP 599"},
		{199, "", "http_199", "HTTP 199"},
	}
	for _, tt := range tests {
		resp := &http.Response{StatusCode: tt.status}
		if tt.text != "" {
			resp.Status = fmt.Sprintf("%d %s", tt.status, tt.text)
		}
		gotType, gotMsg := Classify(nil, resp)
		if gotType != tt.wantType || gotMsg != tt.wantMsg {
			t.Errorf("Classify(status %q) = %q, %q; want %q, %q", resp.Status, gotType, gotMsg, tt.wantType, tt.wantMsg)
		}
	}
	if typ, _ := Classify(nil, nil); typ != "connection_error" {
		t.Errorf("Classify(nil, nil) = %q, want connection_error", typ)
	}
}

func TestClassifyRealStatuses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var code int
		_, _ = fmt.Sscanf(r.URL.Path, "/%d", &code)
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	client, _ := loopbackClient(t, 5*time.Second)
	for code, want := range map[int]string{200: "", 202: "", 302: "http_302", 404: "http_404", 500: "http_500", 502: "http_502"} {
		resp, err := post(client, fmt.Sprintf("%s/%d", srv.URL, code))
		if err != nil {
			t.Fatalf("status %d: %v", code, err)
		}
		if got, _ := Classify(nil, resp); got != want {
			t.Errorf("status %d: Classify = %q, want %q", code, got, want)
		}
	}
}

func TestClassifyErrorChains(t *testing.T) {
	t.Parallel()
	blocked := &BlockedError{Addr: netip.MustParseAddr("10.1.2.3"), Reason: "private"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"blocked wrapped in OpError", &net.OpError{Op: "dial", Net: "tcp", Err: blocked}, "blocked_target"},
		{"blocked with a timeout beside it", errors.Join(context.DeadlineExceeded, fmt.Errorf("dial: %w", blocked)), "blocked_target"},
		{"dns not found", &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}, "dns_error"},
		{"dns timeout", &net.DNSError{Err: "i/o timeout", Name: "slow.test", IsTimeout: true}, "dns_error"},
		{"context deadline", fmt.Errorf("send: %w", context.DeadlineExceeded), "timeout"},
		{"io deadline", fmt.Errorf("read: %w", os.ErrDeadlineExceeded), "timeout"},
		{"tls record header", tls.RecordHeaderError{Msg: "bad record"}, "tls_error"},
		{"x509 unknown authority", fmt.Errorf("handshake: %w", x509.UnknownAuthorityError{}), "tls_error"},
		{"remote tls alert", &net.OpError{Op: "remote error", Err: errors.New("tls: bad certificate")}, "tls_error"},
		{"eof", io.EOF, "connection_error"},
		{"unexpected eof", io.ErrUnexpectedEOF, "connection_error"},
		{"canceled", context.Canceled, "connection_error"},
	}
	for _, tt := range tests {
		if got, msg := Classify(tt.err, nil); got != tt.want || msg == "" {
			t.Errorf("%s: Classify = %q, %q; want %q with a message", tt.name, got, msg, tt.want)
		}
	}
	// An error wins over a response.
	if got, _ := Classify(io.ErrUnexpectedEOF, &http.Response{StatusCode: 200}); got != "connection_error" {
		t.Errorf("error with a 200 response: Classify = %q, want connection_error", got)
	}
}

// A blocked target's message never tells what a host name resolved to; a
// target written as an address is named, since that tells nothing new.
func TestClassifyBlockedHidesResolution(t *testing.T) {
	t.Parallel()
	blocked := func(rawURL, addr string) error {
		be := &BlockedError{Addr: netip.MustParseAddr(addr), Reason: "loopback"}
		return &url.Error{Op: "Post", URL: rawURL, Err: &net.OpError{Op: "dial", Net: "tcp", Err: be}}
	}
	typ, msg := Classify(blocked("http://internal.example:8080/h", "127.0.0.1"), nil)
	if typ != "blocked_target" || strings.Contains(msg, "127.0.0.1") || strings.Contains(msg, "loopback") || !strings.Contains(msg, "not allowed") {
		t.Errorf("name: %s %q", typ, msg)
	}
	typ, msg = Classify(blocked("http://[::1]:8080/h", "::1"), nil)
	if typ != "blocked_target" || msg != "target address ::1 is not allowed (loopback)" {
		t.Errorf("literal: %s %q", typ, msg)
	}
	// A literal whose dialled address differs (it should not) is not named.
	if _, msg = Classify(blocked("http://93.184.216.34/h", "10.0.0.1"), nil); strings.Contains(msg, "10.0.0.1") {
		t.Errorf("mismatch: %q", msg)
	}
}
