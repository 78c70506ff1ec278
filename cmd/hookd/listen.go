package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/hookd/hookd/client"
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
	if err := httpURL(*server); err != nil {
		return fmt.Errorf("listen: --server: %w", err)
	}
	api, err := client.New(*server, *tok, client.WithUserAgent("hookd-listen/"+version))
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
		server: *server, forwardTo: *forwardTo, secret: *secret,
		events: *events, idle: *idle, stdout: stdout, stderr: stderr, api: api,
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

// listener is one hookd listen session.
type listener struct {
	server, forwardTo, secret, events string
	idle                              time.Duration
	stdout, stderr                    io.Writer
	api                               *client.Client
	sender                            *outbound.Sender

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
	st, err := l.api.OpenStream(parent, client.StreamOptions{Events: l.events, LastEventID: l.lastID, IdleTimeout: l.idle})
	if err != nil {
		var refused *client.Error
		if errors.As(err, &refused) {
			return false, l.refused(refused)
		}
		return false, err
	}
	defer st.Close()
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

	for {
		ev, err := st.Next()
		if err != nil {
			switch {
			case errors.Is(err, client.ErrStreamIdle):
				err = errIdle
			case errors.Is(err, client.ErrStreamEnded):
				reason := st.EndReason()
				if reason == "" {
					reason = "no reason given"
				}
				err = fmt.Errorf("the server ended the stream (%s)", reason)
			}
			return true, err
		}
		l.forward(parent, ev)
	}
}

// refused turns a refused stream into an error; a forgotten resume point
// is dropped so that the next connection starts live.
func (l *listener) refused(e *client.Error) error {
	msg := e.Message
	for _, d := range e.Details {
		msg += "; " + d.Field + " " + d.Message
	}
	switch {
	case e.Status == http.StatusNotFound && l.lastID != "":
		fmt.Fprintf(l.stderr, "%s  the server no longer has %s: events since then cannot be replayed; continuing live\n", clock(), l.lastID)
		l.lastID = ""
		return fmt.Errorf("resume point unknown (%s)", msg)
	case e.Status == http.StatusBadRequest, e.Status == http.StatusUnauthorized,
		e.Status == http.StatusForbidden, e.Status == http.StatusNotFound:
		return &fatalError{msg: fmt.Sprintf("listen: the server refused the stream (%d): %s", e.Status, msg)}
	}
	return fmt.Errorf("the server answered %d: %s", e.Status, msg)
}

// forward POSTs one event body to the local URL, signed with the secret,
// and prints the outcome.
func (l *listener) forward(ctx context.Context, ev client.StreamEvent) {
	l.forwarded++
	out := l.sender.Send(ctx, outbound.Message{
		URL: l.forwardTo, Secret: l.secret, EventID: ev.ID, EventType: ev.Type,
		DeliveryID: l.forwarded, Body: ev.Body,
	})
	l.lastID = ev.ID
	answer := fmt.Sprintf("[%d]", out.Status)
	if out.Status == 0 {
		answer = fmt.Sprintf("[ERR] %s: %s", out.Attempt.ErrorType, out.Attempt.ErrorMessage)
	}
	fmt.Fprintf(l.stdout, "%s  --> %s [%s]  <-- %s POST %s (%d ms)\n",
		clock(), ev.Type, ev.ID, answer, l.forwardTo, out.Attempt.ResponseTimeMs)
}

// clock is the local time at the start of each printed line.
func clock() string { return time.Now().Format("2006-01-02 15:04:05") }

func orNone(id string) string {
	if id == "" {
		return "(nothing yet: live)"
	}
	return id
}
