package e2e

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookd/hookd/internal/destination/broker/brokertest"
)

// The machine's brokers (docs/api.md §14). A test that needs one skips when
// it is not answering, unless HOOKD_TEST_REQUIRE_BROKERS=1.
const (
	rabbitAddr = "127.0.0.1:5672"
	natsAddr   = "127.0.0.1:4222"
	redisAddr  = "127.0.0.1:6379"
	mqttAddr   = "127.0.0.1:1883"
)

// brokerMessage is one message as the broker's own client read it back.
type brokerMessage struct {
	Body    []byte
	Headers http.Header
}

// brokerTarget is where a test's webhook publishes on one broker, and how
// to read back what arrived there.
type brokerTarget struct {
	URL  string
	next func(t *testing.T) brokerMessage
	// declareExchange (RabbitMQ only) declares a fanout exchange bound to
	// the target's queue.
	declareExchange func(t *testing.T, name string)
}

// headersOf turns message headers into an http.Header for checking.
func headersOf[M ~map[string]V, V any](m M) http.Header {
	h := http.Header{}
	for k, v := range m {
		if vs, ok := any(v).([]string); ok && len(vs) > 0 {
			h.Set(k, vs[0])
			continue
		}
		h.Set(k, fmt.Sprint(v))
	}
	return h
}

// rabbitQueue declares a queue of the test's own on the default exchange.
func rabbitQueue(t *testing.T) brokerTarget {
	t.Helper()
	brokertest.Require(t, "RabbitMQ", rabbitAddr)
	conn, err := amqp091.Dial("amqp://guest:guest@" + rabbitAddr + "/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclare(brokertest.UniqueName(t, "hookd_e2e_"), false, true, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return brokerTarget{
		URL: "amqp://" + rabbitAddr + "/?routing_key=" + q.Name,
		next: func(t *testing.T) brokerMessage {
			t.Helper()
			for range 500 {
				d, ok, err := ch.Get(q.Name, true)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					if d.DeliveryMode != amqp091.Persistent {
						t.Errorf("delivery mode %d, want persistent", d.DeliveryMode)
					}
					return brokerMessage{Body: d.Body, Headers: headersOf(d.Headers)}
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Fatalf("nothing arrived in queue %s", q.Name)
			return brokerMessage{}
		},
		declareExchange: func(t *testing.T, name string) {
			t.Helper()
			if err := ch.ExchangeDeclare(name, "fanout", false, true, false, false, nil); err != nil {
				t.Fatal(err)
			}
			if err := ch.QueueBind(q.Name, "", name, false, nil); err != nil {
				t.Fatal(err)
			}
		},
	}
}

// natsStream creates a JetStream stream of the test's own on the server
// at url (file storage, so it outlives a restart).
func natsStream(t *testing.T, url string) (brokerTarget, jetstream.Stream) {
	t.Helper()
	nc, err := natsgo.Connect(url, natsgo.MaxReconnects(-1), natsgo.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	name := brokertest.UniqueName(t, "HOOKD_E2E_")
	subject := "hookd.e2e." + name
	stream, err := js.CreateStream(context.Background(), jetstream.StreamConfig{
		Name: name, Subjects: []string{subject}, Storage: jetstream.FileStorage, Duplicates: 5 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), name) })
	seq := uint64(0)
	return brokerTarget{
		URL: url + "/" + subject,
		next: func(t *testing.T) brokerMessage {
			t.Helper()
			seq++
			for range 500 {
				m, err := stream.GetMsg(context.Background(), seq)
				if err == nil {
					return brokerMessage{Body: m.Data, Headers: headersOf(m.Header)}
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Fatalf("message %d never arrived in stream %s", seq, name)
			return brokerMessage{}
		},
	}, stream
}

// redisStream names a stream of the test's own in database 0.
func redisStream(t *testing.T) brokerTarget {
	t.Helper()
	brokertest.Require(t, "Redis", redisAddr)
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { _ = rdb.Close() })
	name := brokertest.UniqueName(t, "hookd_e2e_")
	t.Cleanup(func() { rdb.Del(context.Background(), name) })
	last := "0"
	return brokerTarget{
		URL: "redis://" + redisAddr + "/0?stream=" + name,
		next: func(t *testing.T) brokerMessage {
			t.Helper()
			res, err := rdb.XRead(context.Background(), &redis.XReadArgs{Streams: []string{name, last}, Count: 1, Block: 10 * time.Second}).Result()
			if err != nil || len(res) != 1 || len(res[0].Messages) != 1 {
				t.Fatalf("XREAD %s: %v %v", name, res, err)
			}
			entry := res[0].Messages[0]
			last = entry.ID
			body, _ := entry.Values["body"].(string)
			delete(entry.Values, "body")
			return brokerMessage{Body: []byte(body), Headers: headersOf(entry.Values)}
		},
	}
}

// mqttTopic subscribes to a topic of the test's own with mosquitto_sub
// (MQTT 5, QoS 1), which prints each message as JSON.
func mqttTopic(t *testing.T) brokerTarget {
	t.Helper()
	brokertest.Require(t, "Mosquitto", mqttAddr)
	if _, err := exec.LookPath("mosquitto_sub"); err != nil {
		if os.Getenv("HOOKD_TEST_REQUIRE_BROKERS") == "1" {
			t.Fatal("mosquitto_sub is not installed")
		}
		t.Skip("mosquitto_sub is not installed")
	}
	topic := "hookd/e2e/" + brokertest.UniqueName(t, "")
	host, port, _ := strings.Cut(mqttAddr, ":")
	// stdbuf: mosquitto_sub's stdout is a pipe here, which it would
	// otherwise flush only at exit.
	sub := exec.Command("stdbuf", "-oL", "mosquitto_sub", "-h", host, "-p", port, "-V", "5", "-q", "1", "-t", topic, "-F", "%j", "-d")
	out, err := sub.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Process.Kill(); _ = sub.Wait() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(t *testing.T, json bool) string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatal("mosquitto_sub ended")
				}
				if !json || strings.HasPrefix(l, "{") {
					return l
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("nothing arrived on %s", topic)
			}
		}
	}
	for !strings.Contains(next(t, false), "SUBACK") { // subscribed: ready
	}
	return brokerTarget{
		URL: "mqtt://" + mqttAddr + "/" + topic,
		next: func(t *testing.T) brokerMessage {
			t.Helper()
			var m struct {
				QoS        int    `json:"qos"`
				Payload    string `json:"payload"`
				Properties struct {
					UserProperties map[string]string `json:"user-properties"`
				} `json:"properties"`
			}
			if err := json.Unmarshal([]byte(next(t, true)), &m); err != nil {
				t.Fatal(err)
			}
			if m.QoS != 1 {
				t.Errorf("QoS %d, want 1", m.QoS)
			}
			return brokerMessage{Body: []byte(m.Payload), Headers: headersOf(m.Properties.UserProperties)}
		},
	}
}

