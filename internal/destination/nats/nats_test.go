package nats_test

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

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookd/hookd/internal/destination/broker"
	"github.com/hookd/hookd/internal/destination/broker/brokertest"
	"github.com/hookd/hookd/internal/destination/nats"
)

const addr = "127.0.0.1:4222"

// setup returns a publisher dialing through a counting dialer, a stream of
// the test's own bound to the returned subject (deleted at cleanup) and a
// JetStream context for reading back.
func setup(t testing.TB) (*nats.Publisher, *brokertest.Dialer, jetstream.Stream, string) {
	t.Helper()
	brokertest.Require(t, "NATS", addr)
	d := &brokertest.Dialer{}
	p := nats.New(nats.Options{Dial: d.Dial, Timeout: 5 * time.Second})
	t.Cleanup(func() { _ = p.Close() })
	stream, subject := createStream(t, "nats://"+addr, jetstream.MemoryStorage)
	return p, d, stream, subject
}

// createStream creates a stream with a unique name on the server at url,
// bound to a unique subject; both are deleted at cleanup.
func createStream(t testing.TB, url string, storage jetstream.StorageType) (jetstream.Stream, string) {
	t.Helper()
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	name := brokertest.UniqueName(t, "HOOKD_TEST_")
	subject := "hookd.test." + name
	stream, err := js.CreateStream(context.Background(), jetstream.StreamConfig{
		Name: name, Subjects: []string{subject}, Storage: storage, Duplicates: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), name) })
	return stream, subject
}

func message(url, id string) nats.Message {
	return nats.Message{
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
	p, _, stream, subject := setup(t)
	m := message("nats://"+addr+"/"+subject, "evt_1")
	res := p.Publish(context.Background(), m)
	if !res.Success {
		t.Fatalf("%s %s", res.ErrorType, res.ErrorMessage)
	}
	name := stream.CachedInfo().Config.Name
	if want := "stream " + name + " seq 1"; res.Response != want {
		t.Errorf("response = %q, want %q", res.Response, want)
	}
	if res.RequestHeaders["Nats-Msg-Id"] != "evt_1" || res.RequestHeaders["X-Webhook-Event"] != "order.created" {
		t.Errorf("request headers = %v", res.RequestHeaders)
	}
	got, err := stream.GetMsg(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data) != string(m.Body) {
		t.Errorf("body = %s, want %s", got.Data, m.Body)
	}
	for k, v := range m.Headers {
		if got.Header.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, got.Header.Get(k), v)
		}
	}
	if got.Header.Get("Nats-Msg-Id") != "evt_1" {
		t.Errorf("Nats-Msg-Id = %q", got.Header.Get("Nats-Msg-Id"))
	}
}

func TestRetriedEventIsDeduplicated(t *testing.T) {
	p, _, stream, subject := setup(t)
	url := "nats://" + addr + "/" + subject
	first := p.Publish(context.Background(), message(url, "evt_1"))
	again := p.Publish(context.Background(), message(url, "evt_1"))
	if !first.Success || !again.Success {
		t.Fatalf("%+v %+v", first, again)
	}
	if !strings.HasSuffix(again.Response, "seq 1 (duplicate)") {
		t.Errorf("retry response = %q, want the first's sequence marked duplicate", again.Response)
	}
	info, err := stream.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("stream holds %d messages, want 1", info.State.Msgs)
	}
}

func TestPublishFailures(t *testing.T) {
	brokertest.Require(t, "NATS", addr)
	p := nats.New(nats.Options{Timeout: 3 * time.Second})
	defer p.Close()

	res := p.Publish(context.Background(), message("nats://"+addr+"/"+brokertest.UniqueName(t, "hookd.nostream."), "evt_1"))
	if res.ErrorType != broker.ErrTypeBroker || !strings.Contains(res.ErrorMessage, "stream") {
		t.Errorf("no stream: %s %q, want broker_error", res.ErrorType, res.ErrorMessage)
	}

	closed := fmt.Sprintf("127.0.0.1:%d", brokertest.FreePort(t))
	res = p.Publish(context.Background(), message("nats://"+closed+"/s", "evt_1"))
	if res.ErrorType != broker.ErrTypeConnection {
		t.Errorf("refused: %s %q, want connection_error", res.ErrorType, res.ErrorMessage)
	}

	// The dialer gets the host name as written, to resolve and check.
	blocked := errors.New("blocked by the target checks")
	var dialed string
	bp := nats.New(nats.Options{Dial: func(_ context.Context, _, a string) (net.Conn, error) { dialed = a; return nil, blocked }})
	defer bp.Close()
	res = bp.Publish(context.Background(), message("nats://localhost:4222/s", "evt_1"))
	if res.ErrorType != broker.ErrTypeConnection || !errors.Is(res.Err, blocked) {
		t.Errorf("dialer refuses: %s %v, want connection_error wrapping the dialer's error", res.ErrorType, res.Err)
	}
	if dialed != "localhost:4222" {
		t.Errorf("dialer got %q, want the unresolved localhost:4222", dialed)
	}
}

