package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"
)

// brokerResult is the end-to-end throughput to one message broker: from
// the first publish to the last distinct event read back by the broker's
// own client.
type brokerResult struct {
	Broker         string  `json:"broker"`
	URL            string  `json:"url,omitempty"`
	Skipped        string  `json:"skipped,omitempty"` // why the phase did not run
	Events         int     `json:"events"`
	PublishSeconds float64 `json:"publish_seconds"`
	Seconds        float64 `json:"seconds"`
	PerSecond      float64 `json:"per_second"`
	Duplicates     int64   `json:"duplicates"`
	Usage          usage   `json:"usage"`
}

// brokerPhase is one broker's phase: its name, the address of the
// machine's broker and how to open a reader on it.
type brokerPhase struct {
	name, title, addr string
	// open makes a destination of the run's own on the broker (a queue, a
	// stream, a topic), starts reading it into a and returns the webhook
	// URL that publishes there and a function that stops reading and
	// removes the destination.
	open func(ctx context.Context, dest string, a *arrivals) (url string, stop func(), err error)
}

// brokerPhases lists the broker phases in the order they run.
func brokerPhases() []brokerPhase {
	return []brokerPhase{
		{"rabbitmq", "RabbitMQ", "127.0.0.1:5672", openRabbit},
		{"nats", "NATS JetStream", "127.0.0.1:4222", openNATS},
		{"redis", "Redis Streams", "127.0.0.1:6379", openRedis},
		{"mqtt", "MQTT (Mosquitto)", "127.0.0.1:1883", openMQTT},
	}
}

// arrivals counts the distinct events a broker's client read back.
type arrivals struct {
	now   func() time.Time
	mu    sync.Mutex
	seen  map[string]bool
	total int64
	last  time.Time
}

func newArrivals(now func() time.Time) *arrivals {
	return &arrivals{now: now, seen: map[string]bool{}}
}

// add records one message carrying event id.
func (a *arrivals) add(id string) {
	at := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.total++
	if !a.seen[id] {
		a.seen[id] = true
		a.last = at
	}
}

// counts returns the distinct events, every message, and when the last
// distinct one arrived.
func (a *arrivals) counts() (unique int, total int64, last time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.seen), a.total, a.last
}

// wait returns once n distinct events arrived.
func (a *arrivals) wait(ctx context.Context, n int) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if got, _, _ := a.counts(); got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			got, _, _ := a.counts()
			return fmt.Errorf("%d of %d events arrived: %w", got, n, context.Cause(ctx))
		case <-t.C:
		}
	}
}

// measureBroker publishes events in batches to one webhook whose URL
// names the broker and measures until the broker's client has read every
// event once. A broker that is not answering skips the phase.
func (b *bench) measureBroker(ctx context.Context, p brokerPhase) (brokerResult, error) {
	res := brokerResult{Broker: p.title, Events: b.opts.BrokerEvents}
	if c, err := net.DialTimeout("tcp", p.addr, 2*time.Second); err != nil {
		res.Skipped = fmt.Sprintf("nothing answers on %s", p.addr)
		fmt.Fprintf(b.progress, "  %s: skipped, %s\n", p.name, res.Skipped)
		return res, nil
	} else {
		_ = c.Close()
	}
	a := newArrivals(b.now)
	url, stop, err := p.open(ctx, "hookbench_"+b.runID+"_"+randomSuffix(), a)
	if err != nil {
		return res, fmt.Errorf("%s reader: %w", p.title, err)
	}
	defer stop()
	res.URL = url
	s, err := b.openSession(ctx, p.name)
	if err != nil {
		return res, err
	}
	defer s.close()
	id, err := s.apis[0].createWebhook(ctx, "bench "+p.name, url)
	if err != nil {
		return res, err
	}
	s.hooks = append(s.hooks, id)
	batches := renderBatches(res.Events, e2eBatchSize)
	s.mark()
	start := b.now()
	if err := sendBatches(ctx, s.apis, batches, batchPublishers); err != nil {
		return res, fmt.Errorf("publish: %w", err)
	}
	res.PublishSeconds = b.now().Sub(start).Seconds()
	fmt.Fprintf(b.progress, "  %s: %d events published in %.2fs, waiting for them on the broker\n", p.name, res.Events, res.PublishSeconds)
	if err := a.wait(ctx, res.Events); err != nil {
		return res, errors.Join(err, s.checkAlive())
	}
	res.Usage = s.usage()
	_, total, last := a.counts()
	res.Seconds = last.Sub(start).Seconds()
	res.PerSecond = float64(res.Events) / res.Seconds
	res.Duplicates = total - int64(res.Events)
	return res, s.checkAlive()
}

