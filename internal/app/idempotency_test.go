package app

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

// firstEvent is a publisher for which every key was taken by one event.
type firstEvent struct{ hookd.Event }

func (f firstEvent) Publish(_ context.Context, _, _ string, events []EventToPublish) ([]hookd.Published, error) {
	out := make([]hookd.Published, len(events))
	for i := range events {
		out[i] = hookd.Published{Event: f.Event, Duplicate: true}
	}
	return out, nil
}

func (firstEvent) Invalidate(string) {}

func TestIdempotencyKeyReusedForAnotherBody(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.Events.Publisher = firstEvent{hookd.Event{ID: "evt_1", Type: "order.created", Payload: json.RawMessage(`{"order_id":"A","amount":150.00}`)}}
	cases := []struct {
		name, event, payload string
		conflict             bool
	}{
		{"same body", "order.created", `{"order_id":"A","amount":150.00}`, false},
		{"same body, other key order and spacing", "order.created", `{ "amount": 150.00, "order_id": "A" }`, false},
		{"other payload", "order.created", `{"order_id":"B","amount":150.00}`, true},
		{"other event type", "order.updated", `{"order_id":"A","amount":150.00}`, true},
	}
	for _, tc := range cases {
		res, err := f.Events.PublishEvent(t.Context(), "acme", "alice", hookd.PublishInput{
			Event: ptr(tc.event), Payload: json.RawMessage(tc.payload), IdempotencyKey: ptr("k1")})
		switch {
		case tc.conflict && hookd.ErrorCode(err) != hookd.EConflict:
			t.Errorf("%s: %v, want a conflict", tc.name, err)
		case !tc.conflict && (err != nil || !res.Duplicate || res.Event.ID != "evt_1"):
			t.Errorf("%s: %+v %v, want the first event", tc.name, res, err)
		}
	}
}
