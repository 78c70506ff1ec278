package amqp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookd/hookd/internal/destination/broker"
)

// heartbeat is the AMQP heartbeat interval: a broker that went away without
// closing the socket is noticed within about twice this.
const heartbeat = 10 * time.Second

// Options configures a Publisher; see broker.Options.
type Options = broker.Options

// Message is one event to publish; see broker.Message.
type Message = broker.Message

// Result is the outcome of one publish; see broker.Result.
type Result = broker.Result

var _ broker.Publisher = (*Publisher)(nil)

// Publisher publishes to RabbitMQ, keeping one connection per broker
// address, virtual host and credentials. It is safe for concurrent use.
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

// Target is where an amqp:// URL publishes.
type Target struct {
	Addr       string // host:port
	Vhost      string
	Exchange   string // "" is the default exchange
	RoutingKey string
}

// ParseURL checks an amqp:// URL (docs/api.md §14) and returns its target.
// The path is the virtual host ("/" when empty; %2F for a slash in it);
// routing_key is required with the default exchange, where it names the
// queue.
func ParseURL(raw string) (Target, error) {
	u, addr, err := broker.ParseURL(raw, "amqp", "5672")
	if err != nil {
		return Target{}, err
	}
	q := u.Query()
	if err := broker.CheckQuery(q, "exchange", "routing_key"); err != nil {
		return Target{}, err
	}
	t := Target{Addr: addr, Vhost: "/", Exchange: q.Get("exchange"), RoutingKey: q.Get("routing_key")}
	if p := u.EscapedPath(); p != "" && p != "/" {
		if strings.Contains(p[1:], "/") {
			return Target{}, errors.New("URL path must be one virtual host (write a slash in its name as %2F)")
		}
		t.Vhost = u.Path[1:]
	}
	if t.Exchange == "" && t.RoutingKey == "" {
		return Target{}, errors.New("URL needs routing_key (the queue name) when exchange is empty")
	}
	if len(t.Exchange) > 255 || len(t.RoutingKey) > 255 {
		return Target{}, errors.New("exchange and routing_key must be at most 255 bytes")
	}
	return t, nil
}

// Validate checks an amqp:// URL; the error says what is wrong with it.
func (p *Publisher) Validate(rawURL string) error {
	_, err := ParseURL(rawURL)
	return err
}

// Publish sends m as a persistent message and waits for the broker's
// publisher confirm, within the Publisher's timeout.
func (p *Publisher) Publish(ctx context.Context, m Message) Result {
	start := p.opts.Clock()
	res := Result{RequestHeaders: broker.LogHeaders(m.Headers)}
	t, err := ParseURL(m.URL)
	if err != nil {
		return broker.Finish(res, &broker.Failure{Type: broker.ErrTypeConnection, Permanent: true, Err: err}, start, p.opts.Clock)
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	key := broker.Key{Addr: t.Addr + "/" + t.Vhost, Username: m.Username, Password: m.Password}
	conn, err := p.conns.Get(ctx, key)
	if err != nil {
		return broker.Finish(res, err, start, p.opts.Clock)
	}
	tag, err := conn.publish(ctx, t, m, start)
	if err != nil {
		// A connection that failed a write may not know yet that it is
		// closed; the next publish must not use it.
		if typ, _ := broker.Classify(err); typ == broker.ErrTypeConnection || !conn.Healthy() {
			p.conns.Drop(key, conn)
		}
		return broker.Finish(res, err, start, p.opts.Clock)
	}
	res.Response = fmt.Sprintf("confirmed delivery tag %d", tag)
	return broker.Finish(res, nil, start, p.opts.Clock)
}

// Close closes every connection.
func (p *Publisher) Close() error { return p.conns.Close() }

// connect opens an AMQP connection through the guarded dialer; the
// handshake is bounded by ctx.
func (p *Publisher) connect(ctx context.Context, k broker.Key) (*connection, error) {
	addr, vhost, _ := strings.Cut(k.Addr, "/")
	if vhost == "" {
		vhost = "/"
	}
	nc, err := p.opts.Dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(d)
	}
	// Without basic auth, RabbitMQ's default user, as an amqp:// URI
	// without credentials means.
	user, pass := k.Username, k.Password
	if user == "" && pass == "" {
		user, pass = "guest", "guest"
	}
	c, err := amqp.Open(nc, amqp.Config{
		SASL:       []amqp.Authentication{&amqp.PlainAuth{Username: user, Password: pass}},
		Vhost:      vhost,
		Heartbeat:  heartbeat,
		Locale:     "en_US",
		Properties: amqp.Table{"product": "hookd", "connection_name": "hookd"},
	})
	if err != nil {
		_ = nc.Close()
		// The socket's deadline is the context's: a handshake cut by it
		// is a timeout, whichever of the two noticed first.
		if d, ok := ctx.Deadline(); ctx.Err() != nil || ok && !time.Now().Before(d) {
			return nil, fmt.Errorf("AMQP handshake: %w", context.DeadlineExceeded)
		}
		return nil, openError(err)
	}
	_ = nc.SetDeadline(time.Time{})
	conn := &connection{conn: c, channels: map[string]*channel{}, gone: make(chan struct{})}
	closes := c.NotifyClose(make(chan *amqp.Error, 1))
	go func() {
		conn.reason = <-closes
		close(conn.gone)
	}()
	blocks := c.NotifyBlocked(make(chan amqp.Blocking, 1))
	go func() {
		for b := range blocks {
			conn.mu.Lock()
			conn.blocked = b.Reason
			if !b.Active {
				conn.blocked = ""
			} else if conn.blocked == "" {
				conn.blocked = "no reason given"
			}
			conn.mu.Unlock()
		}
	}()
	return conn, nil
}

