// Package template renders the message templates of integrations: text
// with {{path}} placeholders, each a dotted path into an event's payload
// ("order_id", "customer.name", "items.0.name"). A path that leads nowhere
// renders as nothing; numbers render as a person writes them (150, 1.5).
package template

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on templates and their output.
const (
	// MaxLen is the longest template accepted, in characters.
	MaxLen = 2000
	// MaxOutput caps a rendered message in bytes: a short template that
	// names a large object many times cannot grow without bound.
	MaxOutput = 40000
)

// Template is a parsed message template, safe for concurrent use.
type Template struct {
	parts []part
}

// part is literal text or, when path is non-nil, a placeholder.
type part struct {
	text string
	path []string
}

// ParseError says where and why a template does not parse.
type ParseError struct {
	Offset  int // byte offset in the template
	Message string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("template: %s (at byte %d)", e.Message, e.Offset)
}

// Parse checks a template and prepares it for rendering. "{{" opens a
// placeholder that the next "}}" closes; spaces around the path are
// ignored. A "}}" outside a placeholder is ordinary text.
func Parse(s string) (*Template, error) {
	if !utf8.ValidString(s) {
		return nil, &ParseError{Offset: 0, Message: "is not valid UTF-8"}
	}
	if n := utf8.RuneCountInString(s); n > MaxLen {
		return nil, &ParseError{Offset: 0, Message: fmt.Sprintf("is %d characters long, at most %d are allowed", n, MaxLen)}
	}
	t := &Template{}
	rest, offset := s, 0
	for rest != "" {
		open := strings.Index(rest, "{{")
		if open < 0 {
			t.parts = append(t.parts, part{text: rest})
			break
		}
		if open > 0 {
			t.parts = append(t.parts, part{text: rest[:open]})
		}
		closing := strings.Index(rest[open+2:], "}}")
		if closing < 0 {
			return nil, &ParseError{Offset: offset + open, Message: `"{{" is not closed by "}}"`}
		}
		inner := rest[open+2 : open+2+closing]
		path, msg := parsePath(inner)
		if msg != "" {
			return nil, &ParseError{Offset: offset + open, Message: fmt.Sprintf("placeholder {{%s}} %s", inner, msg)}
		}
		t.parts = append(t.parts, part{path: path})
		consumed := open + 2 + closing + 2
		rest, offset = rest[consumed:], offset+consumed
	}
	return t, nil
}

// MustParse is Parse for templates known to be valid (the defaults).
func MustParse(s string) *Template {
	t, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return t
}

// parsePath splits a placeholder's path into its segments.
func parsePath(inner string) ([]string, string) {
	p := strings.TrimSpace(inner)
	if p == "" {
		return nil, "names no field"
	}
	segs := strings.Split(p, ".")
	for _, seg := range segs {
		if seg == "" {
			return nil, "has an empty path segment"
		}
		for _, r := range seg {
			if r == '{' || r == '}' || unicode.IsSpace(r) || unicode.IsControl(r) {
				return nil, "may hold only a dotted path such as customer.name"
			}
		}
	}
	return segs, ""
}

// Placeholders lists the paths the template names, dotted, in order.
func (t *Template) Placeholders() []string {
	var out []string
	for _, p := range t.parts {
		if p.path != nil {
			out = append(out, strings.Join(p.path, "."))
		}
	}
	return out
}

// Render fills the placeholders from data (a decoded JSON payload, see
// DecodePayload). escape, when not nil, is applied to every substituted
// value but not to the template's own text, so a template may carry
// markup the destination understands while payload values cannot. The
// result is at most MaxOutput bytes.
func (t *Template) Render(data any, escape func(string) string) string {
	var b strings.Builder
	for _, p := range t.parts {
		s := p.text
		if p.path != nil {
			s = Format(lookup(data, p.path))
			if escape != nil {
				s = escape(s)
			}
		}
		if b.Len()+len(s) > MaxOutput {
			b.WriteString(cutUTF8(s, MaxOutput-b.Len()))
			break
		}
		b.WriteString(s)
	}
	return b.String()
}

// DecodePayload decodes a JSON payload for Render, keeping numbers as
// written (json.Number) so they print exactly.
func DecodePayload(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("template: payload: %w", err)
	}
	return v, nil
}

// lookup follows path through objects (by key) and arrays (by index).
func lookup(v any, path []string) any {
	for _, seg := range path {
		switch node := v.(type) {
		case map[string]any:
			next, ok := node[seg]
			if !ok {
				return nil
			}
			v = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(node) || seg != strconv.Itoa(i) {
				return nil
			}
			v = node[i]
		default:
			return nil
		}
	}
	return v
}

// Format prints one payload value: strings as they are, numbers as a
// person writes them, true/false, nothing for null or a missing value,
// and compact JSON for objects and arrays.
func Format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return FormatNumber(string(x))
	case float64:
		return formatFloat(x)
	case bool:
		return strconv.FormatBool(x)
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(x); err != nil {
			return ""
		}
		return strings.TrimSuffix(buf.String(), "\n")
	}
}

// FormatNumber prints a JSON number literal the way a person writes it:
// integers exactly as given (however large), other numbers in their
// shortest form without trailing zeros: 150.00 → 150, 1.50 → 1.5,
// 1e2 → 100. Very large or very small magnitudes keep an exponent.
func FormatNumber(lit string) string {
	if isIntegerLiteral(lit) {
		return lit
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil { // out of float64's range: the literal is the best we have
		return lit
	}
	return formatFloat(f)
}

func formatFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	if f == 0 {
		return "0"
	}
	if a := math.Abs(f); a >= 1e21 || a < 1e-6 {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func isIntegerLiteral(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cutUTF8 returns the longest prefix of s of at most n bytes that does not
// split a character.
func cutUTF8(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Truncate shortens s to at most max characters, ending with "…" when it
// had to cut (Discord, for one, refuses longer messages).
func Truncate(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	runes := []rune(s)
	return string(runes[:max-1]) + "…"
}
