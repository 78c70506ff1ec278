package rowcodec

import (
	"encoding/json"
	"slices"
	"strings"
)

// RequestHeaders is the JSON object of the headers an attempt sent ("{}"
// for none), as an attempt row keeps them: what json.Marshal makes of the
// map (keys sorted, HTML-safe escapes), written by hand because every
// recorded attempt encodes one and reflection made that a few percent of
// a delivery's CPU. Strings that need escaping go through json.Marshal.
func RequestHeaders(h map[string]string) (string, error) {
	if len(h) == 0 {
		return "{}", nil
	}
	keys := make([]string, 0, len(h))
	size := 2
	for k, v := range h {
		keys = append(keys, k)
		size += len(k) + len(v) + 6
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(size)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := writeJSONString(&b, k); err != nil {
			return "", err
		}
		b.WriteByte(':')
		if err := writeJSONString(&b, h[k]); err != nil {
			return "", err
		}
	}
	b.WriteByte('}')
	return b.String(), nil
}

// writeJSONString writes s as json.Marshal does: as is when it holds only
// printable ASCII that JSON and HTML leave alone, else as json.Marshal
// writes it.
func writeJSONString(b *strings.Builder, s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			b.Write(q)
			return err
		}
	}
	b.WriteByte('"')
	b.WriteString(s)
	b.WriteByte('"')
	return nil
}