// openError reports a refused handshake (bad credentials, unknown virtual
// host) as broker_error with the broker's reason.
func openError(err error) error {
	var ae *amqp.Error
	if errors.As(err, &ae) && (ae.Code == amqp.AccessRefused || ae.Code == amqp.NotAllowed || ae.Code == amqp.NotFound) {
		return broker.BrokerError("connection refused by the broker: %d %s", ae.Code, ae.Reason)
	}
	if errors.Is(err, amqp.ErrSASL) || errors.Is(err, amqp.ErrCredentials) || errors.Is(err, amqp.ErrVhost) {
		return broker.BrokerError("connection refused by the broker: %v", err)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return err
	}
	return broker.ConnectionError(fmt.Errorf("AMQP handshake: %w", err))
}

// connection is one AMQP connection with a confirm-mode channel per
// exchange.
type connection struct {
	conn *amqp.Connection
	// gone is closed once the connection is, with the broker's reason
	// (nil when it was closed here or the socket broke without one).
	gone   chan struct{}
	reason *amqp.Error

	mu       sync.Mutex
	channels map[string]*channel
	// blocked is the broker's reason while it stops reading publishes
	// (a memory or disk alarm), "" otherwise.
	blocked string
}

// Healthy reports whether the connection is still open.
func (c *connection) Healthy() bool { return !c.conn.IsClosed() }

// Close closes the connection and its channels.
func (c *connection) Close() error {
	if c.conn.IsClosed() {
		return nil
	}
	return c.conn.Close()
}

// channel is a confirm-mode channel; dead is closed once the channel is,
// with the reason the broker gave.
type channel struct {
	ch     *amqp.Channel
	dead   chan struct{}
	reason *amqp.Error
}

// channel returns the open channel for exchange, opening one if needed.
// A channel the broker closed (e.g. on a missing exchange) is replaced.
func (c *connection) channel(exchange string) (*channel, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch := c.channels[exchange]; ch != nil && !ch.ch.IsClosed() {
		return ch, nil
	}
	delete(c.channels, exchange)
	ach, err := c.conn.Channel()
	if err != nil {
		return nil, c.closedError(err)
	}
	if err := ach.Confirm(false); err != nil {
		_ = ach.Close()
		return nil, c.closedError(err)
	}
	ch := &channel{ch: ach, dead: make(chan struct{})}
	closes := ach.NotifyClose(make(chan *amqp.Error, 1))
	go func() {
		ch.reason = <-closes
		close(ch.dead)
	}()
	c.channels[exchange] = ch
	return ch, nil
}

// publish sends one persistent message on the exchange's channel and
// waits for its confirm; it returns the delivery tag.
func (c *connection) publish(ctx context.Context, t Target, m Message, now time.Time) (uint64, error) {
	// While the broker is blocked a publish would wait in a socket write
	// past any timeout; fail at once instead.
	c.mu.Lock()
	blocked := c.blocked
	c.mu.Unlock()
	if blocked != "" {
		return 0, broker.BrokerError("the broker blocks publishing: %s", blocked)
	}
	ch, err := c.channel(t.Exchange)
	if err != nil {
		return 0, err
	}
	headers := make(amqp.Table, len(m.Headers))
	for k, v := range m.Headers {
		headers[k] = v
	}
	msg := amqp.Publishing{
		Headers:      headers,
		ContentType:  "application/json",
		DeliveryMode: amqp.Persistent,
		MessageId:    m.EventID,
		Timestamp:    now,
		Body:         m.Body,
	}
	dc, err := ch.ch.PublishWithDeferredConfirmWithContext(ctx, t.Exchange, t.RoutingKey, false, false, msg)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, c.channelError(ch, err)
	}
	select {
	case <-dc.Done():
	case <-ch.dead:
		// The confirms of a closed channel are nacked right after; wait
		// for that so an ack that raced the close still counts.
		select {
		case <-dc.Done():
		case <-time.After(time.Second):
		}
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	if dc.Acked() {
		return dc.DeliveryTag, nil
	}
	if ch.ch.IsClosed() {
		return 0, c.channelError(ch, amqp.ErrClosed)
	}
	return 0, broker.BrokerError("the broker nacked the message (delivery tag %d)", dc.DeliveryTag)
}

// channelError names why a publish on ch failed: a lost connection is
// connection_error; a channel the broker closed is broker_error with the
// broker's code and reason.
func (c *connection) channelError(ch *channel, err error) error {
	if ch.ch.IsClosed() {
		select {
		case <-ch.dead:
		case <-time.After(time.Second):
		}
	}
	if c.conn.IsClosed() {
		return c.closedError(err)
	}
	select {
	case <-ch.dead:
		if r := ch.reason; r != nil {
			return broker.BrokerError("channel closed by the broker: %d %s", r.Code, r.Reason)
		}
	default:
	}
	return broker.ConnectionError(err)
}

// closedError reports a failure on a closed connection as
// connection_error, with the broker's reason when it closed it.
func (c *connection) closedError(err error) error {
	if !c.conn.IsClosed() {
		var ae *amqp.Error
		if errors.As(err, &ae) && ae.Server {
			return broker.BrokerError("the broker refused: %d %s", ae.Code, ae.Reason)
		}
	}
	select {
	case <-c.gone:
		if r := c.reason; r != nil {
			return broker.ConnectionError(fmt.Errorf("connection closed: %d %s", r.Code, r.Reason))
		}
	case <-time.After(100 * time.Millisecond):
	}
	var ae *amqp.Error
	if errors.As(err, &ae) && ae.Code != 0 && ae.Code != amqp.ChannelError {
		return broker.ConnectionError(fmt.Errorf("connection closed: %d %s", ae.Code, ae.Reason))
	}
	return broker.ConnectionError(fmt.Errorf("connection closed: %w", err))
}
