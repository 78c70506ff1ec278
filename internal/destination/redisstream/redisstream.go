package redisstream

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/hookd/hookd/internal/destination/broker"
)

// Options configures a Publisher; see broker.Options.
type Options = broker.Options

// Message is one event to publish; see broker.Message.
type Message = broker.Message

// Result is the outcome of one publish; see broker.Result.
type Result = broker.Result

// BodyField is the stream entry's field holding the §6 body.
const BodyField = "body"

var _ broker.Publisher = (*Publisher)(nil)

// Publisher appends deliveries to Redis streams, keeping one client per
// address, database and credentials. It is safe for concurrent use.
type Publisher struct {
	opts    broker.Options
	clients *broker.Cache[*client]
}

// New returns a Publisher that connects through opts.Dial.
func New(opts Options) *Publisher {
	p := &Publisher{opts: opts.WithDefaults()}
	p.clients = broker.NewCache(p.connect, p.opts.Clock)
	return p
}

// Target is where a redis:// URL publishes.
type Target struct {
	Addr   string // host:port
	DB     int
	Stream string
}

// ParseURL checks a redis:// URL (docs/api.md §14) and returns its target.
// The path is the database number (0 when empty); stream is required.
func ParseURL(raw string) (Target, error) {
	u, addr, err := broker.ParseURL(raw, "redis", "6379")
	if err != nil {
		return Target{}, err
	}
	q := u.Query()
	if err := broker.CheckQuery(q, "stream"); err != nil {
		return Target{}, err
	}
	t := Target{Addr: addr, Stream: q.Get("stream")}
	if p := strings.TrimPrefix(u.Path, "/"); p != "" {
		db, err := strconv.Atoi(p)
		if err != nil || db < 0 || db > 65535 || strconv.Itoa(db) != p {
			return Target{}, errors.New("URL path must be the database number, e.g. /0")
		}
		t.DB = db
	}
	if t.Stream == "" {
		return Target{}, errors.New("URL needs stream=NAME")
	}
	return t, nil
}

// Validate checks a redis:// URL; the error says what is wrong with it.
func (p *Publisher) Validate(rawURL string) error {
	_, err := ParseURL(rawURL)
	return err
}

// Fields returns the stream entry's field-value pairs for m: body first,
// then one field per header, lower-cased, in name order. A header named
// "body" is left out so the field keeps one meaning.
func Fields(m Message) []any {
	headers := broker.LowerHeaders(m.Headers)
	names := make([]string, 0, len(headers))
	for k := range headers {
		if k != BodyField {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	values := make([]any, 0, 2+2*len(names))
	values = append(values, BodyField, m.Body)
	for _, k := range names {
		values = append(values, k, headers[k])
	}
	return values
}

// Publish appends m to the stream with XADD NAME * and succeeds on the
// entry id, within the Publisher's timeout.
func (p *Publisher) Publish(ctx context.Context, m Message) Result {
	start := p.opts.Clock()
	res := Result{RequestHeaders: broker.LogHeaders(broker.LowerHeaders(m.Headers))}
	delete(res.RequestHeaders, BodyField)
	t, err := ParseURL(m.URL)
	if err != nil {
		return broker.Finish(res, &broker.Failure{Type: broker.ErrTypeConnection, Permanent: true, Err: err}, start, p.opts.Clock)
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	key := broker.Key{Addr: t.Addr + "/" + strconv.Itoa(t.DB), Username: m.Username, Password: m.Password}
	c, err := p.clients.Get(ctx, key)
	if err != nil {
		return broker.Finish(res, err, start, p.opts.Clock)
	}
	id, err := c.rdb.XAdd(ctx, &redis.XAddArgs{Stream: t.Stream, ID: "*", Values: Fields(m)}).Result()
	if err != nil {
		return broker.Finish(res, classify(err), start, p.opts.Clock)
	}
	res.Response = fmt.Sprintf("stream %s entry %s", t.Stream, id)
	return broker.Finish(res, nil, start, p.opts.Clock)
}

// Close closes every client.
func (p *Publisher) Close() error { return p.clients.Close() }

// classify makes a Redis reply error a broker_error; network errors and
// timeouts keep their own type.
func classify(err error) error {
	var re redis.Error
	if errors.As(err, &re) && !broker.IsTimeout(err) {
		return broker.BrokerError("redis: %s", re.Error())
	}
	return err
}

// client is the go-redis client (with its own connection pool) of one
// address, database and credentials.
type client struct{ rdb *redis.Client }

// Healthy is always true: the pool replaces broken connections itself.
func (c *client) Healthy() bool { return true }

// Close closes the pool's connections.
func (c *client) Close() error { return c.rdb.Close() }

// connect makes the client; it dials lazily, through opts.Dial, on the
// first command. Retries are left to the caller: an XADD retried after a
// lost reply could append the entry twice.
func (p *Publisher) connect(_ context.Context, k broker.Key) (*client, error) {
	addr, db, _ := strings.Cut(k.Addr, "/")
	n, _ := strconv.Atoi(db)
	rdb := redis.NewClient(&redis.Options{
		Addr:       addr,
		Dialer:     p.opts.Dial,
		Username:   k.Username,
		Password:   k.Password,
		DB:         n,
		Protocol:   2,
		MaxRetries: -1,
		// One dial retry at most (the library's least): a broker that is
		// down fails the attempt, and hookd's own retry rule takes over.
		DialerRetries:         1,
		DialTimeout:           p.opts.Timeout,
		ReadTimeout:           p.opts.Timeout,
		WriteTimeout:          p.opts.Timeout,
		ContextTimeoutEnabled: true,
		DisableIdentity:       true,
		PoolSize:              broker.PoolSize,
	})
	return &client{rdb: rdb}, nil
}
