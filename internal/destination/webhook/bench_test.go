package webhook

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/destination"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// BenchmarkSend sends one ~900-byte event to a webhook with two headers of
// its own over a kept-alive connection of the DeliveryClient, as serve does: the allocations and CPU of one
// delivery on the send path (the receiver, in process, counts too).
func BenchmarkSend(b *testing.B) {
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer recv.Close()
	client := outbound.NewClient(outbound.NewTransport(&outbound.Guard{AllowPrivate: true}, 5*time.Second, 0), 5*time.Second)
	deliveries := outbound.NewDeliveryClient(&outbound.Guard{AllowPrivate: true}, 5*time.Second, 0, nil)
	defer deliveries.CloseIdleConnections()
	d := New(&outbound.Sender{Client: client, Deliveries: deliveries, UserAgent: "hookd/bench", Now: time.Now})
	wh := &hookd.Webhook{ID: 1, URL: recv.URL + "/hook?x=1", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", IsActive: true,
		Headers:          map[string]string{"X-Tenant": "acme", "X-Api-Key": "k-123"},
		SensitiveHeaders: []string{"X-Tenant"}}
	payload := `{"order_id":"ORD-1","status":"confirmed","amount":150.5,"customer":{"id":1,"name":"John Doe","email":"john@example.com"},"items":[` +
		strings.Repeat(`{"product_id":1,"name":"Wireless Headphones","quantity":1,"price":150.5},`, 9) + `{"product_id":2}]}`
	ev := &hookd.Event{ID: "evt_0123456789", Type: "order.created", Payload: []byte(payload), CreatedAt: time.Now()}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		out := d.Send(b.Context(), wh, destination.Message{Event: ev, DeliveryID: int64(i)})
		if !out.Success {
			b.Fatal(fmt.Sprintf("%+v", out))
		}
	}
}
