package outbound

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// countingConn counts the writes made on a connection.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestRequestGoesOutInOneWrite: a delivery's headers and body leave in
// one write (one segment on loopback, one wake-up of the receiver), as
// net/http does for bodies it knows are in memory; a body of a type it
// does not know has its headers flushed on their own first.
func TestRequestGoesOutInOneWrite(t *testing.T) {
	t.Parallel()
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer recv.Close()
	var writes atomic.Int64
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, writes: &writes}, nil
	}}
	defer tr.CloseIdleConnections()
	target := NewTarget(recv.URL+"/hook", map[string]string{"X-Team": "billing"}, "whsec_0123456789abcdef", "", nil)
	body := []byte(`{"id":"evt_1","event":"order.created","data":{"note":"` + strings.Repeat("x", 900) + `"}}`)
	for i := range 3 {
		h := http.Header{"Content-Type": {"application/json"}, "X-Webhook-Id": {"evt_1"}}
		before := writes.Load()
		resp, err := tr.RoundTrip(target.request(t.Context(), h, body))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n := writes.Load() - before; n != 1 {
			t.Fatalf("request %d went out in %d writes, want 1", i+1, n)
		}
	}
}
