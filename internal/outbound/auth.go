package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"strings"
)

// Authorizer puts a destination's credentials on the requests of an
// attempt (docs/api.md §12): a fixed Authorization header, or a token it
// fetches and keeps.
type Authorizer interface {
	// Authorize sets the credentials on h. An error says none could be had
	// (a token endpoint refused, say): the attempt fails as auth_error and
	// the endpoint is not called.
	Authorize(ctx context.Context, h http.Header) error
	// Refresh is asked at most once an attempt, when the endpoint answered
	// 401 to the credentials Authorize set on h. It sets fresh ones and
	// reports true, so the request is made again and its outcome is the
	// attempt's; false when it has none fresher (fixed credentials). An
	// error fails the attempt as auth_error.
	Refresh(ctx context.Context, h http.Header) (bool, error)
}

// maxAuthMessage bounds an auth_error's message: a token endpoint's
// answer is quoted in it, and may be long.
const maxAuthMessage = 512

// authMessage is the log message of an auth_error: the cause on one
// line, cut to maxAuthMessage bytes.
func authMessage(err error) string {
	msg := strings.Join(strings.Fields(errorMessage(err)), " ")
	if len(msg) > maxAuthMessage {
		msg = cutUTF8(msg, maxAuthMessage) + "…"
	}
	return "no credentials for the endpoint: " + msg
}

// cutUTF8 cuts s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// NewTLSClient returns a client like base whose transport presents and
// trusts what cfg says (a client certificate, a private CA). It dials
// through base's transport's dialer, so the SSRF guard still decides
// every connection; base's transport must be an *http.Transport (as
// NewTransport makes).
func NewTLSClient(base *http.Client, cfg *tls.Config) (*http.Client, error) {
	t, ok := base.Transport.(*http.Transport)
	if !ok {
		return nil, errors.New("outbound: a TLS client needs an *http.Transport to build on")
	}
	clone := t.Clone()
	clone.TLSClientConfig = cfg
	c := *base
	c.Transport = clone
	return &c, nil
}
