package outbound

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// TestEventBody checks the hand-built body against what encoding/json
// makes of the same fields, for plain and awkward strings.
func TestEventBody(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 30, 0, 123456789, time.FixedZone("x", 3600))
	for _, ev := range []hookd.Event{
		{ID: "evt_1", Type: "order.created", Version: "2.1", CreatedAt: at, Payload: json.RawMessage(`{"a":1,"b":[true,null]}`)},
		{ID: `evt_"q"\`, Type: "ordér.<créé>&", CreatedAt: at, Payload: json.RawMessage(`{"html":"<b>&"}`)},
		{ID: "evt_\n\t\x01", Type: "t", CreatedAt: at},
	} {
		for _, test := range []bool{false, true} {
			got := EventBody(&ev, test)
			var m map[string]any
			if err := json.Unmarshal(got, &m); err != nil {
				t.Fatalf("EventBody(%q) = %s: not JSON: %v", ev.ID, got, err)
			}
			version := ev.Version
			if version == "" {
				version = "1.0"
			}
			want := map[string]any{"id": ev.ID, "event": ev.Type, "version": version,
				"timestamp": "2026-11-28T11:30:00.123Z", "data": nil}
			if len(ev.Payload) > 0 {
				var data any
				_ = json.Unmarshal(ev.Payload, &data)
				want["data"] = data
			}
			if test {
				want["test"] = true
			}
			if !reflect.DeepEqual(m, want) {
				t.Errorf("EventBody = %s\ndecoded %v\nwant    %v", got, m, want)
			}
		}
	}
}
