package amqp_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/hookd/hookd/internal/destination/amqp"
	"github.com/hookd/hookd/internal/destination/broker"
	"github.com/hookd/hookd/internal/destination/broker/brokertest"
)

const addr = "127.0.0.1:5672"

// setup returns a publisher dialing through a counting dialer, and a
// channel of the test's own connection for declaring and reading back.
func setup(t testing.TB) (*amqp.Publisher, *brokertest.Dialer, *amqp091.Channel) {
	t.Helper()
	brokertest.Require(t, "RabbitMQ", addr)
	d := &brokertest.Dialer{}
	p := amqp.New(amqp.Options{Dial: d.Dial, Timeout: 10 * time.Second})
	t.Cleanup(func() { _ = p.Close() })
	conn, err := amqp091.Dial("amqp://guest:guest@" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return p, d, ch
}

// declareQueue declares a queue with a unique name, deleted at cleanup.
func declareQueue(t testing.TB, ch *amqp091.Channel) string {
	t.Helper()
	q, err := ch.QueueDeclare(brokertest.UniqueName(t, "hookd_test_"), true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = ch.QueueDelete(q.Name, false, false, false) })
	return q.Name
}

func message(url, id string) amqp.Message {
	return amqp.Message{
		URL:      url,
		Username: "guest",
		Password: "guest",
		EventID:  id,
		Headers: map[string]string{
			"Content-Type":    "application/json",
			"X-Webhook-Event": "order.created",
			"X-Webhook-ID":    id,
			"webhook-id":      id,
		},
		Body: []byte(`{"id":"` + id + `","event":"order.created","data":{"n":1}}`),
	}
}

// get reads one message from queue, waiting for it a little.
func get(t *testing.T, ch *amqp091.Channel, queue string) amqp091.Delivery {
	t.Helper()
	for range 50 {
		d, ok, err := ch.Get(queue, true)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return d
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no message in queue %s", queue)
	return amqp091.Delivery{}
}

func TestPublishArrivesWithHeaders(t *testing.T) {
	p, _, ch := setup(t)
	queue := declareQueue(t, ch)
	exchange := brokertest.UniqueName(t, "hookd_test_ex_")
	if err := ch.ExchangeDeclare(exchange, "direct", false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ch.ExchangeDelete(exchange, false, false) })
	if err := ch.QueueBind(queue, "orders", exchange, false, nil); err != nil {
		t.Fatal(err)
	}

	for _, url := range []string{
		"amqp://" + addr + "/?exchange=&routing_key=" + queue,               // the default exchange
		"amqp://" + addr + "/?exchange=" + exchange + "&routing_key=orders", // a named exchange
		"amqp://" + addr + "?routing_key=" + queue,                          // no path: vhost "/"
	} {
		m := message(url, "evt_"+brokertest.UniqueName(t, ""))
		res := p.Publish(context.Background(), m)
		if !res.Success {
			t.Fatalf("%s: %s %s", url, res.ErrorType, res.ErrorMessage)
		}
		if !strings.HasPrefix(res.Response, "confirmed delivery tag ") {
			t.Errorf("response = %q", res.Response)
		}
		if res.RequestHeaders["X-Webhook-Event"] != "order.created" {
			t.Errorf("request headers = %v", res.RequestHeaders)
		}
		got := get(t, ch, queue)
		if string(got.Body) != string(m.Body) {
			t.Errorf("body = %s, want %s", got.Body, m.Body)
		}
		for k, v := range m.Headers {
			if got.Headers[k] != v {
				t.Errorf("header %s = %v, want %s", k, got.Headers[k], v)
			}
		}
		if got.DeliveryMode != amqp091.Persistent || got.MessageId != m.EventID || got.ContentType != "application/json" {
			t.Errorf("delivery mode %d, message id %q, content type %q", got.DeliveryMode, got.MessageId, got.ContentType)
		}
	}
}

func TestPublishToMissingExchangeIsBrokerError(t *testing.T) {
	p, _, ch := setup(t)
	missing := brokertest.UniqueName(t, "hookd_missing_")
	res := p.Publish(context.Background(), message("amqp://"+addr+"/?exchange="+missing+"&routing_key=x", "evt_1"))
	if res.Success || res.ErrorType != broker.ErrTypeBroker {
		t.Fatalf("got success=%v %s %q, want broker_error", res.Success, res.ErrorType, res.ErrorMessage)
	}
	if !strings.Contains(res.ErrorMessage, "404") || !strings.Contains(res.ErrorMessage, "NOT_FOUND") {
		t.Errorf("message = %q, want the broker's 404 NOT_FOUND reason", res.ErrorMessage)
	}
	if res.Permanent {
		t.Error("a missing exchange may be declared later: want retryable")
	}

	// The same publisher and connection keep working for other targets,
	// and for the exchange once it exists.
	queue := declareQueue(t, ch)
	if res := p.Publish(context.Background(), message("amqp://"+addr+"/?routing_key="+queue, "evt_2")); !res.Success {
		t.Fatalf("after the 404: %s %s", res.ErrorType, res.ErrorMessage)
	}
	if err := ch.ExchangeDeclare(missing, "fanout", false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ch.ExchangeDelete(missing, false, false) })
	if err := ch.QueueBind(queue, "", missing, false, nil); err != nil {
		t.Fatal(err)
	}
	if res := p.Publish(context.Background(), message("amqp://"+addr+"/?exchange="+missing, "evt_3")); !res.Success {
		t.Fatalf("after declaring the exchange: %s %s", res.ErrorType, res.ErrorMessage)
	}
	for _, id := range []string{"evt_2", "evt_3"} {
		if got := get(t, ch, queue); got.MessageId != id {
			t.Errorf("message id = %q, want %q", got.MessageId, id)
		}
	}
}

