package rowcodec

import "encoding/json"

// EventPayload is the stored form of an event's payload: its JSON text,
// "null" when it has none.
func EventPayload(p json.RawMessage) string {
	if len(p) == 0 {
		return "null"
	}
	return string(p)
}
