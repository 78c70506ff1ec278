package outbound

import (
	"maps"
	"net/http"
	"net/textproto"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// TestOwnHeaderNamesAreCanonical: hookd's own headers are stored under the
// names http.Header.Set gives them, and the Standard Webhooks ones as they
// are spelled.
func TestOwnHeaderNamesAreCanonical(t *testing.T) {
	t.Parallel()
	for _, name := range canonicalOwn {
		if c := textproto.CanonicalMIMEHeaderKey(name); c != name {
			t.Errorf("%q is sent as %q", name, c)
		}
	}
}

// wantHeaders states the rules of docs/api.md §6 and §4 the plain way:
// the destination's own headers set first (hookd's replace them), hookd's
// after, the Standard Webhooks ones verbatim; stored with the values of
// sensitive names masked.
func wantHeaders(m Message, ua string, now time.Time, sensitive []string) (http.Header, map[string]string) {
	xSig, whSig := SignatureHeaders(m.EventID, now, m.Body, m.Secret, m.PreviousSecret)
	h := http.Header{}
	for k, v := range m.Headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", ua)
	h.Set("X-Webhook-Event", m.EventType)
	h.Set("X-Webhook-ID", m.EventID)
	h.Set("X-Webhook-Delivery", strconv.FormatInt(m.DeliveryID, 10))
	h.Set("X-Webhook-Signature", xSig)
	h["webhook-id"] = []string{m.EventID}
	h["webhook-timestamp"] = []string{strconv.FormatInt(now.Unix(), 10)}
	h["webhook-signature"] = []string{whSig}
	stored := map[string]string{}
	for k, vs := range h {
		stored[k] = vs[0]
	}
	return h, hookd.MaskHeaders(stored, sensitive...)
}

// TestTargetHeaders: a Target's headers, signatures and stored form are
// those the rules give, whatever the destination's own headers are named,
// with and without a previous secret, masked as the destination says.
func TestTargetHeaders(t *testing.T) {
	t.Parallel()
	now := time.Unix(vectorTimestamp, 0)
	tests := []struct {
		name      string
		m         Message
		sensitive []string
	}{
		{"plain secret, no headers", Message{Secret: "plain"}, nil},
		{"whsec secret with previous", Message{Secret: vectorSecret, PreviousSecret: "old-secret"}, nil},
		{"own headers in any case", Message{Secret: vectorSecret, Headers: map[string]string{
			"x-tenant": "acme", "X-API-KEY": "k1", "authorization": "Bearer t", "Webhook-Id": "mine"}}, nil},
		{"own header replaced by hookd's", Message{Secret: "s", Headers: map[string]string{
			"content-type": "text/plain", "x-webhook-id": "forged", "User-Agent": "me"}}, nil},
		{"sensitive names, hookd's among them", Message{Secret: "s", Headers: map[string]string{"X-Tenant": "acme", "X-Plain": "p"}},
			[]string{"x-tenant", "X-WEBHOOK-ID", "webhook-timestamp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := tt.m
			m.EventID, m.EventType, m.DeliveryID, m.Body = vectorMsgID, "order.created", 42, []byte(vectorPayload)
			target := NewTarget(m.URL, m.Headers, m.Secret, m.PreviousSecret, tt.sensitive)
			wantH, wantStored := wantHeaders(m, "hookd/test", now, tt.sensitive)
			// Concurrent sends share the target's HMACs and buffers.
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for range 50 {
						h, stored := target.headers(&m, "hookd/test", now, true)
						if !maps.EqualFunc(h, wantH, func(a, b []string) bool { return len(a) == 1 && len(b) == 1 && a[0] == b[0] }) {
							t.Errorf("headers\n%v\nwant\n%v", h, wantH)
							return
						}
						if !maps.Equal(stored, wantStored) {
							t.Errorf("stored\n%v\nwant\n%v", stored, wantStored)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// TestTargetHeadersLeaveRoomToAdd: adding a value to one header (as an
// Authorizer might) changes no other header's.
func TestTargetHeadersLeaveRoomToAdd(t *testing.T) {
	t.Parallel()
	target := NewTarget("http://example.com/", map[string]string{"X-A": "a"}, "s", "", nil)
	h, _ := target.headers(&Message{EventID: "e", Body: []byte("{}")}, "ua", time.Now(), false)
	h.Add("X-A", "again")
	h.Add("Content-Type", "again")
	if h.Get("User-Agent") != "ua" || h.Values("X-A")[1] != "again" || h.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", h)
	}
}
