package mqtt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/hookd/hookd/internal/destination/broker"
)

const (
	// keepAlive is the keep-alive (seconds) asked for in CONNECT; a PINGREQ
	// goes out at half of it, and a connection silent for 1.5 times it is
	// taken as dead.
	keepAlive = 30
	// maxIncoming caps the packets read from the broker (CONNACK, PUBACK,
	// PINGRESP, DISCONNECT are all small).
	maxIncoming = 64 << 10
	// defaultReceiveMaximum is MQTT 5's default for unacknowledged QoS 1
	// publishes in flight, and the cap used with 3.1.1.
	defaultReceiveMaximum = 65535
)

var timeZero time.Time

// connection is one MQTT connection: publishes write under a lock and
// wait for their PUBACK, which a reader goroutine hands over by packet id.
type connection struct {
	conn  net.Conn
	r     *bufio.Reader
	level byte

	maxPacket uint32        // 0: no limit
	inflight  chan struct{} // a slot per unacknowledged publish
	keepAlive time.Duration

	writeMu sync.Mutex

	mu      sync.Mutex
	nextID  uint16
	pending map[uint16]chan puback

	dead    chan struct{}
	deadErr error // set before dead is closed
	once    sync.Once
}

func newConnection(nc net.Conn, level byte) *connection {
	return &connection{
		conn:    nc,
		r:       bufio.NewReader(nc),
		level:   level,
		pending: map[uint16]chan puback{},
		dead:    make(chan struct{}),
	}
}

// start applies the broker's limits from its CONNACK and starts the reader
// and the pinger.
func (c *connection) start(ack connack) {
	receiveMax := defaultReceiveMaximum
	if ack.receiveMaximum > 0 {
		receiveMax = ack.receiveMaximum
	}
	c.inflight = make(chan struct{}, receiveMax)
	c.maxPacket = ack.maxPacketSize
	c.keepAlive = keepAlive * time.Second
	if ack.keepAlive > 0 {
		c.keepAlive = time.Duration(ack.keepAlive) * time.Second
	}
	go c.read()
	go c.ping()
}

// Healthy reports whether the connection is still usable.
func (c *connection) Healthy() bool {
	select {
	case <-c.dead:
		return false
	default:
		return true
	}
}

// Close sends DISCONNECT and closes the connection; publishes waiting for
// a PUBACK fail as connection_error.
func (c *connection) Close() error {
	if c.Healthy() {
		c.writeMu.Lock()
		_ = c.conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.conn.Write(frame(packetDisconnect, 0, nil))
		c.writeMu.Unlock()
	}
	c.fail(errors.New("connection closed"))
	return nil
}

// fail marks the connection dead with err (the first error wins) and
// closes the socket.
func (c *connection) fail(err error) {
	c.once.Do(func() {
		c.deadErr = err
		close(c.dead)
		_ = c.conn.Close()
	})
}

// read hands each PUBACK to its publish until the connection breaks.
func (c *connection) read() {
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(c.keepAlive * 3 / 2))
		pk, err := readPacket(c.r, maxIncoming)
		if err != nil {
			c.fail(err)
			return
		}
		switch pk.kind {
		case packetPuback:
			ack, err := parsePuback(c.level, pk.body)
			if err != nil {
				c.fail(err)
				return
			}
			c.mu.Lock()
			ch, ok := c.pending[ack.id]
			delete(c.pending, ack.id)
			c.mu.Unlock()
			if ok {
				ch <- ack
				<-c.inflight
			}
		case packetDisconnect:
			err := errors.New("the broker disconnected")
			if d := (&decoder{b: pk.body}); len(pk.body) > 0 {
				code := d.byte()
				var reason string
				if len(d.b) > 0 {
					for _, p := range d.properties() {
						if p.id == propReasonString {
							reason = p.str
						}
					}
				}
				err = fmt.Errorf("the broker disconnected: %s", reasonText(code, reasonNames, reason))
			}
			c.fail(err)
			return
		}
	}
}

// ping sends PINGREQ at half the keep-alive so the broker keeps the
// connection and the reader sees traffic.
func (c *connection) ping() {
	t := time.NewTicker(c.keepAlive / 2)
	defer t.Stop()
	for {
		select {
		case <-c.dead:
			return
		case <-t.C:
			if err := c.write(time.Now().Add(c.keepAlive/2), frame(packetPingreq, 0, nil)); err != nil {
				c.fail(err)
				return
			}
		}
	}
}

// write sends one packet; a failed write leaves the stream in an unknown
// state, so the caller fails the connection.
func (c *connection) write(deadline time.Time, b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.conn.SetWriteDeadline(deadline)
	_, err := c.conn.Write(b)
	return err
}

// publish sends m at QoS 1 to topic and waits for its PUBACK.
func (c *connection) publish(ctx context.Context, topic string, m Message) (puback, error) {
	var headers [][2]string
	if c.level == level5 {
		for k, v := range m.Headers {
			headers = append(headers, [2]string{k, v})
		}
		sort.Slice(headers, func(i, j int) bool { return headers[i][0] < headers[j][0] })
	}
	select {
	case c.inflight <- struct{}{}:
	case <-c.dead:
		return puback{}, c.deadError()
	case <-ctx.Done():
		return puback{}, ctx.Err()
	}
	id, wait := c.register()
	b := publishPacket(c.level, topic, id, headers, m.Body)
	if c.maxPacket > 0 && uint32(len(b)) > c.maxPacket {
		c.unregister(id)
		return puback{}, &broker.Failure{Type: broker.ErrTypeBroker, Permanent: true,
			Err: fmt.Errorf("message of %d bytes exceeds the broker's maximum packet size %d", len(b), c.maxPacket)}
	}
	deadline, _ := ctx.Deadline()
	if err := c.write(deadline, b); err != nil {
		c.fail(err)
		if broker.IsTimeout(err) {
			return puback{}, err
		}
		return puback{}, c.deadError()
	}
	// On a timeout the packet id stays reserved until its PUBACK comes
	// (or the connection ends), as MQTT requires.
	select {
	case ack := <-wait:
		if ack.code >= 0x80 {
			return ack, &broker.Failure{Type: broker.ErrTypeBroker, Permanent: ack.code == 0x95,
				Err: fmt.Errorf("the broker refused the message: PUBACK %s", reasonText(ack.code, reasonNames, ack.reason))}
		}
		return ack, nil
	case <-c.dead:
		return puback{}, c.deadError()
	case <-ctx.Done():
		return puback{}, fmt.Errorf("no PUBACK for packet id %d: %w", id, ctx.Err())
	}
}

// register reserves a free packet id and the channel its PUBACK comes on.
func (c *connection) register() (uint16, chan puback) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		c.nextID++
		if c.nextID == 0 {
			c.nextID = 1
		}
		if _, used := c.pending[c.nextID]; !used {
			ch := make(chan puback, 1)
			c.pending[c.nextID] = ch
			return c.nextID, ch
		}
	}
}

// unregister frees a packet id that was never sent, and its slot.
func (c *connection) unregister(id uint16) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
	<-c.inflight
}

// deadError reports why the connection ended, as connection_error.
func (c *connection) deadError() error {
	<-c.dead
	return broker.ConnectionError(fmt.Errorf("connection lost: %w", c.deadErr))
}
