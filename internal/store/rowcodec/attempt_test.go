package rowcodec

import (
	"encoding/json"
	"strconv"
	"testing"
)

func TestRequestHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   map[string]string
		want string
	}{
		{nil, "{}"},
		{map[string]string{}, "{}"},
		{map[string]string{"X-B": "2", "Content-Type": "application/json"}, `{"Content-Type":"application/json","X-B":"2"}`},
	}
	for _, tt := range tests {
		if got, err := RequestHeaders(tt.in); got != tt.want || err != nil {
			t.Errorf("RequestHeaders(%v) = %s, %v, want %s", tt.in, got, err, tt.want)
		}
	}
}

// TestRequestHeadersAsMarshal checks RequestHeaders against json.Marshal
// on strings that need escaping (quotes, controls, HTML, non-ASCII,
// invalid UTF-8, U+2028).
func TestRequestHeadersAsMarshal(t *testing.T) {
	t.Parallel()
	values := []string{"", "plain", `a"b`, `back\slash`, "tab\there", "nl\n", "<script>&amp;", "héllo", "\xff\xfe",
		"line\u2028sep", "del\x7f", "emoji 🎉", "Bearer abc.def-ghi_jkl~", "sha256=0123abcdef"}
	for i, v := range values {
		h := map[string]string{"X-Value": v, v + "-key": "k", "Content-Type": "application/json", "z" + strconv.Itoa(i): v}
		want, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := RequestHeaders(h); got != string(want) || err != nil {
			t.Errorf("RequestHeaders(%q) = %s, %v, want %s", h, got, err, want)
		}
	}
}
