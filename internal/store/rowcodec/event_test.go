package rowcodec

import "testing"

func TestEventPayload(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "null", `{"id":1}`: `{"id":1}`, "null": "null"} {
		if got := EventPayload([]byte(in)); got != want {
			t.Errorf("EventPayload(%q) = %q, want %q", in, got, want)
		}
	}
}
