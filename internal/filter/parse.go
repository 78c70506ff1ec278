package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// member is one key and value of a JSON object, in document order.
type member struct {
	key   string
	value any
}

// object is a JSON object as written: members in order, duplicates kept,
// so that errors follow the user's text and duplicate keys can be refused.
type object []member

// maxValueDepth bounds how deeply a filter document may nest arrays and
// objects, so that parsing and comparing cannot recurse without limit.
const maxValueDepth = 32

// parseJSON decodes one JSON document. Objects become object, arrays
// []any, numbers json.Number; strings, booleans and null as usual.
func parseJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

func parseValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= maxValueDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxValueDepth)
	}
	switch delim {
	case '{':
		obj := object{}
		for dec.More() {
			keyTok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := keyTok.(string)
			v, err := parseValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			obj = append(obj, member{key: key, value: v})
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return obj, nil
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := parseValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return arr, nil
	}
	return nil, fmt.Errorf("unexpected %q", rune(delim))
}

// plain converts a parseJSON value into the shape encoding/json produces
// (map[string]any for objects, the last of duplicate keys winning), so it
// can be compared with decoded payloads.
func plain(v any) any {
	switch x := v.(type) {
	case object:
		m := make(map[string]any, len(x))
		for _, mem := range x {
			m[mem.key] = plain(mem.value)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			out[i] = plain(el)
		}
		return out
	}
	return v
}
