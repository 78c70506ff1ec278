package mqtt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/destination/broker"
	"github.com/hookd/hookd/internal/destination/broker/brokertest"
)

const addr = "127.0.0.1:1883"

// received is one PUBLISH as a subscriber got it.
type received struct {
	topic   string
	qos     byte
	headers map[string]string
	props   map[byte]property
	payload string
}

// subscriber is an MQTT 5 client of the test's own that subscribes to one
// topic at QoS 1 and acknowledges what it receives.
type subscriber struct {
	conn net.Conn
	r    *bufio.Reader
}

func subscribe(t testing.TB, topic string) *subscriber {
	t.Helper()
	return subscribeTo(t, addr, topic)
}

// subscribeTo subscribes to topic on the broker at a.
func subscribeTo(t testing.TB, a, topic string) *subscriber {
	t.Helper()
	nc, err := net.DialTimeout("tcp", a, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	s := &subscriber{conn: nc, r: bufio.NewReader(nc)}
	if _, err := nc.Write(connectPacket(level5, clientID(), "", "", 30)); err != nil {
		t.Fatal(err)
	}
	if pk, err := readPacket(s.r, maxIncoming); err != nil || pk.kind != packetConnack || pk.body[1] != 0 {
		t.Fatalf("subscriber CONNACK: %+v %v", pk, err)
	}
	var e encoder
	e.uint16(1)
	e.varint(0)
	e.string(topic)
	e.byte(1) // QoS 1
	if _, err := nc.Write(frame(packetSubscribe, 0x02, e.b)); err != nil {
		t.Fatal(err)
	}
	if pk, err := readPacket(s.r, maxIncoming); err != nil || pk.kind != packetSuback {
		t.Fatalf("SUBACK: %+v %v", pk, err)
	}
	return s
}

// next reads the next PUBLISH and acknowledges it.
func (s *subscriber) next(t testing.TB) received {
	t.Helper()
	for {
		pk, err := readPacket(s.r, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if pk.kind != packetPublish {
			continue
		}
		d := &decoder{b: pk.body}
		got := received{topic: d.string(), qos: pk.flags >> 1 & 3, headers: map[string]string{}, props: map[byte]property{}}
		if got.qos > 0 {
			var e encoder
			e.uint16(d.uint16())
			_, _ = s.conn.Write(frame(packetPuback, 0, e.b))
		}
		for _, p := range d.properties() {
			if p.id == propUserProperty {
				got.headers[p.str] = p.value
			} else {
				got.props[p.id] = p
			}
		}
		if d.err != nil {
			t.Fatal(d.err)
		}
		got.payload = string(d.b)
		return got
	}
}

func setup(t testing.TB) (*Publisher, *brokertest.Dialer, string) {
	t.Helper()
	brokertest.Require(t, "Mosquitto", addr)
	d := &brokertest.Dialer{}
	p := New(Options{Dial: d.Dial, Timeout: 5 * time.Second})
	t.Cleanup(func() { _ = p.Close() })
	return p, d, "hookd/test/" + brokertest.UniqueName(t, "")
}

func message(url, id string) Message {
	return Message{
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

func TestPublishArrivesWithUserProperties(t *testing.T) {
	p, _, topic := setup(t)
	sub := subscribe(t, topic)
	m := message("mqtt://"+addr+"/"+topic, "evt_1")
	res := p.Publish(context.Background(), m)
	if !res.Success {
		t.Fatalf("%s %s", res.ErrorType, res.ErrorMessage)
	}
	if !strings.HasPrefix(res.Response, "PUBACK packet id ") {
		t.Errorf("response = %q", res.Response)
	}
	if res.RequestHeaders["X-Webhook-Event"] != "order.created" {
		t.Errorf("request headers = %v", res.RequestHeaders)
	}
	got := sub.next(t)
	if got.topic != topic || got.qos != 1 || got.payload != string(m.Body) {
		t.Errorf("got topic %q qos %d payload %s", got.topic, got.qos, got.payload)
	}
	for k, v := range m.Headers {
		if got.headers[k] != v {
			t.Errorf("user property %s = %q, want %q", k, got.headers[k], v)
		}
	}
	if got.props[propContentType].str != "application/json" || got.props[propPayloadFormat].num != 1 {
		t.Errorf("properties = %+v", got.props)
	}
}

func TestConnectionSharedAndReopened(t *testing.T) {
	p, d, topic := setup(t)
	sub := subscribe(t, topic)
	url := "mqtt://" + addr + "/" + topic
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
	seen := map[string]bool{}
	for range 41 {
		seen[sub.next(t).headers["webhook-id"]] = true
	}
	if len(seen) != 41 {
		t.Errorf("subscriber got %d distinct messages, want 41", len(seen))
	}
}

func TestPublishFailures(t *testing.T) {
	brokertest.Require(t, "Mosquitto", addr)
	p := New(Options{Timeout: 2 * time.Second})
	defer p.Close()
	closed := fmt.Sprintf("127.0.0.1:%d", brokertest.FreePort(t))
	if res := p.Publish(context.Background(), message("mqtt://"+closed+"/t", "evt_1")); res.ErrorType != broker.ErrTypeConnection {
		t.Errorf("refused: %s %q, want connection_error", res.ErrorType, res.ErrorMessage)
	}
	blocked := errors.New("blocked by the target checks")
	bp := New(Options{Dial: func(context.Context, string, string) (net.Conn, error) { return nil, blocked }})
	defer bp.Close()
	res := bp.Publish(context.Background(), message("mqtt://"+addr+"/t", "evt_1"))
	if res.ErrorType != broker.ErrTypeConnection || !errors.Is(res.Err, blocked) {
		t.Errorf("dialer refuses: %s %v, want connection_error wrapping the dialer's error", res.ErrorType, res.Err)
	}
}

// fakeBroker accepts connections and answers as a broker would that
// speaks only 3.1.1 (v311) or refuses every PUBLISH with pubackCode, or
// never answers a PUBLISH (silent).
type fakeBroker struct {
	v311       bool
	pubackCode byte
	silent     bool
}

func (f fakeBroker) serve(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go f.handle(nc)
		}
	}()
	return l.Addr().String()
}

func (f fakeBroker) handle(nc net.Conn) {
	defer nc.Close()
	r := bufio.NewReader(nc)
	pk, err := readPacket(r, 1<<20)
	if err != nil || pk.kind != packetConnect {
		return
	}
	level := pk.body[6]
	if f.v311 && level == level5 {
		_, _ = nc.Write([]byte{0x20, 0x02, 0x00, 0x01}) // unacceptable protocol version
		return
	}
	if level == level5 {
		_, _ = nc.Write([]byte{0x20, 0x03, 0x00, 0x00, 0x00})
	} else {
		_, _ = nc.Write([]byte{0x20, 0x02, 0x00, 0x00})
	}
	for {
		pk, err := readPacket(r, 1<<20)
		if err != nil {
			return
		}
		if pk.kind != packetPublish || f.silent {
			continue
		}
		d := &decoder{b: pk.body}
		d.string()
		id := d.uint16()
		var e encoder
		e.uint16(id)
		if level == level5 {
			e.byte(f.pubackCode)
			var props encoder
			props.byte(propReasonString)
			props.string("topic is read-only")
			e.varint(len(props.b))
			e.bytes(props.b)
		}
		_, _ = nc.Write(frame(packetPuback, 0, e.b))
	}
}

func TestFallsBackToMQTT311(t *testing.T) {
	a := fakeBroker{v311: true}.serve(t)
	p := New(Options{Timeout: 2 * time.Second})
	defer p.Close()
	res := p.Publish(context.Background(), message("mqtt://"+a+"/t", "evt_1"))
	if !res.Success {
		t.Fatalf("%s %s", res.ErrorType, res.ErrorMessage)
	}
	if len(res.RequestHeaders) != 0 {
		t.Errorf("3.1.1 sends no headers, but the result says %v", res.RequestHeaders)
	}
}

func TestRefusedPubackIsBrokerError(t *testing.T) {
	a := fakeBroker{pubackCode: 0x87}.serve(t)
	p := New(Options{Timeout: 2 * time.Second})
	defer p.Close()
	res := p.Publish(context.Background(), message("mqtt://"+a+"/t", "evt_1"))
	if res.ErrorType != broker.ErrTypeBroker || !strings.Contains(res.ErrorMessage, "0x87 not authorized: topic is read-only") {
		t.Fatalf("got %s %q, want broker_error with the reason", res.ErrorType, res.ErrorMessage)
	}
}

func TestNoPubackIsTimeout(t *testing.T) {
	a := fakeBroker{silent: true}.serve(t)
	p := New(Options{Timeout: 300 * time.Millisecond})
	defer p.Close()
	res := p.Publish(context.Background(), message("mqtt://"+a+"/t", "evt_1"))
	if res.ErrorType != broker.ErrTypeTimeout {
		t.Fatalf("got %s %q, want timeout", res.ErrorType, res.ErrorMessage)
	}
}

func TestValidate(t *testing.T) {
	p := New(Options{})
	tests := []struct {
		url     string
		wantErr string
	}{
		{"mqtt://broker:1883/orders/created", ""},
		{"mqtt://broker/orders", ""},
		{"mqtt://broker:1883/", "topic"},
		{"mqtt://broker:1883/orders/+", "wildcards"},
		{"mqtt://broker:1883/orders/%23", "wildcards"},
		{"mqtt://broker:1883/$SYS/x", "reserved"},
		{"mqtt://broker:1883/t?qos=2", "no parameters"},
		{"mqtt://u:p@broker/t", "basic auth"},
		{"mqtts://broker/t", "scheme"},
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
