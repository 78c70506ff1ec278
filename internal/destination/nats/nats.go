package nats

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookd/hookd/internal/destination/broker"
)

// Options configures a Publisher; see broker.Options.
type Options = broker.Options

// Message is one event to publish; see broker.Message.
type Message = broker.Message

// Result is the outcome of one publish; see broker.Result.
type Result = broker.Result

var _ broker.Publisher = (*Publisher)(nil)

// Publisher publishes to NATS JetStream, keeping one connection per
// address and credentials. It is safe for concurrent use.
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

// Target is where a nats:// URL publishes.
type Target struct {
	Addr    string // host:port
	Subject string
}

// ParseURL checks a nats:// URL (docs/api.md §14) and returns its target: the
// path is the subject, without wildcards or empty tokens.
func ParseURL(raw string) (Target, error) {
	u, addr, err := broker.ParseURL(raw, "nats", "4222")
	if err != nil {
		return Target{}, err
	}
	if u.RawQuery != "" {
		return Target{}, errors.New("URL takes no parameters: nats://host:4222/SUBJECT")
	}
	subject := strings.TrimPrefix(u.Path, "/")
	if subject == "" {
		return Target{}, errors.New("URL path must be the subject: nats://host:4222/SUBJECT")
	}
	if strings.ContainsAny(subject, " \t\r\n") {
		return Target{}, errors.New("subject must not contain whitespace")
	}
	for _, token := range strings.Split(subject, ".") {
		switch token {
		case "":
			return Target{}, errors.New("subject must not have empty tokens (a leading, trailing or double dot)")
		case "*", ">":
			return Target{}, errors.New("subject must not contain wildcards (* or >)")
		}
	}
	return Target{Addr: addr, Subject: subject}, nil
}

// Validate checks a nats:// URL; the error says what is wrong with it.
func (p *Publisher) Validate(rawURL string) error {
	_, err := ParseURL(rawURL)
	return err
}

// Publish sends m to the subject with Nats-Msg-Id set to the event id and
// waits for the stream's ack, within the Publisher's timeout.
func (p *Publisher) Publish(ctx context.Context, m Message) Result {
	start := p.opts.Clock()
	msg := &nats.Msg{Data: m.Body, Header: make(nats.Header, len(m.Headers)+1)}
	for k, v := range m.Headers {
		msg.Header[k] = []string{v}
	}
	if m.EventID != "" {
		msg.Header[jetstream.MsgIDHeader] = []string{m.EventID}
	}
	sent := make(map[string]string, len(msg.Header))
	for k, v := range msg.Header {
		sent[k] = v[0]
	}
	res := Result{RequestHeaders: broker.LogHeaders(sent)}
	t, err := ParseURL(m.URL)
	if err != nil {
		return broker.Finish(res, &broker.Failure{Type: broker.ErrTypeConnection, Permanent: true, Err: err}, start, p.opts.Clock)
	}
	msg.Subject = t.Subject
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	key := broker.Key{Addr: t.Addr, Username: m.Username, Password: m.Password}
	c, err := p.conns.Get(ctx, key)
	if err != nil {
		return broker.Finish(res, err, start, p.opts.Clock)
	}
	// No retries on "no responders": with no stream bound to the subject
	// the dispatcher's backoff is the retry.
	ack, err := c.js.PublishMsg(ctx, msg, jetstream.WithRetryAttempts(0))
	if err != nil {
		err = publishError(err, t.Subject)
		if typ, _ := broker.Classify(err); typ == broker.ErrTypeConnection {
			p.conns.Drop(key, c)
		}
		return broker.Finish(res, err, start, p.opts.Clock)
	}
	res.Response = fmt.Sprintf("stream %s seq %d", ack.Stream, ack.Sequence)
	if ack.Duplicate {
		res.Response += " (duplicate)"
	}
	return broker.Finish(res, nil, start, p.opts.Clock)
}

// Close closes every connection.
func (p *Publisher) Close() error { return p.conns.Close() }

// publishError names why a JetStream publish failed.
func publishError(err error, subject string) error {
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, jetstream.ErrNoStreamResponse):
		return broker.BrokerError("no JetStream stream answered on subject %s (is a stream bound to it?)", subject)
	case errors.As(err, &apiErr):
		return broker.BrokerError("JetStream refused the message: %s (code %d, error code %d)", apiErr.Description, apiErr.Code, apiErr.ErrorCode)
	case errors.Is(err, nats.ErrMaxPayload):
		return &broker.Failure{Type: broker.ErrTypeBroker, Permanent: true, Err: err}
	case errors.Is(err, nats.ErrTimeout):
		return fmt.Errorf("no ack from JetStream: %w", context.DeadlineExceeded)
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionDraining):
		return broker.ConnectionError(err)
	}
	return err
}

// connection is one NATS connection and its JetStream context.
type connection struct {
	nc *nats.Conn
	js jetstream.JetStream
}

// Healthy reports whether the connection is still open.
func (c *connection) Healthy() bool { return !c.nc.IsClosed() }

// Close closes the connection.
func (c *connection) Close() error {
	c.nc.Close()
	return nil
}

// dialer adapts the guarded DialFunc to nats.CustomDialer, bounded by the
// context of the publish that connects.
type dialer struct {
	ctx  context.Context
	dial broker.DialFunc
}

func (d dialer) Dial(network, addr string) (net.Conn, error) { return d.dial(d.ctx, network, addr) }

// connect opens a NATS connection through the guarded dialer, passing it
// the URL's host name unresolved. It never reconnects by itself, ignores
// servers the broker advertises (every connection goes to the address the
// URL names) and does not retry.
func (p *Publisher) connect(ctx context.Context, k broker.Key) (*connection, error) {
	timeout := p.opts.Timeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if timeout <= 0 {
		return nil, context.DeadlineExceeded
	}
	opts := []nats.Option{
		nats.Name("hookd"),
		nats.SetCustomDialer(dialer{ctx: ctx, dial: p.opts.Dial}),
		// The guarded dialer resolves the host itself, so it sees the
		// name the URL gives and checks the address it connects to.
		nats.SkipHostLookup(),
		nats.Timeout(timeout),
		nats.NoReconnect(),
		nats.IgnoreDiscoveredServers(),
		nats.PingInterval(20 * time.Second),
		nats.MaxPingsOutstanding(2),
	}
	if k.Username != "" || k.Password != "" {
		opts = append(opts, nats.UserInfo(k.Username, k.Password))
	}
	nc, err := nats.Connect("nats://"+k.Addr, opts...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAuthRevoked) {
			return nil, broker.BrokerError("connection refused by the broker: %v", err)
		}
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &connection{nc: nc, js: js}, nil
}