// checkSigned checks that a message carries the §6 headers of event id
// and both signatures of its body.
func checkSigned(t *testing.T, got brokerMessage, secret, id string) {
	t.Helper()
	h := got.Headers
	if body := decodeEvent(t, got.Body); body.ID != id || body.Event != "order.created" || body.Data["order_id"] != "ORD-1" {
		t.Errorf("body %s", got.Body)
	}
	if h.Get("Content-Type") != "application/json" || !strings.HasPrefix(h.Get("User-Agent"), "hookd/") || h.Get("X-Tenant") != "acme" ||
		h.Get("X-Webhook-Event") != "order.created" || h.Get("X-Webhook-ID") != id || h.Get("X-Webhook-Delivery") == "" {
		t.Errorf("headers %v", h)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(got.Body, h); err != nil {
		t.Errorf("standard webhooks verify: %v (headers %v)", err, h)
	}
	key, _ := decodeWhsec(secret)
	mac := hmac.New(sha256.New, key)
	mac.Write(got.Body)
	if h.Get("X-Webhook-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		t.Errorf("X-Webhook-Signature %q", h.Get("X-Webhook-Signature"))
	}
}

// TestBrokerWebhooksDeliverSigned: a webhook whose URL names a broker
// gets its events there, with the §6 headers its receiver verifies, the
// broker's answer in the log, and test sends.
func TestBrokerWebhooksDeliverSigned(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for name, target := range map[string]func(t *testing.T) brokerTarget{
		"rabbitmq": rabbitQueue,
		"nats": func(t *testing.T) brokerTarget {
			brokertest.Require(t, "NATS", natsAddr)
			target, _ := natsStream(t, "nats://"+natsAddr)
			return target
		},
		"redis": redisStream,
		"mqtt":  mqttTopic,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := target(t)
			tok := token(t, "acme-"+name, "alice", "events:publish")
			id, secret := createHook(t, s, tok, `{"name":"`+name+`","url":"`+b.URL+`","events":["order.*"],"headers":{"X-Tenant":"acme"}}`)
			ev := publish(t, s, tok, "order.created", orderPayload).must(t, 202).data()["event"].(map[string]any)
			evID := ev["id"].(string)
			checkSigned(t, b.next(t), secret, evID)

			seen := ""
			eventually(t, 10*time.Second, "log recorded as success", func() bool {
				logs := s.do("GET", "/api/webhooks/"+id+"/logs/", tok, nil).must(t, 200).data()["logs"].([]any)
				if len(logs) == 1 && logs[0].(map[string]any)["status"] == "success" {
					return true
				}
				if now := fmt.Sprint(logs); now != seen {
					seen = now
					t.Logf("logs: %s", now)
				}
				return false
			})
			entry := s.do("GET", "/api/webhooks/"+id+"/logs/", tok, nil).data()["logs"].([]any)[0].(map[string]any)
			if entry["response_code"] != nil || entry["response_body"] == "" || entry["event_id"] != evID {
				t.Errorf("log entry %v", entry)
			}
			detail := s.do("GET", fmt.Sprintf("/api/webhooks/%s/logs/%v/", id, entry["id"]), tok, nil).must(t, 200)
			att := detail.data()["log"].(map[string]any)["attempts"].([]any)
			if sent := att[0].(map[string]any)["request_headers"].(map[string]any); len(att) != 1 || sent["X-Webhook-Signature"] == nil && sent["x-webhook-signature"] == nil {
				t.Errorf("attempts %v", att)
			}
			hook := s.do("GET", "/api/webhooks/"+id, tok, nil).must(t, 200).data()["webhook"].(map[string]any)
			if hook["success_count"] != 1.0 {
				t.Errorf("counters %v", hook)
			}

			r := s.do("POST", "/api/webhooks/"+id+"/test/", tok, `{"event":"order.created","payload":`+orderPayload+`}`).must(t, 200)
			if res := r.data()["test_result"].(map[string]any); res["status"] != "success" || res["response_body"] == "" {
				t.Fatalf("test send: %s", r.Raw)
			}
			if got := b.next(t); !decodeEvent(t, got.Body).Test {
				t.Errorf("test send body %s", got.Body)
			}
		})
	}
}

