package rowcodec

import (
	"encoding/json"
	"testing"
)

// FuzzRequestHeaders: the stored request headers are what json.Marshal
// writes for the same map, whatever the names and values hold.
func FuzzRequestHeaders(f *testing.F) {
	f.Add("X-Value", `a"b\c`, "Content-Type", "application/json")
	f.Add("k\u2028", "\xff<&>", "", "\x00\x1f\x7f")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		h := map[string]string{k1: v1, k2: v2}
		want, err := json.Marshal(h)
		if err != nil {
			t.Skip()
		}
		if got, err := RequestHeaders(h); got != string(want) || err != nil {
			t.Fatalf("RequestHeaders(%q) = %s, %v, want %s", h, got, err, want)
		}
	})
}
