package outbound

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

// DNS wire constants used by the test server.
const (
	dnsTypeA    = 1
	dnsTypeAAAA = 28
	dnsClassIN  = 1
	dnsNXDomain = 3
)

// startTestDNS runs a tiny DNS server on 127.0.0.1 UDP that answers A and
// AAAA questions from records (names without the trailing dot) and
// NXDOMAIN for every other name, and returns a resolver that sends every
// query there. Tests resolve names through it so that no lookup leaves the
// machine.
func startTestDNS(t *testing.T, records map[string][]netip.Addr) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for test DNS: %v", err)
	}
	t.Cleanup(func() { pc.Close() })
	go serveTestDNS(pc, records)
	server := pc.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", server)
		},
	}
}

// serveTestDNS answers queries on pc until it is closed.
func serveTestDNS(pc net.PacketConn, records map[string][]netip.Addr) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		if resp := answerDNS(buf[:n], records); resp != nil {
			_, _ = pc.WriteTo(resp, from)
		}
	}
}

// answerDNS builds the response to one query, or nil for a malformed one.
func answerDNS(query []byte, records map[string][]netip.Addr) []byte {
	if len(query) < 12 || binary.BigEndian.Uint16(query[4:6]) != 1 {
		return nil
	}
	var labels []string
	i := 12
	for {
		if i >= len(query) {
			return nil
		}
		l := int(query[i])
		i++
		if l == 0 {
			break
		}
		if l > 63 || i+l > len(query) {
			return nil
		}
		labels = append(labels, string(query[i:i+l]))
		i += l
	}
	if i+4 > len(query) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(query[i : i+2])
	question := query[12 : i+4]
	name := strings.ToLower(strings.Join(labels, "."))

	addrs, known := records[name]
	var answers [][]byte
	for _, a := range addrs {
		switch {
		case qtype == dnsTypeA && a.Is4():
			b := a.As4()
			answers = append(answers, b[:])
		case qtype == dnsTypeAAAA && a.Is6():
			b := a.As16()
			answers = append(answers, b[:])
		}
	}

	flags := uint16(0x8180) // response, recursion desired and available
	if !known {
		flags |= dnsNXDomain
	}
	resp := make([]byte, 12, 512)
	copy(resp, query[:2])
	binary.BigEndian.PutUint16(resp[2:], flags)
	binary.BigEndian.PutUint16(resp[4:], 1)
	binary.BigEndian.PutUint16(resp[6:], uint16(len(answers)))
	resp = append(resp, question...)
	for _, rdata := range answers {
		resp = append(resp, 0xC0, 0x0C) // name: pointer to the question
		resp = binary.BigEndian.AppendUint16(resp, qtype)
		resp = binary.BigEndian.AppendUint16(resp, dnsClassIN)
		resp = binary.BigEndian.AppendUint32(resp, 1) // TTL
		resp = binary.BigEndian.AppendUint16(resp, uint16(len(rdata)))
		resp = append(resp, rdata...)
	}
	return resp
}

func TestTestDNSResolves(t *testing.T) {
	t.Parallel()
	r := startTestDNS(t, map[string][]netip.Addr{
		"rebind.test": {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
	})
	got, err := r.LookupNetIP(context.Background(), "ip", "rebind.test")
	if err != nil {
		t.Fatalf("lookup rebind.test: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("lookup rebind.test = %v, want 127.0.0.1 and ::1", got)
	}
	_, err = r.LookupNetIP(context.Background(), "ip", "nothing.invalid")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Fatalf("lookup nothing.invalid: err = %v, want a not-found *net.DNSError", err)
	}
}
