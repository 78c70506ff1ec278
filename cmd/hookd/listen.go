package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/outbound"
	"github.com/hookd/hookd/internal/stream"
)

// Reconnection backoff of hookd listen.
const (
	listenMinBackoff = 200 * time.Millisecond
	listenMaxBackoff = 5 * time.Second
)

// maxStreamLine bounds one NDJSON line (an API body is at most 1 MiB).
const maxStreamLine = 4 << 20

// listen forwards a server's live events to a local URL, each signed as a
// real delivery would be, printing one line per event; it reconnects
// with Last-Event-ID when the stream drops, so none is missed.
func listen(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	forwardTo := fs.String("forward-to", "", "local URL each event is POSTed to (required)")
	events := fs.String("events", "", "comma-separated event types to forward, wildcards such as order.* allowed (default: all)")
	server := fs.String("server", "http://127.0.0.1:8080", "hookd server")
	tok := fs.String("token", "", "bearer token (default $HOOKD_TOKEN)")
	secret := fs.String("secret", "", "signing secret, as a webhook's (default: a new whsec_ secret, printed)")
	timeout := fs.Duration("timeout", 30*time.Second, "limit for one forwarded request")
	idle := fs.Duration("idle-timeout", 3*stream.DefaultKeepAlive, "reconnect when the server sends nothing, not even a keep-alive, for this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tok == "" {
		*tok = getenv("HOOKD_TOKEN")
	}
	switch {
	case *forwardTo == "":
		return errors.New("listen: --forward-to is required")
	case *tok == "":
		return errors.New("listen: set HOOKD_TOKEN or --token")
	case *timeout <= 0 || *idle <= 0:
		return errors.New("listen: --timeout and --idle-timeout must be above zero")
	}
	if err := httpURL(*forwardTo); err != nil {
		return fmt.Errorf("listen: --forward-to: %w", err)
	}
	streamURL, err := streamURL(*server, *events)
	if err != nil {
		return fmt.Errorf("listen: --server: %w", err)
	}
	if *secret == "" {
		if *secret, err = outbound.GenerateSecret(rand.Reader); err != nil {
			return err
		}
	}
	forwardClient := &http.Client{
		Timeout: *timeout,
		// Deliveries do not follow redirects; neither does a rehearsal of them.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	l := &listener{
		server: *server, streamURL: streamURL, token: *tok, forwardTo: *forwardTo, secret: *secret,
		events: *events, idle: *idle, stdout: stdout, stderr: stderr, client: &http.Client{},
		sender: &outbound.Sender{Client: forwardClient, UserAgent: "hookd-listen/" + version, Now: time.Now},
	}
	return l.run(ctx)
}

// httpURL checks that s is an absolute http(s) URL.
func httpURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

