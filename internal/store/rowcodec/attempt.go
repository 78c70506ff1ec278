package rowcodec

import "encoding/json"

// RequestHeaders is the JSON object of the headers an attempt sent ("{}"
// for none), as an attempt row keeps them.
func RequestHeaders(h map[string]string) (string, error) {
	if h == nil {
		h = map[string]string{}
	}
	b, err := json.Marshal(h)
	return string(b), err
}
