package rowcodec

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

func TestEventTypeRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     hookd.EventType
		stored EventType
		want   hookd.EventType
	}{
		{"schema and example",
			hookd.EventType{PayloadSchema: json.RawMessage(`{"type":"object"}`), ExamplePayload: json.RawMessage(`{"id":1}`)},
			EventType{PayloadSchema: `{"type":"object"}`, ExamplePayload: ptr(`{"id":1}`)},
			hookd.EventType{PayloadSchema: json.RawMessage(`{"type":"object"}`), ExamplePayload: json.RawMessage(`{"id":1}`)}},
		{"neither", hookd.EventType{}, EventType{PayloadSchema: "{}"},
			hookd.EventType{PayloadSchema: json.RawMessage(`{}`)}},
	}
	for _, tt := range tests {
		stored := EncodeEventType(&tt.in)
		if !reflect.DeepEqual(stored, tt.stored) {
			t.Errorf("%s: stored as %+v, want %+v", tt.name, stored, tt.stored)
		}
		got := hookd.EventType{ExamplePayload: json.RawMessage(`"stale"`)}
		stored.Decode(&got)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: decoded %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func ptr(s string) *string { return &s }
