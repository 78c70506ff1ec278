package redisstream_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookd/hookd/internal/destination/broker"
	"github.com/hookd/hookd/internal/destination/broker/brokertest"
	"github.com/hookd/hookd/internal/destination/redisstream"
)

const addr = "127.0.0.1:6379"

// setup returns a publisher dialing through a counting dialer and a client
// of the test's own for reading back; stream is a unique stream name,
// deleted at cleanup.
func setup(t testing.TB) (p *redisstream.Publisher, d *brokertest.Dialer, rdb *redis.Client, stream string) {
	t.Helper()
	brokertest.Require(t, "Redis", addr)
	d = &brokertest.Dialer{}
	p = redisstream.New(redisstream.Options{Dial: d.Dial, Timeout: 5 * time.Second})
	t.Cleanup(func() { _ = p.Close() })
	rdb = redis.NewClient(&redis.Options{Addr: addr})
	stream = brokertest.UniqueName(t, "hookd_test_")
	t.Cleanup(func() {
		rdb.Del(context.Background(), stream)
		_ = rdb.Close()
	})
	return p, d, rdb, stream
}

func message(url, id string) redisstream.Message {
	return redisstream.Message{
		URL:     url,
		EventID: id,
		Headers: map[string]string{
			"Content-Type":    "application/json",
			"X-Webhook-Event": "order.created",
			"X-Webhook-ID":    id,
			"webhook-id":      id,
		},
		Body: []byte(`{"id":"` + id + `","event":"order.created","data":{"n":1}}`),
	}
}

func TestPublishArrivesWithHeaders(t *testing.T) {
	p, _, rdb, stream := setup(t)
	m := message("redis://"+addr+"/0?stream="+stream, "evt_1")
	res := p.Publish(context.Background(), m)
	if !res.Success {
		t.Fatalf("%s %s", res.ErrorType, res.ErrorMessage)
	}
	entries, err := rdb.XRange(context.Background(), stream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("%d entries, want 1", len(entries))
	}
	if want := "stream " + stream + " entry " + entries[0].ID; res.Response != want {
		t.Errorf("response = %q, want %q", res.Response, want)
	}
	want := map[string]any{
		"body":            string(m.Body),
		"content-type":    "application/json",
		"x-webhook-event": "order.created",
		"x-webhook-id":    "evt_1",
		"webhook-id":      "evt_1",
	}
	if !reflect.DeepEqual(entries[0].Values, want) {
		t.Errorf("entry = %v, want %v", entries[0].Values, want)
	}
	if res.RequestHeaders["x-webhook-event"] != "order.created" {
		t.Errorf("request headers = %v", res.RequestHeaders)
	}
}

func TestPublishToOtherDatabase(t *testing.T) {
	p, _, _, stream := setup(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: 3})
	defer rdb.Close()
	defer rdb.Del(context.Background(), stream)
	if res := p.Publish(context.Background(), message("redis://"+addr+"/3?stream="+stream, "evt_1")); !res.Success {
		t.Fatalf("%s %s", res.ErrorType, res.ErrorMessage)
	}
	if n := rdb.XLen(context.Background(), stream).Val(); n != 1 {
		t.Errorf("database 3 has %d entries, want 1", n)
	}
}

func TestPublishFailures(t *testing.T) {
	p, _, rdb, stream := setup(t)
	// A key of another type: Redis answers WRONGTYPE.
	rdb.Set(context.Background(), stream, "x", 0)
	res := p.Publish(context.Background(), message("redis://"+addr+"?stream="+stream, "evt_1"))
	if res.ErrorType != broker.ErrTypeBroker || !strings.Contains(res.ErrorMessage, "WRONGTYPE") {
		t.Errorf("wrong type: %s %q, want broker_error with WRONGTYPE", res.ErrorType, res.ErrorMessage)
	}

	closed := fmt.Sprintf("127.0.0.1:%d", brokertest.FreePort(t))
	res = p.Publish(context.Background(), message("redis://"+closed+"?stream=s", "evt_1"))
	if res.ErrorType != broker.ErrTypeConnection {
		t.Errorf("refused: %s %q, want connection_error", res.ErrorType, res.ErrorMessage)
	}

	m := message("redis://"+addr+"?stream="+stream, "evt_1")
	m.Username, m.Password = "nobody", "wrong"
	res = p.Publish(context.Background(), m)
	if res.ErrorType != broker.ErrTypeBroker {
		t.Errorf("bad credentials: %s %q, want broker_error", res.ErrorType, res.ErrorMessage)
	}

	blocked := errors.New("blocked by the target checks")
	bp := redisstream.New(redisstream.Options{Dial: func(context.Context, string, string) (net.Conn, error) { return nil, blocked }})
	defer bp.Close()
	res = bp.Publish(context.Background(), message("redis://"+addr+"?stream="+stream, "evt_1"))
	if res.ErrorType != broker.ErrTypeConnection || !errors.Is(res.Err, blocked) {
		t.Errorf("dialer refuses: %s %v, want connection_error wrapping the dialer's error", res.ErrorType, res.Err)
	}
}

