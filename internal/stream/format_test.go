package stream

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

func TestParseFormat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in          string
		want        Format
		ok          bool
		contentType string
	}{
		{"", JSON, true, "application/x-ndjson"},
		{"json", JSON, true, "application/x-ndjson"},
		{"sse", SSE, true, "text/event-stream"},
		{"SSE", "", false, ""},
		{"xml", "", false, ""},
	}
	for _, tc := range cases {
		got, ok := ParseFormat(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok && got.ContentType() != tc.contentType {
			t.Errorf("%q content type %q, want %q", tc.in, got.ContentType(), tc.contentType)
		}
	}
}

func TestAppendEvent(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 1, 15, 10, 30, 0, 123_456_789, time.UTC)
	event := func(payload string) *hookd.Event {
		return &hookd.Event{ID: "evt_1", Seq: 7, Tenant: "acme", Type: "order.created", Version: "1.0",
			Payload: json.RawMessage(payload), CreatedAt: at}
	}
	cases := []struct {
		name    string
		format  Format
		payload string
		want    string
	}{
		{"ndjson is the delivery body", JSON, `{"order_id":"ORD-1","amount":150}`,
			`{"id":"evt_1","event":"order.created","version":"1.0","timestamp":"2024-01-15T10:30:00.123Z","data":{"order_id":"ORD-1","amount":150}}` + "\n"},
		{"sse adds the timestamp", SSE, `{"order_id":"ORD-1","amount":150}`,
			"id: evt_1\nevent: order.created\ndata: {\"order_id\":\"ORD-1\",\"amount\":150,\"timestamp\":\"2024-01-15T10:30:00.123Z\"}\n\n"},
		{"sse empty payload", SSE, `{}`,
			"id: evt_1\nevent: order.created\ndata: {\"timestamp\":\"2024-01-15T10:30:00.123Z\"}\n\n"},
		{"sse keeps the payload's own timestamp", SSE, `{"timestamp":"yesterday","a":1}`,
			"id: evt_1\nevent: order.created\ndata: {\"timestamp\":\"yesterday\",\"a\":1}\n\n"},
		{"sse nested timestamp is not top-level", SSE, `{"x":{"timestamp":1}}`,
			"id: evt_1\nevent: order.created\ndata: {\"x\":{\"timestamp\":1},\"timestamp\":\"2024-01-15T10:30:00.123Z\"}\n\n"},
		{"sse data stays on one line", SSE, "{\n  \"a\": \"b\"\n}",
			"id: evt_1\nevent: order.created\ndata: {\"a\":\"b\",\"timestamp\":\"2024-01-15T10:30:00.123Z\"}\n\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := string(tc.format.appendEvent(nil, event(tc.payload)))
			if got != tc.want {
				t.Fatalf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestKeepAliveAndComments(t *testing.T) {
	t.Parallel()
	cases := []struct {
		format        Format
		ping, comment string
	}{
		{SSE, ": ping\n\n", ": disconnected: too slow\n\n"},
		{JSON, "\n", ""}, // NDJSON has no comments; a blank line keeps it alive
	}
	for _, tc := range cases {
		if got := string(tc.format.appendPing(nil)); got != tc.ping {
			t.Errorf("%s ping %q, want %q", tc.format, got, tc.ping)
		}
		if got := string(tc.format.appendComment(nil, "disconnected: too slow")); got != tc.comment {
			t.Errorf("%s comment %q, want %q", tc.format, got, tc.comment)
		}
	}
}