// randomSuffix keeps the names of one run's destinations apart.
func randomSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// openRabbit declares an exclusive queue on the default exchange and
// consumes it; the message id is the event id.
func openRabbit(ctx context.Context, queue string, a *arrivals) (string, func(), error) {
	conn, err := amqp091.Dial("amqp://guest:guest@127.0.0.1:5672/")
	if err != nil {
		return "", nil, err
	}
	ch, err := conn.Channel()
	if err == nil {
		_, err = ch.QueueDeclare(queue, false, true, true, false, nil)
	}
	var deliveries <-chan amqp091.Delivery
	if err == nil {
		deliveries, err = ch.Consume(queue, "", true, true, false, false, nil)
	}
	if err != nil {
		_ = conn.Close()
		return "", nil, err
	}
	go func() {
		for d := range deliveries {
			a.add(d.MessageId)
		}
	}()
	return "amqp://127.0.0.1:5672/?routing_key=" + queue, func() { _ = conn.Close() }, nil
}

// openNATS creates a JetStream stream on a subject of its own and
// subscribes to that subject; Nats-Msg-Id is the event id.
func openNATS(ctx context.Context, name string, a *arrivals) (string, func(), error) {
	nc, err := natsgo.Connect("nats://127.0.0.1:4222")
	if err != nil {
		return "", nil, err
	}
	subject := "hookbench." + name
	js, err := jetstream.New(nc)
	if err == nil {
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{
			Name: name, Subjects: []string{subject}, Storage: jetstream.MemoryStorage, Duplicates: 2 * time.Minute,
		})
	}
	var sub *natsgo.Subscription
	if err == nil {
		sub, err = nc.Subscribe(subject, func(m *natsgo.Msg) { a.add(m.Header.Get("Nats-Msg-Id")) })
	}
	if err == nil {
		err = sub.SetPendingLimits(-1, -1)
	}
	if err != nil {
		nc.Close()
		return "", nil, err
	}
	stop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(dctx, name)
		nc.Close()
	}
	return "nats://127.0.0.1:4222/" + subject, stop, nil
}

// openRedis reads a stream of its own with XREAD; the webhook-id field is
// the event id.
func openRedis(ctx context.Context, stream string, a *arrivals) (string, func(), error) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return "", nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		last := "0"
		for rctx.Err() == nil {
			res, err := rdb.XRead(rctx, &redis.XReadArgs{Streams: []string{stream, last}, Count: 1000, Block: 200 * time.Millisecond}).Result()
			if err != nil {
				continue // redis.Nil: nothing new yet
			}
			for _, m := range res[0].Messages {
				id, _ := m.Values["webhook-id"].(string)
				a.add(id)
				last = m.ID
			}
		}
	}()
	stop := func() {
		cancel()
		<-done
		_ = rdb.Del(context.Background(), stream).Err()
		_ = rdb.Close()
	}
	return "redis://127.0.0.1:6379/0?stream=" + stream, stop, nil
}

// openMQTT subscribes to a topic of its own at QoS 1 with mosquitto_sub
// (line-buffered through stdbuf) and reads the event id from each body.
func openMQTT(ctx context.Context, name string, a *arrivals) (string, func(), error) {
	topic := "hookbench/" + name
	cmd := exec.Command("stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", "1883", "-V", "5", "-q", "1", "-t", topic, "-F", "%p", "-d")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("mosquitto_sub: %w", err)
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	subscribed := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		ready := false
		for sc.Scan() {
			line := sc.Text()
			if !ready && strings.Contains(line, "SUBACK") {
				ready = true
				close(subscribed)
			}
			// The body starts {"id":"evt_…", (outbound.EventBody).
			if rest, ok := strings.CutPrefix(line, `{"id":"`); ok {
				if id, _, found := strings.Cut(rest, `"`); found {
					a.add(id)
				}
			}
		}
	}()
	select {
	case <-subscribed:
	case <-time.After(10 * time.Second):
		stop()
		return "", nil, errors.New("mosquitto_sub did not subscribe within 10s")
	case <-ctx.Done():
		stop()
		return "", nil, context.Cause(ctx)
	}
	return "mqtt://127.0.0.1:1883/" + topic, stop, nil
}
