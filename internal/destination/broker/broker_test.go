package broker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/destination/broker"
)

// fakeConn is a connection a test can break.
type fakeConn struct {
	broken atomic.Bool
	closed atomic.Bool
}

func (c *fakeConn) Healthy() bool { return !c.broken.Load() && !c.closed.Load() }
func (c *fakeConn) Close() error  { c.closed.Store(true); return nil }

// opener counts the connections it opens and can be made to fail.
type opener struct {
	mu    sync.Mutex
	opens int
	err   error
	conns []*fakeConn
}

func (o *opener) open(context.Context, broker.Key) (*fakeConn, error) {
	time.Sleep(10 * time.Millisecond) // a connect takes a while
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return nil, o.err
	}
	o.opens++
	c := &fakeConn{}
	o.conns = append(o.conns, c)
	return c, nil
}

func TestCacheSharesOneConnectionPerKey(t *testing.T) {
	o := &opener{}
	c := broker.NewCache(o.open, nil)
	defer c.Close()
	a := broker.Key{Addr: "a:1", Username: "u", Password: "p"}
	other := broker.Key{Addr: "a:1", Username: "u", Password: "other"}

	var wg sync.WaitGroup
	got := make([]*fakeConn, 20)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := c.Get(context.Background(), a)
			if err != nil {
				t.Error(err)
			}
			got[i] = conn
		}()
	}
	wg.Wait()
	for _, conn := range got {
		if conn != got[0] {
			t.Fatal("concurrent Gets of one key returned different connections")
		}
	}
	if conn, _ := c.Get(context.Background(), other); conn == got[0] {
		t.Error("other credentials share the connection")
	}
	if o.opens != 2 {
		t.Errorf("opened %d connections, want 2 (one per key)", o.opens)
	}
}

func TestCacheReopensBrokenConnection(t *testing.T) {
	o := &opener{}
	c := broker.NewCache(o.open, nil)
	defer c.Close()
	k := broker.Key{Addr: "a:1"}
	first, _ := c.Get(context.Background(), k)
	first.broken.Store(true)
	second, err := c.Get(context.Background(), k)
	if err != nil || second == first || !first.closed.Load() {
		t.Fatalf("after a break: same=%v err=%v old closed=%v", second == first, err, first.closed.Load())
	}

	c.Drop(k, first) // no longer k's connection: nothing happens
	if second.closed.Load() {
		t.Fatal("Drop of an old connection closed the current one")
	}
	c.Drop(k, second)
	third, _ := c.Get(context.Background(), k)
	if third == second || !second.closed.Load() {
		t.Fatal("Drop did not replace the connection")
	}

	o.err = errors.New("refused")
	third.broken.Store(true)
	if _, err := c.Get(context.Background(), k); !errors.Is(err, o.err) {
		t.Fatalf("Get = %v, want the open error", err)
	}
	o.err = nil
	if _, err := c.Get(context.Background(), k); err != nil {
		t.Fatalf("Get after the broker came back: %v", err)
	}
}

