// Package client is a Go client of the hookd API: publishing events,
// managing webhooks and their delivery logs, and verifying deliveries on
// the receiving side (Verify).
//
// Every method returns a *Error when hookd answered with its error
// envelope. Requests are retried on 429 and 5xx answers (honouring
// Retry-After, within bounds); a POST is retried on a 5xx only when it
// carries an idempotency key, so that a retry cannot publish twice.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client talks to one hookd server with one bearer token. It is safe for
// concurrent use.
type Client struct {
	base       *url.URL
	token      string
	http       *http.Client
	maxRetries int
	maxWait    time.Duration
	userAgent  string
}

// Option changes a Client made by New.
type Option func(*Client)

// WithHTTPClient sends requests with hc (default: a client with a 30 s
// timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithRetries retries a failed request up to n times (default 3; 0: never),
// waiting at most maxWait before one retry (default 30 s), whatever
// Retry-After asks.
func WithRetries(n int, maxWait time.Duration) Option {
	return func(c *Client) { c.maxRetries, c.maxWait = max(n, 0), maxWait }
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client of the server at baseURL (e.g.
// "http://127.0.0.1:8080") sending token as its bearer token.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: server URL %q is not an absolute http(s) URL", baseURL)
	}
	c := &Client{base: u, token: token, http: &http.Client{Timeout: 30 * time.Second},
		maxRetries: 3, maxWait: 30 * time.Second, userAgent: "hookd-go-client"}
	for _, o := range opts {
		o(c)
	}
	if c.maxWait <= 0 {
		c.maxWait = 30 * time.Second
	}
	return c, nil
}

// Error is hookd's error envelope: {"success": false, "error": {"code",
// "message", "details"}}, with the HTTP status.
type Error struct {
	Status  int          // HTTP status, e.g. 422
	Code    string       // e.g. "validation_error", "not_found", "conflict"
	Message string       // for people
	Details []FieldError // one per invalid field, for validation errors
	// RetryAfter is what the server asked to wait (429, 503), or 0.
	RetryAfter time.Duration
}

// FieldError names one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hookd: %d %s: %s", e.Status, e.Code, e.Message)
	for _, d := range e.Details {
		fmt.Fprintf(&b, "; %s %s", d.Field, d.Message)
	}
	return b.String()
}

// ErrorCode returns the code of a *Error in err's chain, or "".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// envelope is every answer's shape.
type envelope struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Message string          `json:"message"`
	Error   *struct {
		Code    string       `json:"code"`
		Message string       `json:"message"`
		Details []FieldError `json:"details"`
	} `json:"error"`
}

// request is one API call.
type request struct {
	method string
	path   string // below the base URL, e.g. "/api/webhooks/"
	query  url.Values
	body   any
	header http.Header
}

// do sends req, retrying as the package documents, and decodes the data
// of a successful answer into out (when not nil). It returns the status.
func (c *Client) do(ctx context.Context, req request, out any) (int, error) {
	var body []byte
	if req.body != nil {
		var err error
		if body, err = json.Marshal(req.body); err != nil {
			return 0, fmt.Errorf("client: encode request: %w", err)
		}
	}
	u := *c.base
	u.Path = c.base.Path + req.path
	u.RawQuery = req.query.Encode()
	retryable5xx := req.method != http.MethodPost || req.header.Get("Idempotency-Key") != ""
	for attempt := 0; ; attempt++ {
		status, wait, err := c.once(ctx, req, u.String(), body, out)
		var apiErr *Error
		retry := attempt < c.maxRetries && errors.As(err, &apiErr) &&
			(apiErr.Status == http.StatusTooManyRequests || apiErr.Status >= 500 && retryable5xx)
		if !retry {
			return status, err
		}
		if wait <= 0 {
			wait = time.Duration(200<<attempt) * time.Millisecond
			wait += time.Duration(rand.Int64N(int64(wait / 5))) // jitter
		}
		t := time.NewTimer(min(wait, c.maxWait))
		select {
		case <-ctx.Done():
			t.Stop()
			return status, err
		case <-t.C:
		}
	}
}

// once sends one request; wait is the answer's Retry-After.
func (c *Client) once(ctx context.Context, req request, u string, body []byte, out any) (int, time.Duration, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u, rd)
	if err != nil {
		return 0, 0, err
	}
	for k, v := range req.header {
		hr.Header[k] = v
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return resp.StatusCode, 0, err
	}
	wait := retryAfter(resp.Header.Get("Retry-After"))
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || (!env.Success && env.Error == nil) {
		if resp.StatusCode >= 400 {
			return resp.StatusCode, wait, &Error{Status: resp.StatusCode, Code: "http_" + strconv.Itoa(resp.StatusCode),
				Message: strings.TrimSpace(string(raw[:min(len(raw), 200)])), RetryAfter: wait}
		}
		return resp.StatusCode, 0, fmt.Errorf("client: %s %s: unexpected answer %d: %.200s", req.method, req.path, resp.StatusCode, raw)
	}
	if !env.Success {
		return resp.StatusCode, wait, &Error{Status: resp.StatusCode, Code: env.Error.Code, Message: env.Error.Message,
			Details: env.Error.Details, RetryAfter: wait}
	}
	if out != nil && len(env.Data) > 0 {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return resp.StatusCode, 0, fmt.Errorf("client: decode %s %s: %w", req.method, req.path, err)
		}
	}
	return resp.StatusCode, 0, nil
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
