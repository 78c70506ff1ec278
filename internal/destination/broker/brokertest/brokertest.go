// Package brokertest helps the broker destinations' tests: it finds the
// machine's brokers (skipping when one is not answering, unless
// HOOKD_TEST_REQUIRE_BROKERS=1), hands out unique names and free ports,
// and offers a dialer whose connections a test can cut.
package brokertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Require skips the test when nothing answers on addr, or fails it when
// HOOKD_TEST_REQUIRE_BROKERS=1 (CI starts the brokers).
func Require(t testing.TB, name, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		_ = c.Close()
		return
	}
	if os.Getenv("HOOKD_TEST_REQUIRE_BROKERS") == "1" {
		t.Fatalf("%s is not answering on %s: %v", name, addr, err)
	}
	t.Skipf("%s is not answering on %s (set HOOKD_TEST_REQUIRE_BROKERS=1 to fail instead): %v", name, addr, err)
}

// UniqueName returns prefix followed by the test's name and a random
// suffix, made of letters, digits and '_' only, so it is a valid queue,
// stream, subject token and topic level on every broker.
func UniqueName(t testing.TB, prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name())
	if len(name) > 40 {
		name = name[:40]
	}
	return prefix + name + "_" + hex.EncodeToString(b[:])
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Dialer dials with a net.Dialer, counts the dials and keeps the
// connections so a test can cut them as a broker restart would.
type Dialer struct {
	mu    sync.Mutex
	dials int
	conns []net.Conn
}

// Dial is a broker.DialFunc.
func (d *Dialer) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.dials++
	d.conns = append(d.conns, c)
	d.mu.Unlock()
	return c, nil
}

// Dials returns how many connections were opened.
func (d *Dialer) Dials() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dials
}

// CutAll closes every connection opened so far.
func (d *Dialer) CutAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		_ = c.Close()
	}
	d.conns = nil
}

// Body900 is a 900-byte JSON body for the throughput benchmarks.
var Body900 = func() []byte {
	head := `{"id":"evt_bench","event":"order.created","version":"1.0","timestamp":"2026-01-01T00:00:00Z","data":{"pad":"`
	tail := `"}}`
	return []byte(head + strings.Repeat("x", 900-len(head)-len(tail)) + tail)
}()

// Publishers is how many goroutines publish at once in the benchmarks.
const Publishers = 32

// BenchmarkPublishers runs b.N publishes spread over Publishers goroutines
// and reports messages/s; publish(i) sends message i and returns its
// error, which fails the benchmark.
func BenchmarkPublishers(b *testing.B, publish func(i int) error) {
	b.Helper()
	var next sync.WaitGroup
	work := make(chan int, Publishers)
	errs := make(chan error, Publishers)
	b.ResetTimer()
	start := time.Now()
	for range Publishers {
		next.Add(1)
		go func() {
			defer next.Done()
			for i := range work {
				if err := publish(i); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range b.N {
		work <- i
	}
	close(work)
	next.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// FuzzURL feeds a URL parser of one broker kind with seeds and whatever
// the fuzzer makes of them, and checks what it accepts: a host:port with
// a port from 1 to 65535, from a URL of the kind's scheme without
// credentials or fragment. target returns the accepted URL's address,
// and whatever else the kind checks (a topic, a stream) as an error.
func FuzzURL(f *testing.F, scheme string, seeds []string, target func(raw string) (addr string, err error)) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		addr, err := target(raw)
		if err != nil {
			return
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host == "" {
			t.Fatalf("%q accepted with address %q: %v", raw, addr, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			t.Fatalf("%q accepted with port %q", raw, port)
		}
		u, err := url.Parse(raw)
		if err != nil || !strings.EqualFold(u.Scheme, scheme) || u.User != nil || strings.Contains(raw, "#") {
			t.Fatalf("%q accepted: %v", raw, err)
		}
	})
}