func TestCacheClose(t *testing.T) {
	o := &opener{}
	c := broker.NewCache(o.open, nil)
	conn, _ := c.Get(context.Background(), broker.Key{Addr: "a:1"})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !conn.closed.Load() {
		t.Error("Close left a connection open")
	}
	if _, err := c.Get(context.Background(), broker.Key{Addr: "a:1"}); !errors.Is(err, broker.ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
}

func TestCacheClosesIdleConnections(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	o := &opener{}
	c := broker.NewCache(o.open, clock)
	defer c.Close()
	idle, _ := c.Get(context.Background(), broker.Key{Addr: "idle:1"})
	advance(11 * time.Minute)
	if _, err := c.Get(context.Background(), broker.Key{Addr: "busy:1"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for !idle.closed.Load() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !idle.closed.Load() {
		t.Fatal("a connection unused for 11 minutes is still open")
	}
	if again, _ := c.Get(context.Background(), broker.Key{Addr: "idle:1"}); again == idle {
		t.Fatal("the closed idle connection was handed out again")
	}
}

func TestCacheGetHonoursContextWhileAnotherConnects(t *testing.T) {
	release := make(chan struct{})
	c := broker.NewCache(func(ctx context.Context, k broker.Key) (*fakeConn, error) {
		<-release
		return &fakeConn{}, nil
	}, nil)
	defer c.Close()
	go func() { _, _ = c.Get(context.Background(), broker.Key{Addr: "slow:1"}) }()
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Get(ctx, broker.Key{Addr: "slow:1"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get = %v, want the context's deadline", err)
	}
	close(release)
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err       error
		want      string
		permanent bool
	}{
		{broker.BrokerError("channel closed by the broker: 404 NOT_FOUND"), broker.ErrTypeBroker, false},
		{&broker.Failure{Type: broker.ErrTypeBroker, Permanent: true, Err: errors.New("too large")}, broker.ErrTypeBroker, true},
		{fmt.Errorf("publish: %w", context.DeadlineExceeded), broker.ErrTypeTimeout, false},
		{&net.OpError{Op: "dial", Err: errTimeout{}}, broker.ErrTypeTimeout, false},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, broker.ErrTypeConnection, false},
		{&net.DNSError{Err: "no such host", Name: "x"}, broker.ErrTypeConnection, false},
		{broker.ConnectionError(context.DeadlineExceeded), broker.ErrTypeConnection, false},
	}
	for _, tt := range tests {
		got, permanent := broker.Classify(tt.err)
		if got != tt.want || permanent != tt.permanent {
			t.Errorf("Classify(%v) = %s, %v; want %s, %v", tt.err, got, permanent, tt.want, tt.permanent)
		}
	}
}

type errTimeout struct{}

func (errTimeout) Error() string   { return "i/o timeout" }
func (errTimeout) Timeout() bool   { return true }
func (errTimeout) Temporary() bool { return true }

func TestFinish(t *testing.T) {
	start := time.Unix(100, 0)
	now := func() time.Time { return start.Add(1500 * time.Millisecond) }
	ok := broker.Finish(broker.Result{Response: "entry 1-0"}, nil, start, now)
	if !ok.Success || ok.Duration != 1500*time.Millisecond || ok.ErrorType != "" {
		t.Errorf("success: %+v", ok)
	}
	err := broker.BrokerError("WRONGTYPE")
	failed := broker.Finish(broker.Result{}, err, start, now)
	if failed.Success || failed.ErrorType != broker.ErrTypeBroker || failed.ErrorMessage != "WRONGTYPE" || failed.Err != err {
		t.Errorf("failure: %+v", failed)
	}
}

func TestLogHeadersMasksSecrets(t *testing.T) {
	got := broker.LogHeaders(map[string]string{"X-Api-Key": "k", "Authorization": "Bearer x", "X-Webhook-Event": "order.created"})
	if got["X-Api-Key"] != "********" || got["Authorization"] != "********" || got["X-Webhook-Event"] != "order.created" {
		t.Errorf("LogHeaders = %v", got)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw      string
		wantAddr string
		wantErr  string
	}{
		{"nats://h/x", "h:4222", ""},
		{"nats://h:5/x", "h:5", ""},
		{"nats://[::1]:5/x", "[::1]:5", ""},
		{"NATS://h/x", "h:4222", ""},
		{"nats://h:/x", "", "port"},
		{"nats://h:0/x", "", "port"},
		{"nats://u@h/x", "", "basic auth"},
		{"nats:h/x", "", "nats://host"},
		{"nats:///x", "", "host"},
		{"http://h/x", "", "scheme"},
		{"nats://h/x#f", "", "fragment"},
		{"nats://h/%zz", "", "invalid URL"},
	}
	for _, tt := range tests {
		_, addr, err := broker.ParseURL(tt.raw, "nats", "4222")
		switch {
		case tt.wantErr == "" && (err != nil || addr != tt.wantAddr):
			t.Errorf("ParseURL(%q) = %q, %v; want %q", tt.raw, addr, err, tt.wantAddr)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParseURL(%q) = %v, want an error about %q", tt.raw, err, tt.wantErr)
		}
	}
}