func TestPublishFailures(t *testing.T) {
	brokertest.Require(t, "RabbitMQ", addr)
	closed := fmt.Sprintf("127.0.0.1:%d", brokertest.FreePort(t))
	blocked := errors.New("blocked by the target checks")
	tests := []struct {
		name     string
		dial     broker.DialFunc
		url      string
		user     string
		wantType string
		wantErr  error
	}{
		{name: "refused", url: "amqp://" + closed + "/?routing_key=q", wantType: broker.ErrTypeConnection},
		{name: "bad credentials", url: "amqp://" + addr + "/?routing_key=q", user: "nobody", wantType: broker.ErrTypeBroker},
		{name: "unknown vhost", url: "amqp://" + addr + "/no_such_vhost?routing_key=q", wantType: broker.ErrTypeBroker},
		{
			name: "dialer refuses", url: "amqp://" + addr + "/?routing_key=q", wantType: broker.ErrTypeConnection, wantErr: blocked,
			dial: func(context.Context, string, string) (net.Conn, error) { return nil, blocked },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := amqp.New(amqp.Options{Dial: tt.dial, Timeout: 5 * time.Second})
			defer p.Close()
			m := message(tt.url, "evt_1")
			if tt.user != "" {
				m.Username, m.Password = tt.user, "wrong"
			}
			res := p.Publish(context.Background(), m)
			if res.Success || res.ErrorType != tt.wantType {
				t.Fatalf("got success=%v %s %q, want %s", res.Success, res.ErrorType, res.ErrorMessage, tt.wantType)
			}
			if tt.wantErr != nil && !errors.Is(res.Err, tt.wantErr) {
				t.Errorf("Err = %v, want it to wrap %v", res.Err, tt.wantErr)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	// A listener that accepts and never answers the AMQP handshake.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	p := amqp.New(amqp.Options{Timeout: 300 * time.Millisecond})
	defer p.Close()
	res := p.Publish(context.Background(), message("amqp://"+l.Addr().String()+"/?routing_key=q", "evt_1"))
	if res.ErrorType != broker.ErrTypeTimeout {
		t.Fatalf("got %s %q, want timeout", res.ErrorType, res.ErrorMessage)
	}
}

func TestConnectionSharedAndReopened(t *testing.T) {
	p, d, ch := setup(t)
	queue := declareQueue(t, ch)
	url := "amqp://" + addr + "/?routing_key=" + queue

	var wg sync.WaitGroup
	errs := make(chan string, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res := p.Publish(context.Background(), message(url, fmt.Sprint("evt_", i))); !res.Success {
				errs <- res.ErrorType + " " + res.ErrorMessage
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if d.Dials() != 1 {
		t.Errorf("40 concurrent publishes dialed %d times, want 1", d.Dials())
	}

	// Cut the connection as a broker restart would: publishes fail as
	// connection_error (never a success on the dead connection) until one
	// reconnects.
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
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if q.Messages != 41 {
		t.Errorf("queue holds %d messages, want 41", q.Messages)
	}
}

func TestValidate(t *testing.T) {
	p := amqp.New(amqp.Options{})
	tests := []struct {
		url     string
		wantErr string
	}{
		{"amqp://rabbit:5672/?exchange=events&routing_key=orders", ""},
		{"amqp://rabbit/vh?exchange=events", ""},
		{"amqp://rabbit/%2Fprod?routing_key=q", ""},
		{"amqp://rabbit/?exchange=&routing_key=jobs", ""},
		{"amqp://rabbit/", "routing_key"},
		{"http://rabbit/?routing_key=q", "scheme"},
		{"amqp://guest:guest@rabbit/?routing_key=q", "basic auth"},
		{"amqp:///?routing_key=q", "host"},
		{"amqp://rabbit:99999/?routing_key=q", "port"},
		{"amqp://rabbit/a/b?routing_key=q", "virtual host"},
		{"amqp://rabbit/?routing_key=q&queue=x", "unknown URL parameter"},
		{"amqp://rabbit/?routing_key=q#x", "fragment"},
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
	got, err := amqp.ParseURL("amqp://rabbit/%2Fprod?exchange=ex&routing_key=k")
	if err != nil || got != (amqp.Target{Addr: "rabbit:5672", Vhost: "/prod", Exchange: "ex", RoutingKey: "k"}) {
		t.Errorf("ParseURL = %+v, %v", got, err)
	}
}
