package mqtt

import (
	"bufio"
	"bytes"
	"testing"
)

func TestVarintRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 16383, 16384, 2097151, 2097152, maxRemainingLength} {
		b := appendVarint(nil, n)
		got, err := readVarint(bytes.NewReader(b))
		if err != nil || got != n {
			t.Errorf("varint %d: encoded % x, read back %d, %v", n, b, got, err)
		}
	}
	if _, err := readVarint(bytes.NewReader([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0x01})); err == nil {
		t.Error("a five-byte remaining length was accepted")
	}
}

func TestConnectPacketCredentials(t *testing.T) {
	tests := []struct {
		level      byte
		user, pass string
		wantFlags  byte
	}{
		{level5, "", "", 0x02},
		{level5, "u", "p", 0xC2},
		{level5, "", "p", 0x42},
		{level311, "u", "p", 0xC2},
		{level311, "", "p", 0x02}, // 3.1.1: no password without a user name
	}
	for _, tt := range tests {
		pk, err := readPacket(bufio.NewReader(bytes.NewReader(connectPacket(tt.level, "id", tt.user, tt.pass, 30))), 1<<10)
		if err != nil || pk.kind != packetConnect {
			t.Fatalf("%+v: %+v %v", tt, pk, err)
		}
		d := &decoder{b: pk.body}
		if name, level, flags := d.string(), d.byte(), d.byte(); name != "MQTT" || level != tt.level || flags != tt.wantFlags {
			t.Errorf("%+v: protocol %q level %d flags %#x", tt, name, level, flags)
		}
		d.uint16()
		if tt.level == level5 {
			d.properties()
		}
		if id := d.string(); id != "id" {
			t.Errorf("client id %q", id)
		}
		if tt.wantFlags&0x80 != 0 && d.string() != tt.user {
			t.Errorf("%+v: user name", tt)
		}
		if tt.wantFlags&0x40 != 0 && d.string() != tt.pass {
			t.Errorf("%+v: password", tt)
		}
		if d.err != nil || len(d.b) != 0 {
			t.Errorf("%+v: %v, %d bytes left", tt, d.err, len(d.b))
		}
	}
}

func TestPublishPacketProperties(t *testing.T) {
	b := publishPacket(level5, "a/b", 7, [][2]string{{"X-Webhook-Event", "order.created"}}, []byte(`{}`))
	pk, err := readPacket(bufio.NewReader(bytes.NewReader(b)), 1<<10)
	if err != nil || pk.kind != packetPublish || pk.flags != 0x02 {
		t.Fatalf("%+v %v", pk, err)
	}
	d := &decoder{b: pk.body}
	if topic, id := d.string(), d.uint16(); topic != "a/b" || id != 7 {
		t.Errorf("topic %q id %d", topic, id)
	}
	props := d.properties()
	if len(props) != 3 || props[2].id != propUserProperty || props[2].str != "X-Webhook-Event" || props[2].value != "order.created" {
		t.Errorf("properties %+v", props)
	}
	if string(d.b) != `{}` || d.err != nil {
		t.Errorf("payload %q, %v", d.b, d.err)
	}

	b = publishPacket(level311, "a/b", 7, nil, []byte(`{}`))
	pk, _ = readPacket(bufio.NewReader(bytes.NewReader(b)), 1<<10)
	d = &decoder{b: pk.body}
	d.string()
	d.uint16()
	if string(d.b) != `{}` {
		t.Errorf("3.1.1 payload %q", d.b)
	}
}