// streamURL is the NDJSON stream of the server for the events asked for.
func streamURL(server, events string) (string, error) {
	if err := httpURL(server); err != nil {
		return "", err
	}
	u, _ := url.Parse(server)
	u = u.JoinPath("api", "events", "stream") // the router takes it with or without the slash
	q := url.Values{"format": {"json"}}
	if events != "" {
		q.Set("events", events)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// listener is one hookd listen session.
type listener struct {
	server, streamURL, token, forwardTo, secret, events string
	idle                                                time.Duration
	stdout, stderr                                      io.Writer
	client                                              *http.Client // the stream's: no timeout
	sender                                              *outbound.Sender

	lastID    string // the last event forwarded: where a reconnection resumes
	forwarded int64  // numbers the forwards (X-Webhook-Delivery)
	ready     bool
}

// fatalError ends listen: retrying cannot help (a refused token, a bad
// --events).
type fatalError struct{ msg string }

func (e *fatalError) Error() string { return e.msg }

// errIdle: nothing came from the server within the idle timeout.
var errIdle = errors.New("nothing received within the idle timeout")

// run connects and reconnects until ctx ends or the server refuses.
func (l *listener) run(ctx context.Context) error {
	backoff := listenMinBackoff
	for {
		streamed, err := l.connect(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var fatal *fatalError
		if errors.As(err, &fatal) {
			return fatal
		}
		if streamed {
			backoff = listenMinBackoff
		}
		fmt.Fprintf(l.stderr, "%s  stream interrupted: %v; reconnecting in %s\n", clock(), err, backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, listenMaxBackoff)
	}
}

// connect opens the stream (resuming after lastID) and forwards what it
// yields until it ends. streamed says the server accepted the stream.
func (l *listener) connect(parent context.Context) (streamed bool, err error) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.streamURL, nil)
	if err != nil {
		return false, &fatalError{msg: "listen: " + err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+l.token)
	req.Header.Set("Accept", stream.JSON.ContentType())
	if l.lastID != "" {
		req.Header.Set("Last-Event-ID", l.lastID)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, l.refused(resp)
	}
	if !l.ready {
		l.ready = true
		what := "all"
		if l.events != "" {
			what = l.events
		}
		fmt.Fprintf(l.stdout, "Ready! Forwarding %s events from %s to %s\nYour webhook signing secret is %s (^C to quit)\n",
			what, l.server, l.forwardTo, l.secret)
	} else {
		fmt.Fprintf(l.stderr, "%s  reconnected; resuming after %s\n", clock(), orNone(l.lastID))
	}

	watchdog := time.AfterFunc(l.idle, func() { cancel(errIdle) })
	defer watchdog.Stop()
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(make([]byte, 64<<10), maxStreamLine)
	for lines.Scan() {
		watchdog.Stop()
		if line := bytes.TrimSpace(lines.Bytes()); len(line) > 0 { // blank lines are keep-alives
			l.forward(parent, line)
		}
		watchdog.Reset(l.idle)
	}
	err = lines.Err()
	switch {
	case errors.Is(context.Cause(ctx), errIdle):
		err = errIdle
	case err == nil:
		reason := resp.Trailer.Get(stream.EndHeader)
		if reason == "" {
			reason = "no reason given"
		}
		err = fmt.Errorf("the server ended the stream (%s)", reason)
	}
	return true, err
}

// refused turns a non-200 answer into an error; a forgotten resume point
// is dropped so that the next connection starts live.
func (l *listener) refused(resp *http.Response) error {
	var env struct {
		Error struct {
			Message string `json:"message"`
			Details []struct {
				Field, Message string
			} `json:"details"`
		} `json:"error"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &env) == nil && env.Error.Message != "" {
		msg = env.Error.Message
		for _, d := range env.Error.Details {
			msg += "; " + d.Field + " " + d.Message
		}
	}
	switch {
	case resp.StatusCode == http.StatusNotFound && l.lastID != "":
		fmt.Fprintf(l.stderr, "%s  the server no longer has %s: events since then cannot be replayed; continuing live\n", clock(), l.lastID)
		l.lastID = ""
		return fmt.Errorf("resume point unknown (%s)", msg)
	case resp.StatusCode == http.StatusBadRequest, resp.StatusCode == http.StatusUnauthorized,
		resp.StatusCode == http.StatusForbidden, resp.StatusCode == http.StatusNotFound:
		return &fatalError{msg: fmt.Sprintf("listen: the server refused the stream (%d): %s", resp.StatusCode, msg)}
	}
	return fmt.Errorf("the server answered %d: %s", resp.StatusCode, msg)
}

// forward POSTs one event body to the local URL, signed with the secret,
// and prints the outcome.
func (l *listener) forward(ctx context.Context, body []byte) {
	var ev struct {
		ID    string `json:"id"`
		Event string `json:"event"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" {
		fmt.Fprintf(l.stderr, "%s  skipped a line that is not an event: %.80q\n", clock(), body)
		return
	}
	l.forwarded++
	out := l.sender.Send(ctx, outbound.Message{
		URL: l.forwardTo, Secret: l.secret, EventID: ev.ID, EventType: ev.Event,
		DeliveryID: l.forwarded, Body: bytes.Clone(body),
	})
	l.lastID = ev.ID
	answer := fmt.Sprintf("[%d]", out.Status)
	if out.Status == 0 {
		answer = fmt.Sprintf("[ERR] %s: %s", out.Attempt.ErrorType, out.Attempt.ErrorMessage)
	}
	fmt.Fprintf(l.stdout, "%s  --> %s [%s]  <-- %s POST %s (%d ms)\n",
		clock(), ev.Event, ev.ID, answer, l.forwardTo, out.Attempt.ResponseTimeMs)
}

// clock is the local time at the start of each printed line.
func clock() string { return time.Now().Format("2006-01-02 15:04:05") }

func orNone(id string) string {
	if id == "" {
		return "(nothing yet: live)"
	}
	return id
}
