package broker_test

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/destination"
	"github.com/hookd/hookd/internal/destination/amqp"
	"github.com/hookd/hookd/internal/destination/broker"
	"github.com/hookd/hookd/internal/destination/mqtt"
	"github.com/hookd/hookd/internal/destination/nats"
	"github.com/hookd/hookd/internal/destination/redisstream"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// fakePublisher records what it is asked to publish and answers result.
type fakePublisher struct {
	got    broker.Message
	result broker.Result
}

func (p *fakePublisher) Validate(string) error { return nil }
func (p *fakePublisher) Close() error          { return nil }
func (p *fakePublisher) Publish(_ context.Context, m broker.Message) broker.Result {
	p.got = m
	return p.result
}

func setup(t *testing.T, result broker.Result) (*broker.Destination, *fakePublisher, time.Time) {
	t.Helper()
	now := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	pub := &fakePublisher{result: result}
	sender := &outbound.Sender{UserAgent: "hookd/test", Now: func() time.Time { return now }}
	return broker.NewDestination(pub, sender), pub, now
}

var (
	webhook = &hookd.Webhook{
		URL: "amqp://broker/?routing_key=q", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		Headers: map[string]string{"x-tenant": "acme"},
	}
	event = &hookd.Event{ID: "evt_1", Type: "order.created", Payload: []byte(`{"n":1}`),
		CreatedAt: time.Date(2024, 1, 15, 9, 0, 0, 0, time.UTC)}
)

// TestDestinationSendsTheHTTPHeaders: the message carries the §6 body and
// the very headers an HTTP delivery would, signatures included; the basic
// auth is the broker's login, not an Authorization header.
func TestDestinationSendsTheHTTPHeaders(t *testing.T) {
	t.Parallel()
	d, pub, now := setup(t, broker.Result{Success: true, Response: "confirmed delivery tag 1"})
	wh := *webhook
	wh.Auth = &hookd.EndpointAuth{Type: hookd.AuthBasic, Username: "hookd", Password: "s3cret"}
	out := d.Send(t.Context(), &wh, destination.Message{Event: event, DeliveryID: 42, Test: true})
	if !out.Success || out.Attempt.ResponseBody != "confirmed delivery tag 1" || out.Attempt.ResponseCode != nil {
		t.Fatalf("outcome %+v", out)
	}
	body := outbound.EventBody(event, true)
	if string(pub.got.Body) != string(body) || pub.got.EventID != "evt_1" || pub.got.URL != webhook.URL ||
		pub.got.Username != "hookd" || pub.got.Password != "s3cret" {
		t.Errorf("message %+v", pub.got)
	}
	key := outbound.SecretKey(webhook.Secret)
	want := map[string]string{
		"Content-Type":        "application/json",
		"User-Agent":          "hookd/test",
		"X-Tenant":            "acme",
		"X-Webhook-Event":     "order.created",
		"X-Webhook-Id":        "evt_1",
		"X-Webhook-Delivery":  "42",
		"X-Webhook-Signature": outbound.SignHex(key, body),
		"webhook-id":          "evt_1",
		"webhook-timestamp":   strconv.FormatInt(now.Unix(), 10),
		"webhook-signature":   outbound.SignStandard(key, "evt_1", now, body),
	}
	if len(pub.got.Headers) != len(want) {
		t.Errorf("headers %q, want %q", pub.got.Headers, want)
	}
	for k, v := range want {
		if pub.got.Headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, pub.got.Headers[k], v)
		}
	}
}

// TestDestinationMapsTheResult: a Result becomes the attempt, and a dial
// the guard refused is blocked_target.
func TestDestinationMapsTheResult(t *testing.T) {
	t.Parallel()
	blocked := &outbound.BlockedError{Addr: netip.MustParseAddr("10.0.0.1"), Reason: "private"}
	for name, tc := range map[string]struct {
		result    broker.Result
		errType   string
		permanent bool
	}{
		"refused": {broker.Result{ErrorType: broker.ErrTypeBroker, ErrorMessage: "NOT_FOUND - no exchange 'x'",
			Duration: 1500 * time.Millisecond, RequestHeaders: map[string]string{"webhook-id": "evt_1"}}, hookd.ErrTypeBroker, false},
		"too large": {broker.Result{ErrorType: broker.ErrTypeBroker, ErrorMessage: "too large", Permanent: true}, hookd.ErrTypeBroker, true},
		"blocked": {broker.Result{ErrorType: broker.ErrTypeConnection, ErrorMessage: "dial: " + blocked.Error(),
			Err: fmt.Errorf("connect: %w", blocked)}, hookd.ErrTypeBlocked, false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d, _, now := setup(t, tc.result)
			out := d.Send(t.Context(), webhook, destination.Message{Event: event, DeliveryID: 1})
			a := out.Attempt
			if out.Success || a.ErrorType != tc.errType || out.Permanent != tc.permanent || !a.StartedAt.Equal(now) ||
				a.ResponseTimeMs != tc.result.Duration.Milliseconds() || a.RequestHeaders == nil {
				t.Errorf("outcome %+v", out)
			}
			if tc.errType != hookd.ErrTypeBlocked && a.ErrorMessage != tc.result.ErrorMessage {
				t.Errorf("error message %q", a.ErrorMessage)
			}
			if tc.errType == hookd.ErrTypeBlocked && (strings.Contains(a.ErrorMessage, "10.0.0.1") || !strings.Contains(a.ErrorMessage, "not allowed")) {
				t.Errorf("blocked message %q: want it not to tell what the host name resolved to", a.ErrorMessage)
			}
		})
	}
}

// TestBrokerHostsPassTheGuard: every publisher, dialling through the
// guard's dialer, refuses a loopback broker as blocked_target before any
// packet leaves.
func TestBrokerHostsPassTheGuard(t *testing.T) {
	t.Parallel()
	opts := broker.Options{Dial: outbound.NewDialer(&outbound.Guard{}, time.Second).DialContext, Timeout: 2 * time.Second}
	sender := &outbound.Sender{UserAgent: "hookd/test", Now: time.Now}
	for url, pub := range map[string]broker.Publisher{
		"amqp://127.0.0.1:5672/?routing_key=q": amqp.New(opts),
		"nats://localhost:4222/orders":         nats.New(opts),
		"redis://127.0.0.1:6379/0?stream=s":    redisstream.New(opts),
		"mqtt://[::1]:1883/orders":             mqtt.New(opts),
	} {
		d := broker.NewDestination(pub, sender)
		defer d.Close()
		wh := *webhook
		wh.URL = url
		out := d.Send(t.Context(), &wh, destination.Message{Event: event, DeliveryID: 1})
		if out.Success || out.Attempt.ErrorType != hookd.ErrTypeBlocked {
			t.Errorf("%s: %+v", url, out)
		}
	}
}
