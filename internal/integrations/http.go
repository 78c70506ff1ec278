package integrations

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// Response bodies are read up to maxReadBody and recorded up to
// hookd.MaxStoredResponseBody, as for webhook deliveries (docs/api.md §6).
const (
	maxReadBody = 64 << 10
	// maxErrorSnippet is how much of a refusal's body joins the error message.
	maxErrorSnippet = 200
)

// Request is one HTTP request a provider makes.
type Request struct {
	Method string
	URL    string
	// Header adds to Content-Type: application/json and User-Agent.
	Header http.Header
	Body   []byte
	// Secrets are credentials besides the URL (API keys) that must never be
	// recorded: they are scrubbed from stored bodies and error messages.
	Secrets []string
}

// Do makes one request with the guarded client and classifies the answer
// with the error types of webhook deliveries: any 2xx is a success;
// anything else is a *SendError that says whether retrying can help and
// carries the Retry-After of a 429, 502, 503 or 504. The recorded request
// headers have credentials masked; the recorded body and error message
// have the URL and req.Secrets scrubbed.
func (d Deps) Do(ctx context.Context, req Request) (Sent, error) {
	h := req.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("User-Agent", d.UserAgent)
	sent := Sent{Attempt: hookd.Attempt{StartedAt: d.now(), RequestHeaders: hookd.FlattenHeaders(h, hookd.SensitiveHeader)}}
	secrets := append(urlSecrets(req.URL), req.Secrets...)
	method := req.Method
	if method == "" {
		method = http.MethodPost
	}
	hr, err := http.NewRequestWithContext(ctx, method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return sent, &SendError{Type: hookd.ErrTypeConnection, Message: "the configured URL cannot be used"}
	}
	hr.Header = h
	start := time.Now()
	resp, err := d.Client.Do(hr)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxReadBody))
		_, _ = io.CopyN(io.Discard, resp.Body, maxReadBody) // lets the connection be reused
		resp.Body.Close()
	}
	sent.Attempt.ResponseTimeMs = time.Since(start).Milliseconds()
	status := 0
	if resp != nil {
		status = resp.StatusCode
		sent.Attempt.ResponseCode = &status
		sent.Attempt.ResponseBody = hookd.StoredResponseBody(scrub(string(body), secrets))
	}
	if err == nil && status >= 200 && status <= 299 {
		return sent, nil
	}
	typ, msg := outbound.Classify(err, resp)
	if err == nil {
		if snippet := oneLine(string(body), maxErrorSnippet); snippet != "" {
			msg += ": " + snippet
		}
	}
	se := &SendError{Type: typ, Message: scrub(msg, secrets), Status: status, Retryable: Retryable(typ, status)}
	if err == nil && outbound.HonorsRetryAfter(status) {
		se.RetryAfter = outbound.ParseRetryAfter(resp.Header.Get("Retry-After"), d.now())
	}
	return sent, se
}

// Retryable says whether an attempt that failed this way may succeed
// later: timeouts, lost connections, DNS failures, 408, 425, 429 and 5xx
// answers may; a blocked target, a TLS failure or any other answer (the
// service refused the request as it is) will not.
func Retryable(errType string, status int) bool {
	switch errType {
	case hookd.ErrTypeBlocked, hookd.ErrTypeTLS:
		return false
	case hookd.ErrTypeTimeout, hookd.ErrTypeConnection, hookd.ErrTypeDNS:
		return true
	}
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly, status == http.StatusTooManyRequests:
		return true
	case status >= 500:
		return true
	}
	return false
}

// urlSecrets lists what of a service URL must not be recorded: the URL
// itself, and its path, long path segments and query, which carry the
// tokens of webhook URLs.
func urlSecrets(raw string) []string {
	out := []string{raw}
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	for _, s := range []string{u.Path, u.EscapedPath(), u.RawQuery} {
		if len(s) >= 8 {
			out = append(out, s)
		}
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if len(seg) >= 12 {
			out = append(out, seg)
		}
	}
	return out
}

// scrub replaces every secret found in s with the mask.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, hookd.Masked)
		}
	}
	return s
}

// oneLine shortens a response body to one line of at most n bytes for an
// error message.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return truncateUTF8(s, n) + "…"
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