// TestBrokerRefusalIsBrokerError: a publish to a missing RabbitMQ
// exchange fails as broker_error with the broker's reason, is retried, is
// counted in the stats and switches the webhook off; once the exchange
// exists, switching it on and recovering delivers the event.
func TestBrokerRefusalIsBrokerError(t *testing.T) {
	t.Parallel()
	b := rabbitQueue(t)
	s := startServer(t, "HOOKD_AUTO_DISABLE_AFTER=1")
	tok := token(t, "acme", "alice", "events:publish")
	exchange := brokertest.UniqueName(t, "hookd_missing_")
	url := "amqp://" + rabbitAddr + "/?exchange=" + exchange + "&routing_key=x"
	id, _ := createHook(t, s, tok, `{"name":"missing","url":"`+url+`","events":["order.created"],"retry_config":{"max_retries":1,"retry_delay":100,"backoff_multiplier":1}}`)
	publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	var entry map[string]any
	eventually(t, 15*time.Second, "failed for good as broker_error", func() bool {
		logs := s.do("GET", "/api/webhooks/"+id+"/logs/?status=failed", tok, nil).data()["logs"].([]any)
		if len(logs) != 1 {
			return false
		}
		entry = logs[0].(map[string]any)
		return entry["next_retry"] == nil
	})
	if entry["error_type"] != "broker_error" || !strings.Contains(fmt.Sprint(entry["error_message"]), "NOT_FOUND") || entry["retry_count"] != 1.0 {
		t.Fatalf("log entry %v", entry)
	}
	stats := s.do("GET", "/api/webhooks/"+id+"/stats/", tok, nil).must(t, 200).data()
	eb := stats["error_breakdown"].([]any)
	if len(eb) != 1 || eb[0].(map[string]any)["error_type"] != "broker_error" {
		t.Fatalf("stats %v", stats)
	}
	r := s.do("POST", "/api/webhooks/"+id+"/test/", tok, nil).must(t, 200)
	if res := r.data()["test_result"].(map[string]any); res["status"] != "failed" || res["error_type"] != "broker_error" {
		t.Fatalf("test send: %s", r.Raw)
	}
	eventually(t, 5*time.Second, "switched off after a delivery failed for good", func() bool {
		wh := s.do("GET", "/api/webhooks/"+id, tok, nil).data()["webhook"].(map[string]any)
		return wh["is_active"] == false && wh["disabled_reason"] != nil
	})

	b.declareExchange(t, exchange)
	s.do("PUT", "/api/webhooks/"+id, tok, `{"is_active":true}`).must(t, 200)
	rec := s.do("POST", "/api/webhooks/"+id+"/recover/", tok, `{"since":"`+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)+`"}`).must(t, 200)
	if rec.data()["recovered"] != 1.0 {
		t.Fatalf("recover: %s", rec.Raw)
	}
	if got := decodeEvent(t, b.next(t).Body); got.Event != "order.created" || got.Test {
		t.Fatalf("recovered delivery %+v", got)
	}
}