func TestConnectionSharedAndReopened(t *testing.T) {
	p, d, stream, subject := setup(t)
	url := "nats://" + addr + "/" + subject
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
	if d.Dials() != 1 {
		t.Errorf("40 concurrent publishes dialed %d times, want 1", d.Dials())
	}
	d.CutAll()
	var ok bool
	for range 5 {
		res := p.Publish(context.Background(), message(url, "evt_after"))
		if res.Success {
			ok = true
			break
		}
		if res.ErrorType != broker.ErrTypeConnection {
			t.Fatalf("after the cut: %s %q, want connection_error", res.ErrorType, res.ErrorMessage)
		}
	}
	if !ok || d.Dials() != 2 {
		t.Fatalf("no reconnect: success=%v dials=%d", ok, d.Dials())
	}
	if info, _ := stream.Info(context.Background()); info.State.Msgs != 41 {
		t.Errorf("stream holds %d messages, want 41", info.State.Msgs)
	}
}

// natsServer runs a nats-server of the test's own with JetStream storing
// in dir.
func natsServer(t *testing.T, port int, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("nats-server", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	for range 100 {
		if nc, err := natsgo.Connect(url); err == nil {
			js, _ := jetstream.New(nc)
			_, err = js.AccountInfo(context.Background())
			nc.Close()
			if err == nil {
				return cmd
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("nats-server did not start")
	return nil
}

func TestRestartLosesNothingAcknowledged(t *testing.T) {
	if _, err := exec.LookPath("nats-server"); err != nil {
		t.Skip("nats-server not installed")
	}
	port := brokertest.FreePort(t)
	dir := t.TempDir()
	srv := natsServer(t, port, dir)
	serverURL := fmt.Sprintf("nats://127.0.0.1:%d", port)
	_, subject := createStream(t, serverURL, jetstream.FileStorage)
	p := nats.New(nats.Options{Timeout: 2 * time.Second})
	defer p.Close()
	url := serverURL + "/" + subject

	var acked []string
	publish := func(id string) nats.Result {
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
	natsServer(t, port, dir)
	for i := range 5 {
		if res := publish(fmt.Sprint("evt_after_", i)); !res.Success {
			t.Fatalf("after the restart: %s %s", res.ErrorType, res.ErrorMessage)
		}
	}

	nc, err := natsgo.Connect(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	stream, err := js.StreamNameBySubject(context.Background(), subject)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for seq := uint64(1); ; seq++ {
		msg, err := s.GetMsg(context.Background(), seq)
		if err != nil {
			break
		}
		got = append(got, msg.Header.Get("Nats-Msg-Id"))
	}
	if !reflect.DeepEqual(got, acked) {
		t.Errorf("stream holds %v, want exactly what was acknowledged: %v", got, acked)
	}
}

func TestValidate(t *testing.T) {
	p := nats.New(nats.Options{})
	tests := []struct {
		url     string
		wantErr string
	}{
		{"nats://nats:4222/orders.created", ""},
		{"nats://nats/orders", ""},
		{"nats://nats:4222/", "subject"},
		{"nats://nats:4222/orders.*", "wildcards"},
		{"nats://nats:4222/orders.>", "wildcards"},
		{"nats://nats:4222/orders..x", "empty tokens"},
		{"nats://nats:4222/orders%20x", "whitespace"},
		{"nats://nats:4222/orders?x=1", "no parameters"},
		{"nats://u:p@nats:4222/orders", "basic auth"},
		{"tls://nats:4222/orders", "scheme"},
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
