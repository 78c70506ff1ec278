package outbound

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// BlockedError says a delivery was not sent because its target address is
// one the SSRF guard refuses. Classify reports it as "blocked_target".
type BlockedError struct {
	Addr   netip.Addr // the address that was about to be connected to
	Reason string     // what kind of address it is, e.g. "private"
}

// Error says which address was refused and how to allow it: for the
// server log only, since the address may be what an internal name
// resolves to. Classify answers users without it.
func (e *BlockedError) Error() string {
	return fmt.Sprintf("target address %s is blocked (%s); set HOOKD_ALLOW_PRIVATE_TARGETS=true or list it in HOOKD_ALLOWED_TARGETS to allow it", e.Addr, e.Reason)
}

// Guard refuses connections to addresses inside the operator's network:
// loopback, private, shared (CGNAT), link-local, unique-local, multicast,
// unspecified and other special-purpose ranges (see blockedRanges). Its
// Control method runs on the IP actually being dialled, after DNS
// resolution, so DNS rebinding cannot get past it.
//
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are checked as the IPv4
// address they carry. NAT64 (64:ff9b::/96), 6to4 (2002::/16) and
// IPv4-translated (::ffff:0:0:0/96) addresses are blocked when the IPv4
// address they embed is blocked, since a translator would deliver to it.
type Guard struct {
	// AllowPrivate turns the guard off (HOOKD_ALLOW_PRIVATE_TARGETS).
	AllowPrivate bool
	// Allowed lists prefixes reachable although blocked
	// (HOOKD_ALLOWED_TARGETS); matched against the unmapped address.
	Allowed []netip.Prefix
	// Resolver resolves delivery hosts for NewTransport's dialer; nil means
	// the system resolver. Tests point it at a DNS server on loopback.
	Resolver *net.Resolver
	// Log records each refused address (the only place it is told); nil
	// means slog.Default().
	Log *slog.Logger
}

// blockedRange is a special-purpose prefix deliveries may not reach.
type blockedRange struct {
	prefix netip.Prefix
	reason string
}

// blockedRanges are the special-purpose prefixes (IANA registries) that
// the netip predicates do not already cover or that deserve their own
// reason. Globally reachable anycast addresses inside 192.0.0.0/24 are
// blocked with the rest of that block: no webhook lives there.
var blockedRanges = []blockedRange{
	{netip.MustParsePrefix("0.0.0.0/8"), "this-network"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (CGNAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"}, // includes 255.255.255.255
	{netip.MustParsePrefix("::/96"), "IPv4-compatible (deprecated)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64"},
	{netip.MustParsePrefix("100::/64"), "discard-only"},
	{netip.MustParsePrefix("2001::/32"), "Teredo"},
	{netip.MustParsePrefix("2001:2::/48"), "benchmarking"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("3fff::/20"), "documentation"},
}

// embeddingRange is an IPv6 prefix whose addresses carry an IPv4 address
// at byte offset v4At that a translator or relay would deliver to.
type embeddingRange struct {
	prefix netip.Prefix
	v4At   int
}

// embeddingRanges are NAT64 well-known, IPv4-translated and 6to4.
var embeddingRanges = []embeddingRange{
	{netip.MustParsePrefix("64:ff9b::/96"), 12},
	{netip.MustParsePrefix("::ffff:0:0:0/96"), 12},
	{netip.MustParsePrefix("2002::/16"), 2},
}

// Check returns a *BlockedError when addr may not be connected to, nil
// otherwise. AllowPrivate and the Allowed prefixes take precedence.
func (g *Guard) Check(addr netip.Addr) error {
	if g.AllowPrivate {
		return nil
	}
	plain := addr.WithZone("")
	unmapped := plain.Unmap()
	for _, p := range g.Allowed {
		if p.Contains(unmapped) || p.Contains(plain) {
			return nil
		}
	}
	if reason := blockedReason(unmapped); reason != "" {
		return &BlockedError{Addr: addr, Reason: reason}
	}
	return nil
}

// blockedReason names the kind of special address a is, or "" when a is
// an ordinary global unicast address. a has no zone and is unmapped.
func blockedReason(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "invalid"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		if a.Is6() {
			return "unique-local"
		}
		return "private"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsMulticast():
		return "multicast"
	}
	for _, r := range blockedRanges {
		if r.prefix.Contains(a) {
			return r.reason
		}
	}
	if a.Is6() {
		b := a.As16()
		for _, r := range embeddingRanges {
			if !r.prefix.Contains(a) {
				continue
			}
			v4 := netip.AddrFrom4([4]byte(b[r.v4At : r.v4At+4]))
			if reason := blockedReason(v4); reason != "" {
				return "embeds " + v4.String() + ", " + reason
			}
		}
	}
	return ""
}

// Control checks the address a dialer is about to connect to; use it as
// net.Dialer.Control. It runs after DNS resolution and before the connect
// system call, so no packet reaches a blocked address.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		err = &BlockedError{Reason: fmt.Sprintf("unparsable %s address %q", network, address)}
	} else {
		err = g.Check(ap.Addr())
	}
	if err != nil {
		log := g.Log
		if log == nil {
			log = slog.Default()
		}
		log.Warn("outbound connection blocked", "network", network, "address", address, "error", err)
	}
	return err
}

// Transport defaults that do not depend on configuration.
const (
	transportKeepAlive       = 30 * time.Second
	transportIdleConnTimeout = 90 * time.Second
	transportMaxIdlePerHost  = 64
	transportMaxIdle         = 1024
	transportMaxHeaderBytes  = 64 << 10
	transportTLSHandshake    = 10 * time.Second
)

// NewDialer returns the dialer deliveries connect with: every dial passes
// g's Control hook (a nil g blocks with the defaults) and resolves with
// g's Resolver; timeout bounds connecting (0 means none). NewTransport
// dials with it, and so do the message broker destinations, so a broker's
// host passes the same checks as an HTTP endpoint's.
func NewDialer(g *Guard, timeout time.Duration) *net.Dialer {
	if g == nil {
		g = &Guard{}
	}
	return &net.Dialer{
		Timeout:   timeout,
		KeepAlive: transportKeepAlive,
		Control:   g.Control,
		Resolver:  g.Resolver,
	}
}

// NewTransport returns the transport deliveries are sent with: every dial
// passes g's Control hook (a nil g blocks with the defaults), proxies from
// the environment are ignored (a proxy would connect on our behalf and
// bypass the guard), idle connections are kept per host, and HTTP/2 is
// negotiated for https. timeout bounds connecting and the TLS handshake;
// maxConnsPerHost limits connections per host (0 means no limit).
func NewTransport(g *Guard, timeout time.Duration, maxConnsPerHost int) *http.Transport {
	if g == nil {
		g = &Guard{}
	}
	handshake := transportTLSHandshake
	if timeout > 0 && timeout < handshake {
		handshake = timeout
	}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            NewDialer(g, timeout).DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    handshake,
		MaxIdleConns:           transportMaxIdle,
		MaxIdleConnsPerHost:    transportMaxIdlePerHost,
		MaxConnsPerHost:        maxConnsPerHost,
		IdleConnTimeout:        transportIdleConnTimeout,
		MaxResponseHeaderBytes: transportMaxHeaderBytes,
		ExpectContinueTimeout:  time.Second,
	}
}

// NewClient returns an HTTP client over t whose requests end after
// timeout (0 means none) and which never follows redirects: a 3xx answer
// is returned as it is, so it fails the delivery as http_3xx.
func NewClient(t http.RoundTripper, timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: t,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
