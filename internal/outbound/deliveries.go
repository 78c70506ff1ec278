package outbound

import (
	"context"
	"crypto/tls"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/hookd/hookd/internal/hookd"
)

// DeliveryClient sends webhook deliveries over kept-alive HTTP/1.1
// connections with fasthttp, which writes and reads each request in the
// calling goroutine and reuses its buffers: about half the CPU and
// allocations of net/http's client for a small POST, the work a delivery
// is made of. Every connection is dialled through the guard, as
// NewTransport's are. Integrations, token requests and endpoints with
// their own TLS client keep net/http (Sender.Client).
type DeliveryClient struct {
	c       *fasthttp.Client
	timeout time.Duration
}

// NewDeliveryClient returns the client deliveries go out with: each
// request ends after timeout (0 means none), connecting included;
// maxConnsPerHost limits connections per host (0 means no limit), and a
// request waits up to timeout for one of them. tlsConfig, when set, is
// what https connections present and trust (nil: the system's roots).
func NewDeliveryClient(g *Guard, timeout time.Duration, maxConnsPerHost int, tlsConfig *tls.Config) *DeliveryClient {
	if g == nil {
		g = &Guard{}
	}
	if maxConnsPerHost <= 0 {
		maxConnsPerHost = math.MaxInt32
	}
	dialer := NewDialer(g, timeout)
	return &DeliveryClient{timeout: timeout, c: &fasthttp.Client{
		DialTimeout: func(addr string, timeout time.Duration) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			return dialer.DialContext(ctx, "tcp", addr)
		},
		TLSConfig:           tlsConfig,
		MaxConnsPerHost:     maxConnsPerHost,
		MaxConnWaitTimeout:  timeout,
		MaxIdleConnDuration: transportIdleConnTimeout,
		// The response's status line and headers must fit; the body is
		// streamed (below) and read no further than maxReadBody.
		ReadBufferSize:     transportMaxHeaderBytes,
		StreamResponseBody: true,
		// Sent as built: header names as hookd wrote them (canonical),
		// the path as the webhook's URL spells it.
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
		NoDefaultUserAgentHeader:      true,
		// A kept-alive connection the receiver closed meanwhile fails
		// before any answer; the request goes again once, on another.
		RetryIfErr: func(_ *fasthttp.Request, attempts int, _ error) (bool, bool) {
			return false, attempts < 2
		},
	}}
}

// CloseIdleConnections closes the connections no request is using.
func (d *DeliveryClient) CloseIdleConnections() { d.c.CloseIdleConnections() }

// post sends body with headers h to t's URL and reads the answer. It
// returns when the answer is read, the request's time is up, or ctx ends
// (the request is then left to finish on its own, its answer unread).
func (d *DeliveryClient) post(ctx context.Context, t *Target, h http.Header, body []byte) (answer, error) {
	deadline, ok := ctx.Deadline()
	if d.timeout > 0 {
		if own := time.Now().Add(d.timeout); !ok || own.Before(deadline) {
			deadline, ok = own, true
		}
	}
	if !ok {
		deadline = time.Now().Add(100 * 365 * 24 * time.Hour)
	}
	req := fasthttp.AcquireRequest()
	req.SetRequestURI(t.uri)
	req.Header.SetMethod(http.MethodPost)
	for name, values := range h {
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	req.SetBody(body) // a copy: a cancelled call returns before the request is done
	var a answer
	var err error
	if ctx.Done() == nil {
		a, err = d.do(req, deadline)
	} else {
		done := make(chan result, 1)
		go func() {
			a, err := d.do(req, deadline)
			done <- result{a, err}
		}()
		select {
		case r := <-done:
			a, err = r.answer, r.err
		case <-ctx.Done():
			err = context.Cause(ctx)
		}
	}
	if err != nil {
		// As net/http's client reports it: the URL names the target.
		err = &url.Error{Op: "Post", URL: t.uri, Err: err}
	}
	return a, err
}

type result struct {
	answer
	err error
}

// do sends req (and releases it) and reads the answer as stored.
func (d *DeliveryClient) do(req *fasthttp.Request, deadline time.Time) (answer, error) {
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	err := d.c.DoDeadline(req, resp, deadline)
	fasthttp.ReleaseRequest(req)
	if err != nil {
		return answer{}, err
	}
	a := answer{
		code:       resp.StatusCode(),
		reason:     string(resp.Header.StatusMessage()),
		retryAfter: string(resp.Header.Peek("Retry-After")),
	}
	stream := resp.BodyStream()
	if stream == nil { // read whole already
		a.body = hookd.StoredResponseBody(resp.Body())
		return a, nil
	}
	a.body, err = readStored(stream)
	return a, err
}

// answer is what an attempt keeps of a response.
type answer struct {
	code       int
	reason     string // the status line's text after the code
	retryAfter string
	body       string // as stored (hookd.StoredResponseBody)
}

// readStored reads the part of a response body an attempt keeps, and
// the rest up to maxReadBody for its errors; a longer body is left unread.
func readStored(r io.Reader) (string, error) {
	buf := readBufs.Get().(*[hookd.MaxStoredResponseBody + 1]byte)
	defer readBufs.Put(buf)
	n, err := io.ReadFull(r, buf[:])
	body := hookd.StoredResponseBody(buf[:n])
	switch err {
	case io.EOF, io.ErrUnexpectedEOF:
		return body, nil
	case nil:
	default:
		return body, err
	}
	if _, err = io.CopyN(io.Discard, r, maxReadBody-int64(n)); err == io.EOF {
		return body, nil
	}
	return body, err
}
