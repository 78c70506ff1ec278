package mqtt

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The MQTT control packets this publisher sends or reads (MQTT 3.1.1 §2.2.1,
// MQTT 5.0 §2.1.2), as the high nibble of the first byte.
const (
	packetConnect    = 1
	packetConnack    = 2
	packetPublish    = 3
	packetPuback     = 4
	packetSubscribe  = 8
	packetSuback     = 9
	packetPingreq    = 12
	packetPingresp   = 13
	packetDisconnect = 14
)

// Protocol levels in CONNECT.
const (
	level311 = 4
	level5   = 5
)

// MQTT 5 property identifiers used here (MQTT 5.0 §2.2.2.2).
const (
	propPayloadFormat     = 0x01
	propContentType       = 0x03
	propSessionExpiry     = 0x11
	propServerKeepAlive   = 0x13
	propReasonString      = 0x1F
	propReceiveMaximum    = 0x21
	propMaximumQoS        = 0x24
	propUserProperty      = 0x26
	propMaximumPacketSize = 0x27
)

// maxRemainingLength is the largest remaining length a fixed header can
// encode (four bytes of variable-length integer).
const maxRemainingLength = 268_435_455

// packet is one control packet: its type, the low nibble of the first byte
// and the rest after the fixed header.
type packet struct {
	kind  byte
	flags byte
	body  []byte
}

// encoder builds the bytes of a packet body.
type encoder struct{ b []byte }

func (e *encoder) byte(v byte)     { e.b = append(e.b, v) }
func (e *encoder) uint16(v uint16) { e.b = binary.BigEndian.AppendUint16(e.b, v) }
func (e *encoder) bytes(v []byte)  { e.b = append(e.b, v...) }

// string appends a length-prefixed UTF-8 string (or binary data).
func (e *encoder) string(s string) {
	e.uint16(uint16(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) varint(n int) { e.b = appendVarint(e.b, n) }

func appendVarint(b []byte, n int) []byte {
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

// frame returns the packet's bytes: fixed header, then body.
func frame(kind, flags byte, body []byte) []byte {
	out := make([]byte, 0, len(body)+5)
	out = append(out, kind<<4|flags)
	out = appendVarint(out, len(body))
	return append(out, body...)
}

// property is one MQTT 5 property as read; only the fields its type uses
// are set.
type property struct {
	id    byte
	num   uint32
	str   string
	value string // second string of a user property
}

// connectPacket builds CONNECT with a clean start, no will, and the
// credentials when given. MQTT 5 sets no properties: the session expires
// with the connection (interval 0, the default).
func connectPacket(level byte, clientID, username, password string, keepAlive uint16) []byte {
	var e encoder
	e.string("MQTT")
	e.byte(level)
	flags := byte(0x02) // clean session / clean start
	if username != "" {
		flags |= 0x80
	}
	if password != "" && (username != "" || level == level5) {
		flags |= 0x40 // 3.1.1 allows a password only with a user name
	}
	e.byte(flags)
	e.uint16(keepAlive)
	if level == level5 {
		e.varint(0)
	}
	e.string(clientID)
	if username != "" {
		e.string(username)
	}
	if flags&0x40 != 0 {
		e.string(password)
	}
	return frame(packetConnect, 0, e.b)
}

// publishPacket builds a QoS 1 PUBLISH. With MQTT 5 the headers travel as
// user properties, in the order given, beside the payload format (UTF-8)
// and content type.
func publishPacket(level byte, topic string, id uint16, headers [][2]string, payload []byte) []byte {
	var e encoder
	e.string(topic)
	e.uint16(id)
	if level == level5 {
		var props encoder
		props.byte(propPayloadFormat)
		props.byte(1)
		props.byte(propContentType)
		props.string("application/json")
		for _, h := range headers {
			props.byte(propUserProperty)
			props.string(h[0])
			props.string(h[1])
		}
		e.varint(len(props.b))
		e.bytes(props.b)
	}
	e.bytes(payload)
	return frame(packetPublish, 0x02, e.b) // QoS 1, no DUP, no RETAIN
}

// readPacket reads one control packet, refusing one longer than limit.
func readPacket(r *bufio.Reader, limit int) (packet, error) {
	first, err := r.ReadByte()
	if err != nil {
		return packet{}, err
	}
	n, err := readVarint(r)
	if err != nil {
		return packet{}, err
	}
	if n > limit {
		return packet{}, fmt.Errorf("MQTT packet of %d bytes exceeds %d", n, limit)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return packet{}, err
	}
	return packet{kind: first >> 4, flags: first & 0x0F, body: body}, nil
}

func readVarint(r io.ByteReader) (int, error) {
	n, mult := 0, 1
	for i := 0; i < 4; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		n += int(b&0x7F) * mult
		if b&0x80 == 0 {
			return n, nil
		}
		mult *= 128
	}
	return 0, errors.New("malformed MQTT remaining length")
}

// decoder reads the fields of a packet body; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

var errShort = errors.New("malformed MQTT packet: too short")

func (d *decoder) take(n int) []byte {
	if d.err != nil || n > len(d.b) {
		d.err = errShort
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) uint16() uint16 {
	if v := d.take(2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (d *decoder) uint32() uint32 {
	if v := d.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) string() string { return string(d.take(int(d.uint16()))) }

func (d *decoder) varint() int {
	if d.err != nil {
		return 0
	}
	n, mult := 0, 1
	for i := 0; i < 4; i++ {
		b := d.byte()
		n += int(b&0x7F) * mult
		if b&0x80 == 0 {
			return n
		}
		mult *= 128
	}
	d.err = errors.New("malformed MQTT variable-length integer")
	return 0
}

// properties reads an MQTT 5 property list.
func (d *decoder) properties() []property {
	n := d.varint()
	sub := &decoder{b: d.take(n)}
	if d.err != nil {
		return nil
	}
	var props []property
	for len(sub.b) > 0 && sub.err == nil {
		p := property{id: byte(sub.varint())}
		switch p.id {
		case 0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A:
			p.num = uint32(sub.byte())
		case 0x13, 0x21, 0x22, 0x23:
			p.num = uint32(sub.uint16())
		case 0x02, 0x11, 0x18, 0x27:
			p.num = sub.uint32()
		case 0x0B:
			p.num = uint32(sub.varint())
		case 0x03, 0x08, 0x09, 0x12, 0x15, 0x16, 0x1A, 0x1C, 0x1F:
			p.str = sub.string()
		case propUserProperty:
			p.str = sub.string()
			p.value = sub.string()
		default:
			sub.err = fmt.Errorf("malformed MQTT packet: unknown property 0x%02x", p.id)
		}
		props = append(props, p)
	}
	if sub.err != nil {
		d.err = sub.err
	}
	return props
}

// connack is a CONNACK's outcome and the limits the broker set.
type connack struct {
	code           byte // return code (3.1.1) or reason code (5)
	reason         string
	receiveMaximum int    // 0: not given (65535)
	maxPacketSize  uint32 // 0: no limit given
	maxQoS         int    // -1: not given (2)
	keepAlive      int    // -1: not given (ours)
}

func parseConnack(level byte, body []byte) (connack, error) {
	d := &decoder{b: body}
	d.byte() // session present
	c := connack{code: d.byte(), maxQoS: -1, keepAlive: -1}
	if level == level5 && len(d.b) > 0 {
		for _, p := range d.properties() {
			switch p.id {
			case propReceiveMaximum:
				c.receiveMaximum = int(p.num)
			case propMaximumPacketSize:
				c.maxPacketSize = p.num
			case propMaximumQoS:
				c.maxQoS = int(p.num)
			case propServerKeepAlive:
				c.keepAlive = int(p.num)
			case propReasonString:
				c.reason = p.str
			}
		}
	}
	return c, d.err
}

// puback is a PUBACK's packet id and outcome.
type puback struct {
	id     uint16
	code   byte // MQTT 5 reason code; 0 (success) for 3.1.1
	reason string
}

func parsePuback(level byte, body []byte) (puback, error) {
	d := &decoder{b: body}
	p := puback{id: d.uint16()}
	if level == level5 && len(d.b) > 0 {
		p.code = d.byte()
		if len(d.b) > 0 {
			for _, prop := range d.properties() {
				if prop.id == propReasonString {
					p.reason = prop.str
				}
			}
		}
	}
	return p, d.err
}

// reasonNames names the MQTT 5 reason codes a CONNACK, PUBACK or
// DISCONNECT may carry (MQTT 5.0 §2.4), and the 3.1.1 CONNACK codes.
var reasonNames = map[byte]string{
	0x10: "no matching subscribers",
	0x80: "unspecified error",
	0x81: "malformed packet",
	0x82: "protocol error",
	0x83: "implementation specific error",
	0x84: "unsupported protocol version",
	0x85: "client identifier not valid",
	0x86: "bad user name or password",
	0x87: "not authorized",
	0x88: "server unavailable",
	0x89: "server busy",
	0x8A: "banned",
	0x8B: "server shutting down",
	0x8D: "keep alive timeout",
	0x8E: "session taken over",
	0x90: "topic name invalid",
	0x93: "receive maximum exceeded",
	0x95: "packet too large",
	0x97: "quota exceeded",
	0x99: "payload format invalid",
	0x9F: "connection rate exceeded",
}

var connackNames311 = map[byte]string{
	1: "unacceptable protocol version",
	2: "identifier rejected",
	3: "server unavailable",
	4: "bad user name or password",
	5: "not authorized",
}

// reasonText is "0x87 not authorized" plus the broker's reason string.
func reasonText(code byte, names map[byte]string, reason string) string {
	s := fmt.Sprintf("0x%02X", code)
	if name := names[code]; name != "" {
		s += " " + name
	}
	if reason != "" {
		s += ": " + reason
	}
	return s
}
