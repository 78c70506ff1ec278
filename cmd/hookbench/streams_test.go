package main

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestReadSSE(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		body     string
		events   []sseEvent
		comments []string
	}{
		{"one event", "id: evt_1\nevent: order.created\ndata: {\"a\":1}\n\n",
			[]sseEvent{{ID: "evt_1", Type: "order.created", Data: []byte(`{"a":1}`)}}, nil},
		{"keep-alive and end comment", ": ping\n\nid: evt_1\ndata: {}\n\n: disconnected: too slow, resume with Last-Event-ID\n\n",
			[]sseEvent{{ID: "evt_1", Data: []byte(`{}`)}}, []string{"ping", "disconnected: too slow, resume with Last-Event-ID"}},
		{"CRLF, no space after colon, two data lines", "id:evt_2\r\ndata:a\r\ndata: b\r\n\r\n",
			[]sseEvent{{ID: "evt_2", Data: []byte("a\nb")}}, nil},
		{"unterminated last event is not dispatched", "id: evt_1\ndata: x\n\nid: evt_2\ndata: y\n",
			[]sseEvent{{ID: "evt_1", Data: []byte("x")}}, nil},
		{"unknown fields and blank runs", "retry: 10\n\n\n\nid: evt_3\nfoo: bar\ndata: z\n\n",
			[]sseEvent{{ID: "evt_3", Data: []byte("z")}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var events []sseEvent
			var comments []string
			err := readSSE(strings.NewReader(c.body), func(ev sseEvent) { events = append(events, ev) }, func(s string) { comments = append(comments, s) })
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(events, c.events) {
				t.Errorf("events %+v, want %+v", events, c.events)
			}
			if !reflect.DeepEqual(comments, c.comments) {
				t.Errorf("comments %q, want %q", comments, c.comments)
			}
		})
	}
}

func TestSentAt(t *testing.T) {
	t.Parallel()
	at := time.Unix(0, 1764353000123456789)
	cases := []struct {
		data string
		ok   bool
	}{
		{`{"order_id":"t-1764353000123456789","status":"confirmed","timestamp":"2026-11-28T18:00:00Z"}`, true},
		{`{"amount":1, "order_id" : "t-1764353000123456789"}`, true},
		{`{"order_id":"warm-up"}`, false},
		{`{"order_id":"t-12x"}`, false},
		{`{"order_id":17}`, false},
		{`{"status":"confirmed"}`, false},
		{`{"order_id":"t-1`, false},
	}
	for _, c := range cases {
		got, ok := sentAt([]byte(c.data))
		if ok != c.ok || (ok && !got.Equal(at)) {
			t.Errorf("sentAt(%s) = %v, %v; want ok=%v", c.data, got, ok, c.ok)
		}
	}
}

func TestStreamEventBody(t *testing.T) {
	t.Parallel()
	body := streamEventBody(42, "t-1764353000123456789")
	var ev struct {
		Event   string         `json:"event"`
		Payload map[string]any `json:"payload"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	if ev.Event != "order.created" || ev.Payload["order_id"] != "t-1764353000123456789" || ev.Payload["status"] != "confirmed" || ev.Payload["amount"] == nil {
		t.Fatalf("event %+v", ev)
	}
	if n, want := len(body), len(eventBody(42)); n < want || n > want+20 {
		t.Fatalf("stream body %d bytes, event body %d", n, want)
	}
	payload, _ := json.Marshal(ev.Payload)
	if _, ok := sentAt(payload); !ok {
		t.Fatalf("sentAt cannot read %s", payload)
	}
}

func TestFillStreamResult(t *testing.T) {
	t.Parallel()
	start := time.Unix(100, 0)
	published := map[string]bool{"evt_1": true, "evt_2": true, "evt_3": true}
	ms := time.Millisecond
	subs := []*streamSubscriber{
		{ids: []string{"evt_1", "evt_2", "evt_3"}, lat: []time.Duration{1 * ms, 2 * ms, 3 * ms}, last: start.Add(time.Second)},
		{ids: []string{"evt_1", "evt_1", "evt_2", "evt_x"}, lat: []time.Duration{4 * ms, 9 * ms, 5 * ms, 99 * ms}, last: start.Add(2 * time.Second),
			err: errors.New("EOF (last comment \"disconnected: too slow\")")},
	}
	res := streamResult{Subscribers: 2}
	fillStreamResult(&res, subs, published, start)
	want := streamResult{Subscribers: 2, Expected: 6, Received: 5, Missing: 1, Duplicates: 1, Dropped: 1,
		DropReasons: []string{"EOF (last comment \"disconnected: too slow\")"},
		Seconds:     2, PerSecond: 2.5, P50Ms: 3, P99Ms: 5, MaxMs: 5}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("result\n%+v, want\n%+v", res, want)
	}
	res.Published = 3
	r := results{Streams: &res}
	r.judge()
	if len(r.Bars) != 2 || !r.Bars[0].Met || r.Bars[1].Met || r.Bars[1].Value != 2 {
		t.Fatalf("bars %+v", r.Bars)
	}
	var out strings.Builder
	if err := r.writeTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"p99 publish->stream latency at 0 events/s with 2 subscribers", "1 missing, 1 duplicates, 1 subscribers dropped", "too slow"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
}
