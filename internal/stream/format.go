package stream

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// Format is how a stream frames its events (docs/api.md §9).
type Format string

// The stream formats.
const (
	// JSON is NDJSON: one delivery body (docs/api.md §6) per line. A blank
	// line is the keep-alive, which NDJSON readers skip.
	JSON Format = "json"
	// SSE is Server-Sent Events: "id: <event id>", "event: <type>" and one
	// "data:" line holding the payload plus "timestamp"; comments (lines
	// starting with ":") are keep-alives and the reason a stream ended.
	SSE Format = "sse"
)

// ParseFormat reads the format query parameter ("" is JSON).
func ParseFormat(s string) (Format, bool) {
	switch Format(s) {
	case "", JSON:
		return JSON, true
	case SSE:
		return SSE, true
	}
	return "", false
}

// ContentType is the response Content-Type of the format.
func (f Format) ContentType() string {
	if f == SSE {
		return "text/event-stream"
	}
	return "application/x-ndjson"
}

// appendEvent appends one framed event.
func (f Format) appendEvent(buf []byte, ev *hookd.Event) []byte {
	if f != SSE {
		buf = append(buf, outbound.EventBody(ev, false)...)
		return append(buf, '\n')
	}
	buf = append(buf, "id: "...)
	buf = append(buf, ev.ID...)
	buf = append(buf, "\nevent: "...)
	buf = append(buf, ev.Type...)
	buf = append(buf, "\ndata: "...)
	buf = appendSSEData(buf, ev)
	return append(buf, "\n\n"...)
}

// appendPing appends a keep-alive.
func (f Format) appendPing(buf []byte) []byte {
	if f == SSE {
		return append(buf, ": ping\n\n"...)
	}
	return append(buf, '\n')
}

// appendComment appends an SSE comment; NDJSON has no comments, so the
// reason a stream ended reaches NDJSON readers as a trailer only.
func (f Format) appendComment(buf []byte, text string) []byte {
	if f != SSE {
		return buf
	}
	buf = append(buf, ": "...)
	buf = append(buf, text...)
	return append(buf, "\n\n"...)
}

// timestampKey is the member the SSE data adds to the payload.
const timestampKey = "timestamp"

// appendSSEData appends the payload object with "timestamp" (the event's
// time, as in the delivery body) added, on one line. A payload that has a
// top-level "timestamp" of its own keeps it: the stream never changes
// what was published.
func appendSSEData(buf []byte, ev *hookd.Event) []byte {
	payload := bytes.TrimSpace(ev.Payload)
	if bytes.ContainsAny(payload, "\r\n") {
		var c bytes.Buffer
		if err := json.Compact(&c, payload); err == nil {
			payload = c.Bytes()
		}
	}
	ts := eventTime(ev.CreatedAt)
	if len(payload) < 2 || payload[0] != '{' || payload[len(payload)-1] != '}' {
		// Published payloads are objects; anything else is wrapped rather
		// than broken. An erased event's is null (docs/api.md §13).
		data := map[string]any{"payload": json.RawMessage(orNull(payload)), timestampKey: ts}
		if ev.Erased() {
			data["erased"] = true
		}
		b, _ := json.Marshal(data)
		return append(buf, b...)
	}
	if hasMember(payload, timestampKey) {
		return append(buf, payload...)
	}
	inner := bytes.TrimSpace(payload[1 : len(payload)-1])
	buf = append(buf, '{')
	if len(inner) > 0 {
		buf = append(buf, inner...)
		buf = append(buf, ',')
	}
	buf = append(buf, `"`+timestampKey+`":"`...)
	buf = append(buf, ts...)
	return append(buf, `"}`...)
}

// hasMember reports whether a JSON object has a top-level member name.
func hasMember(object []byte, name string) bool {
	if !bytes.Contains(object, []byte(`"`+name+`"`)) {
		return false
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(object, &members); err != nil {
		return false
	}
	_, ok := members[name]
	return ok
}

func orNull(b []byte) []byte {
	if len(b) == 0 {
		return []byte("null")
	}
	return b
}

// eventTime formats an event's time as the delivery body does.
func eventTime(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
}