func TestConcurrentPublishesShareOneClient(t *testing.T) {
	p, _, rdb, stream := setup(t)
	url := "redis://" + addr + "?stream=" + stream
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res := p.Publish(context.Background(), message(url, fmt.Sprint("evt_", i))); !res.Success {
				t.Error(res.ErrorType, res.ErrorMessage)
			}
		}()
	}
	wg.Wait()
	if n := rdb.XLen(context.Background(), stream).Val(); n != 40 {
		t.Errorf("%d entries, want 40", n)
	}
}

// redisServer runs a redis-server of the test's own on port, with an
// append-only file fsynced on every write in dir, so what it acknowledged
// survives a kill -9.
func redisServer(t *testing.T, port int, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", dir, "--logfile", "")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for range 100 {
		if c, err := net.Dial("tcp", fmt.Sprint("127.0.0.1:", port)); err == nil {
			_ = c.Close()
			return cmd
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("redis-server did not start")
	return nil
}

func TestRestartLosesNothingAcknowledged(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	port := brokertest.FreePort(t)
	dir := t.TempDir()
	srv := redisServer(t, port, dir)
	d := &brokertest.Dialer{}
	p := redisstream.New(redisstream.Options{Dial: d.Dial, Timeout: 2 * time.Second})
	defer p.Close()
	url := fmt.Sprintf("redis://127.0.0.1:%d?stream=events", port)

	var acked []string
	publish := func(id string) Result {
		res := p.Publish(context.Background(), message(url, id))
		if res.Success {
			acked = append(acked, id)
		}
		return res
	}
	for i := range 5 {
		if res := publish(fmt.Sprint("evt_before_", i)); !res.Success {
			t.Fatalf("before the restart: %s %s", res.ErrorType, res.ErrorMessage)
		}
	}

	if err := srv.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = srv.Wait()
	if res := publish("evt_down"); res.Success || res.ErrorType != broker.ErrTypeConnection {
		t.Fatalf("broker down: success=%v %s %q, want connection_error", res.Success, res.ErrorType, res.ErrorMessage)
	}

	redisServer(t, port, dir)
	for i := range 5 {
		if res := publish(fmt.Sprint("evt_after_", i)); !res.Success {
			t.Fatalf("after the restart: %s %s", res.ErrorType, res.ErrorMessage)
		}
	}

	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprint("127.0.0.1:", port)})
	defer rdb.Close()
	entries, err := rdb.XRange(context.Background(), "events", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Values["x-webhook-id"].(string))
	}
	if !reflect.DeepEqual(got, acked) {
		t.Errorf("stream holds %v, want exactly what was acknowledged: %v", got, acked)
	}
}

type Result = redisstream.Result

func TestValidate(t *testing.T) {
	p := redisstream.New(redisstream.Options{})
	tests := []struct {
		url     string
		wantErr string
	}{
		{"redis://cache:6379/0?stream=events", ""},
		{"redis://cache?stream=events", ""},
		{"redis://cache/12?stream=a:b", ""},
		{"redis://cache/0", "stream"},
		{"redis://cache/x?stream=s", "database number"},
		{"redis://cache/-1?stream=s", "database number"},
		{"redis://:secret@cache/0?stream=s", "basic auth"},
		{"rediss://cache/0?stream=s", "scheme"},
		{"redis://cache/0?stream=s&maxlen=3", "unknown URL parameter"},
	}
	for _, tt := range tests {
		err := p.Validate(tt.url)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("Validate(%q) = %v", tt.url, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("Validate(%q) = %v, want an error about %q", tt.url, err, tt.wantErr)
		}
	}
}