// natsServer runs a nats-server of the test's own with JetStream storing
// in dir, and waits until JetStream answers.
func natsServer(t *testing.T, port int, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("nats-server", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	for range 200 {
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

// TestBrokerRestartLosesNothing: while the test's own nats-server is
// down, deliveries fail as connection_error and are retried; after it
// comes back every event is in the stream once.
func TestBrokerRestartLosesNothing(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("nats-server"); err != nil {
		if os.Getenv("HOOKD_TEST_REQUIRE_BROKERS") == "1" {
			t.Fatal("nats-server is not installed")
		}
		t.Skip("nats-server is not installed")
	}
	port, dir := brokertest.FreePort(t), t.TempDir()
	srv := natsServer(t, port, dir)
	b, stream := natsStream(t, fmt.Sprintf("nats://127.0.0.1:%d", port))

	s := startServer(t)
	tok := token(t, "acme", "alice", "events:publish")
	id, _ := createHook(t, s, tok, `{"name":"nats","url":"`+b.URL+`","events":["order.created"],"retry_config":{"max_retries":25,"retry_delay":200,"backoff_multiplier":1.2}}`)
	const before, during = 10, 10
	for range before {
		publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	}
	eventually(t, 15*time.Second, "the first events delivered", func() bool {
		info, err := stream.Info(context.Background())
		return err == nil && info.State.Msgs == before
	})

	_ = srv.Process.Kill()
	_ = srv.Wait()
	for range during {
		publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	}
	eventually(t, 15*time.Second, "attempts fail as connection_error while the broker is down", func() bool {
		logs := s.do("GET", "/api/webhooks/"+id+"/logs/?status=failed", tok, nil).data()["logs"].([]any)
		return len(logs) > 0 && logs[0].(map[string]any)["error_type"] == "connection_error" && logs[0].(map[string]any)["next_retry"] != nil
	})
	r := s.do("POST", "/api/webhooks/"+id+"/test/", tok, nil).must(t, 200)
	if res := r.data()["test_result"].(map[string]any); res["status"] != "failed" || res["error_type"] != "connection_error" {
		t.Fatalf("test send while down: %s", r.Raw)
	}

	natsServer(t, port, dir)
	eventually(t, 60*time.Second, "every delivery succeeded after the restart", func() bool {
		d := s.do("GET", "/api/webhooks/"+id+"/logs/?status=success&limit=100", tok, nil).data()
		return len(d["logs"].([]any)) == before+during
	})
	info, err := stream.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != before+during {
		t.Fatalf("stream holds %d messages, want %d", info.State.Msgs, before+during)
	}
	seen := map[string]bool{}
	for range before + during {
		m := b.next(t)
		seen[m.Headers.Get("webhook-id")] = true
		if m.Headers.Get("Nats-Msg-Id") != m.Headers.Get("webhook-id") {
			t.Errorf("Nats-Msg-Id %q, webhook-id %q", m.Headers.Get("Nats-Msg-Id"), m.Headers.Get("webhook-id"))
		}
	}
	if len(seen) != before+during {
		t.Fatalf("%d distinct events in the stream, want %d", len(seen), before+during)
	}
}

// TestBrokerURLsAndTheGuard: broker URLs are validated on "url", and a
// broker host passes the SSRF guard like an HTTP one: a literal blocked
// address when saved, a name resolving to loopback when connecting.
func TestBrokerURLsAndTheGuard(t *testing.T) {
	t.Parallel()
	s := startServer(t, "HOOKD_ALLOW_PRIVATE_TARGETS=false")
	tok := token(t, "acme", "alice", "events:publish")
	for _, url := range []string{"amqp://rabbit/", "nats://nats/", "redis://redis/0", "mqtt://guest:guest@mosquitto/t",
		"amqp://127.0.0.1:5672/?routing_key=q", "mqtt://[::1]:1883/orders", "nats://localhost:4222/orders"} {
		r := s.do("POST", "/api/webhooks/", tok, `{"name":"bad","url":"`+url+`","events":["*"]}`).must(t, 422)
		if f := r.detailFields(); len(f) != 1 || f[0] != "url" {
			t.Errorf("%s: %s", url, r.Raw)
		}
	}
	name := loopbackName(t)
	for _, url := range []string{
		"amqp://" + name + ":5672/?routing_key=q", "nats://" + name + ":4222/orders",
		"redis://" + name + ":6379/0?stream=orders", "mqtt://" + name + ":1883/orders",
	} {
		id, _ := createHook(t, s, tok, `{"name":"local","url":"`+url+`","events":["order.created"]}`)
		r := s.do("POST", "/api/webhooks/"+id+"/test/", tok, nil).must(t, 200)
		if res := r.data()["test_result"].(map[string]any); res["status"] != "failed" || res["error_type"] != "blocked_target" || revealsLoopback(string(r.Raw)) {
			t.Errorf("%s: %s", url, r.Raw)
		}
	}
}

// TestBrokerCredentialsFromBasicAuth: a broker's login comes from the
// webhook's basic auth, masked in answers and never a message header.
func TestBrokerCredentialsFromBasicAuth(t *testing.T) {
	t.Parallel()
	b := rabbitQueue(t)
	s := startServer(t)
	tok := token(t, "acme", "alice", "events:publish")
	id, _ := createHook(t, s, tok, `{"name":"rabbit","url":"`+b.URL+`","events":["order.created"],"auth":{"type":"basic","username":"guest","password":"wrong"}}`)
	r := s.do("POST", "/api/webhooks/"+id+"/test/", tok, nil).must(t, 200)
	if res := r.data()["test_result"].(map[string]any); res["status"] != "failed" || res["error_type"] != "broker_error" ||
		!strings.Contains(fmt.Sprint(res["error_message"]), "403") {
		t.Fatalf("wrong password: %s", r.Raw)
	}
	wh := s.do("PUT", "/api/webhooks/"+id, tok, `{"auth":{"type":"basic","username":"guest","password":"guest"}}`).must(t, 200).data()["webhook"].(map[string]any)
	if auth := wh["auth"].(map[string]any); auth["password"] != "********" || auth["username"] != "guest" {
		t.Fatalf("auth answered %v", auth)
	}
	r = s.do("POST", "/api/webhooks/"+id+"/test/", tok, nil).must(t, 200)
	res := r.data()["test_result"].(map[string]any)
	if res["status"] != "success" {
		t.Fatalf("right password: %s", r.Raw)
	}
	if _, found := res["headers_sent"].(map[string]any)["Authorization"]; found {
		t.Errorf("an Authorization header was sent: %s", r.Raw)
	}
	if got := b.next(t); got.Headers.Get("Authorization") != "" {
		t.Errorf("the message carries Authorization: %v", got.Headers)
	}
	r = s.do("POST", "/api/webhooks/", tok, `{"name":"bearer","url":"`+b.URL+`","events":["*"],"auth":{"type":"bearer","token":"t"}}`).must(t, 422)
	if f := r.detailFields(); len(f) != 1 || f[0] != "auth.type" {
		t.Errorf("bearer on a broker: %s", r.Raw)
	}
}

// TestBrokerWebhookRateLimitAndFilters: a broker webhook's rate_limit
// spaces its publishes and its filters choose what is published.
func TestBrokerWebhookRateLimitAndFilters(t *testing.T) {
	t.Parallel()
	b := redisStream(t)
	s := startServer(t)
	tok := token(t, "acme", "alice", "events:publish")
	createHook(t, s, tok, `{"name":"slow","url":"`+b.URL+`","events":["order.created"],"rate_limit":4,"filters":{"status":"confirmed"}}`)
	publish(t, s, tok, "order.created", strings.Replace(orderPayload, "confirmed", "draft", 1)).must(t, 202)
	for range 6 {
		publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	}
	var first, last time.Time
	for i := range 6 {
		m := b.next(t)
		if got := decodeEvent(t, m.Body); got.Data["status"] != "confirmed" {
			t.Fatalf("a filtered-out event was published: %s", m.Body)
		}
		at, err := strconv.ParseInt(m.Headers.Get("webhook-timestamp"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		switch i {
		case 0:
			first = time.Unix(at, 0)
		case 5:
			last = time.Unix(at, 0)
		}
	}
	// Six publishes at 4 a second take at least 1.25 s; webhook-timestamp
	// has whole seconds, so at least one second apart.
	if last.Sub(first) < time.Second {
		t.Fatalf("six publishes within %v at rate_limit 4", last.Sub(first))
	}
}
