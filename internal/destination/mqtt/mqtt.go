package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hookd/hookd/internal/destination/broker"
)

// Options configures a Publisher; see broker.Options.
type Options = broker.Options

// Message is one event to publish; see broker.Message.
type Message = broker.Message

// Result is the outcome of one publish; see broker.Result.
type Result = broker.Result

var _ broker.Publisher = (*Publisher)(nil)

// Publisher publishes to MQTT brokers at QoS 1, keeping one connection
// per address and credentials. It is safe for concurrent use.
type Publisher struct {
	opts  broker.Options
	conns *broker.Cache[*connection]
}

// New returns a Publisher that connects through opts.Dial.
func New(opts Options) *Publisher {
	p := &Publisher{opts: opts.WithDefaults()}
	p.conns = broker.NewCache(p.connect, p.opts.Clock)
	return p
}

// Target is where an mqtt:// URL publishes.
type Target struct {
	Addr  string // host:port
	Topic string
}

// ParseURL checks an mqtt:// URL (docs/api.md §14) and returns its target: the
// path is the topic, without wildcards; topics starting with $ are the
// broker's own and refused.
func ParseURL(raw string) (Target, error) {
	u, addr, err := broker.ParseURL(raw, "mqtt", "1883")
	if err != nil {
		return Target{}, err
	}
	if u.RawQuery != "" {
		return Target{}, errors.New("URL takes no parameters: mqtt://host:1883/TOPIC/PATH")
	}
	topic := strings.TrimPrefix(u.Path, "/")
	switch {
	case topic == "":
		return Target{}, errors.New("URL path must be the topic: mqtt://host:1883/TOPIC/PATH")
	case strings.ContainsAny(topic, "+#"):
		return Target{}, errors.New("topic must not contain wildcards (+ or #)")
	case strings.HasPrefix(topic, "$"):
		return Target{}, errors.New("topics starting with $ are reserved for the broker")
	case strings.ContainsRune(topic, 0):
		return Target{}, errors.New("topic must not contain NUL")
	case len(topic) > 65535:
		return Target{}, errors.New("topic must be at most 65535 bytes")
	}
	return Target{Addr: addr, Topic: topic}, nil
}

// Validate checks an mqtt:// URL; the error says what is wrong with it.
func (p *Publisher) Validate(rawURL string) error {
	_, err := ParseURL(rawURL)
	return err
}

// Publish sends m at QoS 1 and waits for the PUBACK, within the
// Publisher's timeout. With MQTT 5 the headers go as user properties; a
// broker that speaks only 3.1.1 gets the body alone, and the result's
// RequestHeaders are then empty.
func (p *Publisher) Publish(ctx context.Context, m Message) Result {
	start := p.opts.Clock()
	res := Result{RequestHeaders: map[string]string{}}
	t, err := ParseURL(m.URL)
	if err != nil {
		return broker.Finish(res, &broker.Failure{Type: broker.ErrTypeConnection, Permanent: true, Err: err}, start, p.opts.Clock)
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	key := broker.Key{Addr: t.Addr, Username: m.Username, Password: m.Password}
	c, err := p.conns.Get(ctx, key)
	if err != nil {
		return broker.Finish(res, err, start, p.opts.Clock)
	}
	if c.level == level5 {
		res.RequestHeaders = broker.LogHeaders(m.Headers)
	}
	ack, err := c.publish(ctx, t.Topic, m)
	if err != nil {
		if !c.Healthy() {
			p.conns.Drop(key, c)
		}
		return broker.Finish(res, err, start, p.opts.Clock)
	}
	res.Response = fmt.Sprintf("PUBACK packet id %d", ack.id)
	if ack.code != 0 {
		res.Response += " (" + reasonText(ack.code, reasonNames, ack.reason) + ")"
	}
	return broker.Finish(res, nil, start, p.opts.Clock)
}

// Close disconnects every connection.
func (p *Publisher) Close() error { return p.conns.Close() }

// connect opens an MQTT connection through the guarded dialer, asking for
// MQTT 5 and falling back to 3.1.1 when the broker refuses that version.
func (p *Publisher) connect(ctx context.Context, k broker.Key) (*connection, error) {
	c, err := p.handshake(ctx, k, level5)
	if errors.Is(err, errVersionRefused) {
		c, err = p.handshake(ctx, k, level311)
	}
	return c, err
}

// errVersionRefused is a CONNACK refusing the protocol level asked for.
var errVersionRefused = errors.New("MQTT protocol version refused")

// handshake dials and sends CONNECT at the given level, and reads the
// CONNACK within ctx.
func (p *Publisher) handshake(ctx context.Context, k broker.Key, level byte) (*connection, error) {
	nc, err := p.opts.Dial(ctx, "tcp", k.Addr)
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(d)
	}
	c := newConnection(nc, level)
	if _, err := nc.Write(connectPacket(level, clientID(), k.Username, k.Password, keepAlive)); err != nil {
		_ = nc.Close()
		return nil, err
	}
	pk, err := readPacket(c.r, maxIncoming)
	if err != nil {
		_ = nc.Close()
		if level == level5 && errors.Is(err, io.EOF) {
			// A 3.1.1 broker may close the connection on a level it
			// does not know instead of answering.
			return nil, errVersionRefused
		}
		return nil, err
	}
	if pk.kind != packetConnack {
		_ = nc.Close()
		return nil, broker.ConnectionError(fmt.Errorf("MQTT broker answered CONNECT with packet type %d", pk.kind))
	}
	ack, err := parseConnack(level, pk.body)
	if err != nil {
		_ = nc.Close()
		return nil, broker.ConnectionError(err)
	}
	if ack.code != 0 {
		_ = nc.Close()
		if level == level5 && (ack.code == 0x84 || ack.code == 0x01) {
			return nil, errVersionRefused
		}
		names := reasonNames
		if level == level311 {
			names = connackNames311
		}
		return nil, broker.BrokerError("connection refused by the broker: %s", reasonText(ack.code, names, ack.reason))
	}
	if ack.maxQoS == 0 {
		_ = nc.Close()
		return nil, broker.BrokerError("the broker accepts only QoS 0; delivery needs QoS 1")
	}
	_ = nc.SetDeadline(timeZero)
	c.start(ack)
	return c, nil
}

// clientID is a random client identifier: each connection starts a clean
// session of its own.
func clientID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "hookd-" + hex.EncodeToString(b[:])
}
