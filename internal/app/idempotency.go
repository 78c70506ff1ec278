package app

import (
	"bytes"
	"encoding/json"

	"github.com/hookd/hookd/internal/hookd"
)

// idempotencyConflicts turns a duplicate whose idempotency key first came
// with another event type or payload into a conflict: the same key and the
// same body answer the first event, another body answers 409 (docs/api.md
// §5, "Idempotency"). The store decided the duplicate inside its
// transaction and answered the first event, which holds its type and its
// stored payload: those are compared, payloads in canonical form (object
// keys sorted, no insignificant white space).
func idempotencyConflicts(sent []EventToPublish, res []hookd.Published) {
	for k := range res {
		r := &res[k]
		if !r.Duplicate || r.Err != nil {
			continue
		}
		if r.Event.Type != sent[k].Event || !bytes.Equal(canonicalJSON(r.Event.Payload), canonicalJSON(sent[k].Payload)) {
			*r = hookd.Published{Err: hookd.Errorf(hookd.EConflict,
				"idempotency key %q was used for event %s with another event type or payload within %g h; use a new key for a new event",
				sent[k].IdempotencyKey, r.Event.ID, hookd.IdempotencyWindow.Hours())}
		}
	}
}

// canonicalJSON is raw with object keys sorted and white space removed;
// numbers keep their text. Invalid JSON is returned as it is.
func canonicalJSON(raw json.RawMessage) []byte {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return raw
	}
	out, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return out
}
