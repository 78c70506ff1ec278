package outbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// Target is what every message to one destination shares, worked out once
// instead of per delivery: the URL parsed, the signing keys decoded (with
// HMACs kept for reuse), the destination's own headers in their sent form,
// and which header names are masked in the stored attempt. It is
// read-only once built and safe for concurrent sends.
type Target struct {
	url    *url.URL // nil when rawURL does not parse
	uri    string   // url as DeliveryClient sends it
	urlErr error
	own    []targetHeader // the destination's own headers, canonical names
	// ownMasked says which of hookd's headers (ownHeaderNames) the
	// destination lists as sensitive.
	ownMasked [len(ownHeaderNames)]bool
	sensitive []string // names masked besides hookd.SensitiveHeader's
	current   *signingKey
	previous  *signingKey // nil when there is no previous secret
}

type targetHeader struct {
	name, value string
	masked      bool
}

// ownHeaderNames are the headers hookd sets on every delivery, in the
// order of the values Target.headers writes: the first six in canonical
// form (as http.Header.Set writes them: X-Webhook-Id), the Standard
// Webhooks names lower-case and verbatim.
var ownHeaderNames = [...]string{
	"Content-Type", "User-Agent", "X-Webhook-Event", "X-Webhook-Id", "X-Webhook-Delivery", "X-Webhook-Signature",
	"webhook-id", "webhook-timestamp", "webhook-signature",
}

// canonicalOwn are the names of ownHeaderNames a destination's own header
// of the same canonical name gives way to (http.Header.Set replaced it).
var canonicalOwn = ownHeaderNames[:6]

// NewTarget prepares the sends to rawURL with these headers of the
// destination's own, signed with secret and, while it still signs,
// previous ("" when none); the values of the headers named in sensitive
// (any case) are masked in the stored attempt like those
// hookd.SensitiveHeader matches.
func NewTarget(rawURL string, headers map[string]string, secret, previous string, sensitive []string) *Target {
	t := newHeaderTarget(headers, secret, previous, sensitive)
	// As http.NewRequest does: the URL parsed, an empty port dropped.
	if u, err := url.Parse(rawURL); err != nil {
		t.urlErr = err
	} else {
		u.Host = strings.TrimSuffix(u.Host, ":")
		t.url = u
		sent := *u // what goes on the wire: no fragment
		sent.Fragment, sent.RawFragment = "", ""
		t.uri = sent.String()
	}
	return t
}

// newHeaderTarget is a Target for headers only (a message broker's), with
// no URL.
func newHeaderTarget(headers map[string]string, secret, previous string, sensitive []string) *Target {
	t := &Target{sensitive: slices.Clone(sensitive), current: newSigningKey(secret)}
	if previous != "" {
		t.previous = newSigningKey(previous)
	}
	// Sorted, so that two names of one canonical form resolve the same
	// way every time (the later wins, as with repeated Sets).
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		name := textproto.CanonicalMIMEHeaderKey(k)
		if slices.Contains(canonicalOwn, name) {
			continue // hookd's header replaces it
		}
		h := targetHeader{name: name, value: headers[k], masked: t.masks(name)}
		if i := slices.IndexFunc(t.own, func(o targetHeader) bool { return o.name == name }); i >= 0 {
			t.own[i] = h
		} else {
			t.own = append(t.own, h)
		}
	}
	for i, name := range ownHeaderNames {
		t.ownMasked[i] = t.masks(name)
	}
	return t
}

// masks reports whether the stored attempt masks header name's value.
func (t *Target) masks(name string) bool {
	if hookd.SensitiveHeader(name) {
		return true
	}
	for _, s := range t.sensitive {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}

// signingKey is one secret's HMAC-SHA256 key with HMACs of it kept for
// reuse: each costs a few allocations to make and is cheap to reset.
type signingKey struct {
	macs sync.Pool
}

func newSigningKey(secret string) *signingKey {
	key := SecretKey(secret)
	return &signingKey{macs: sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

// signScratch is the buffer one set of signature values is written into.
type signScratch struct {
	sum  [sha256.Size]byte
	line []byte
}

var signScratches = sync.Pool{New: func() any { return &signScratch{line: make([]byte, 0, 256)} }}

// appendHex appends "sha256=" and the hex HMAC of body.
func (k *signingKey) appendHex(b []byte, sc *signScratch, body []byte) []byte {
	mac := k.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write(body)
	sum := mac.Sum(sc.sum[:0])
	k.macs.Put(mac)
	b = append(b, "sha256="...)
	return hex.AppendEncode(b, sum)
}

// appendStandard appends "v1," and the base64 Standard Webhooks HMAC of
// msgID "." ts "." body, ts being the unix seconds already formatted.
func (k *signingKey) appendStandard(b []byte, sc *signScratch, msgID string, ts, body []byte) []byte {
	mac := k.macs.Get().(hash.Hash)
	mac.Reset()
	// The prefix is written through b's spare room: hash.Hash.Write of a
	// converted string would allocate.
	start := len(b)
	b = append(b, msgID...)
	b = append(b, '.')
	b = append(b, ts...)
	b = append(b, '.')
	mac.Write(b[start:])
	b = b[:start]
	mac.Write(body)
	sum := mac.Sum(sc.sum[:0])
	k.macs.Put(mac)
	b = append(b, "v1,"...)
	return base64.StdEncoding.AppendEncode(b, sum)
}

// headers returns the headers of an attempt of m at now and, unless the
// caller will change them (an Authorizer), their stored form. All values
// computed here share one string, and the header values one array.
func (t *Target) headers(m *Message, userAgent string, now time.Time, stored bool) (http.Header, map[string]string) {
	sc := signScratches.Get().(*signScratch)
	line := sc.line[:0]
	line = strconv.AppendInt(line, m.DeliveryID, 10)
	deliveryEnd := len(line)
	line = strconv.AppendInt(line, now.Unix(), 10)
	tsEnd := len(line)
	line = t.current.appendHex(line, sc, m.Body)
	xSigEnd := len(line)
	line = t.current.appendStandard(line, sc, m.EventID, line[deliveryEnd:tsEnd], m.Body)
	if m.PreviousSecret != "" && t.previous != nil {
		line = append(line, ' ')
		line = t.previous.appendStandard(line, sc, m.EventID, line[deliveryEnd:tsEnd], m.Body)
	}
	s := string(line)
	sc.line = line
	signScratches.Put(sc)

	values := [len(ownHeaderNames)]string{
		"application/json", userAgent, m.EventType, m.EventID, s[:deliveryEnd], s[tsEnd:xSigEnd],
		m.EventID, s[deliveryEnd:tsEnd], s[xSigEnd:],
	}
	n := len(t.own) + len(ownHeaderNames)
	h := make(http.Header, n)
	arr := make([]string, 0, n)
	var out map[string]string
	if stored {
		out = make(map[string]string, n)
	}
	set := func(name, v string, masked bool) {
		arr = append(arr, v)
		h[name] = arr[len(arr)-1 : len(arr) : len(arr)]
		if stored {
			if masked {
				v = hookd.Masked
			}
			out[name] = v
		}
	}
	for _, o := range t.own {
		set(o.name, o.value, o.masked)
	}
	for i, name := range ownHeaderNames {
		set(name, values[i], t.ownMasked[i])
	}
	return h, out
}
