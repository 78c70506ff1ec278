package catalog

import (
	"encoding/json"
	"errors"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDecodeDepth is encoding/json's limit on nested arrays and objects;
// decodeFast refuses deeper documents as encoding/json does.
const maxDecodeDepth = 10000

// errDecode is decodeFast's one error: callers that need encoding/json's
// message decode again with decodeJSON.
var errDecode = errors.New("invalid JSON")

// decodeFast decodes exactly one JSON value (RFC 8259) followed only by
// whitespace into the values encoding/json produces when decoding into
// an any with UseNumber: map[string]any, []any, string, json.Number, bool
// and nil. Strings are unescaped as encoding/json does, with invalid UTF-8
// and unpaired surrogates replaced by U+FFFD; of duplicate keys the last
// wins. It fails on every input encoding/json rejects.
//
// The input is copied once into a string; strings without escapes or
// invalid UTF-8, and number literals, are substrings of that copy, so
// they cost no allocation of their own beyond being boxed in an any.
func decodeFast(data []byte) (any, error) {
	d := jsonDecoder{src: string(data)}
	v, ok := d.value()
	if !ok {
		return nil, errDecode
	}
	d.skipSpace()
	if d.pos != len(d.src) {
		return nil, errDecode
	}
	return v, nil
}

// jsonDecoder is decodeFast's state: the input and a read position.
type jsonDecoder struct {
	src   string
	pos   int
	depth int
	stack []any // elements of the arrays being decoded
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.src) {
		switch d.src[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// value decodes the value starting at the next non-space byte.
func (d *jsonDecoder) value() (any, bool) {
	d.skipSpace()
	if d.pos >= len(d.src) {
		return nil, false
	}
	switch c := d.src[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		s, ok := d.str()
		if !ok {
			return nil, false
		}
		return s, true
	case c == '-' || '0' <= c && c <= '9':
		n, ok := d.number()
		if !ok {
			return nil, false
		}
		return n, true
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, false
}

func (d *jsonDecoder) literal(lit string) bool {
	if len(d.src)-d.pos < len(lit) || d.src[d.pos:d.pos+len(lit)] != lit {
		return false
	}
	d.pos += len(lit)
	return true
}

// number reads a number literal: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *jsonDecoder) number() (json.Number, bool) {
	s, start := d.src, d.pos
	i := start
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = skipDigits(s, i+1)
	default:
		return "", false
	}
	if i < len(s) && s[i] == '.' {
		j := skipDigits(s, i+1)
		if j == i+1 {
			return "", false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := skipDigits(s, i)
		if j == i {
			return "", false
		}
		i = j
	}
	d.pos = i
	return json.Number(s[start:i]), true
}

func skipDigits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// str reads a string; d.pos is at its opening quote.
func (d *jsonDecoder) str() (string, bool) {
	s := d.src
	start := d.pos + 1
	for i := start; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return s[start:i], true
		case c == '\\':
			return d.unescape(start, i)
		case c < ' ':
			return "", false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return d.unescape(start, i)
			}
			i += size
		}
	}
	return "", false
}

// unescape reads the rest of a string that needs rewriting from i on, as
// encoding/json's unquote does. The string's content starts at start.
func (d *jsonDecoder) unescape(start, i int) (string, bool) {
	s := d.src
	b := make([]byte, 0, i-start+32)
	b = append(b, s[start:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return string(b), true
		case c < ' ':
			return "", false
		case c == '\\':
			if i+1 >= len(s) {
				return "", false
			}
			switch s[i+1] {
			case '"', '\\', '/':
				b = append(b, s[i+1])
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(s, i+2)
				if r < 0 {
					return "", false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
						r2 = hex4(s, i+2)
					}
					if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
						b = utf8.AppendRune(b, dec)
						i += 6
						continue
					}
					r = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				return "", false
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			b = utf8.AppendRune(b, r)
			i += size
		}
	}
	return "", false
}

// hex4 decodes the four hex digits at s[i:], or answers -1.
func hex4(s string, i int) rune {
	if len(s)-i < 4 {
		return -1
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// enter counts one more level of nesting, refusing too deep documents.
func (d *jsonDecoder) enter() bool {
	d.depth++
	d.pos++
	return d.depth <= maxDecodeDepth
}

// object reads an object; d.pos is at its '{'.
func (d *jsonDecoder) object() (any, bool) {
	if !d.enter() {
		return nil, false
	}
	m := make(map[string]any)
	d.skipSpace()
	if d.pos < len(d.src) && d.src[d.pos] == '}' {
		d.pos++
		d.depth--
		return m, true
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.src) || d.src[d.pos] != '"' {
			return nil, false
		}
		k, ok := d.str()
		if !ok {
			return nil, false
		}
		d.skipSpace()
		if d.pos >= len(d.src) || d.src[d.pos] != ':' {
			return nil, false
		}
		d.pos++
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		m[k] = v
		end, ok := d.separator('}')
		if !ok {
			return nil, false
		}
		if end {
			return m, true
		}
	}
}

// separator reads what follows a member or an element: a comma (more
// follow) or close (the end, leaving the object or array). ok is false
// for anything else.
func (d *jsonDecoder) separator(close byte) (end, ok bool) {
	d.skipSpace()
	if d.pos >= len(d.src) {
		return false, false
	}
	switch d.src[d.pos] {
	case ',':
		d.pos++
		return false, true
	case close:
		d.pos++
		d.depth--
		return true, true
	}
	return false, false
}

// array reads an array; d.pos is at its '['. Elements are gathered on a
// stack shared by all arrays so each array costs one exact allocation.
func (d *jsonDecoder) array() (any, bool) {
	if !d.enter() {
		return nil, false
	}
	d.skipSpace()
	if d.pos < len(d.src) && d.src[d.pos] == ']' {
		d.pos++
		d.depth--
		return make([]any, 0), true
	}
	if d.stack == nil {
		d.stack = make([]any, 0, 32)
	}
	base := len(d.stack)
	for {
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		d.stack = append(d.stack, v)
		end, ok := d.separator(']')
		if !ok {
			return nil, false
		}
		if end {
			arr := make([]any, len(d.stack)-base)
			copy(arr, d.stack[base:])
			clear(d.stack[base:])
			d.stack = d.stack[:base]
			return arr, true
		}
	}
}
