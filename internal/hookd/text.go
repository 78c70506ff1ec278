package hookd

import (
	"unicode"
	"unicode/utf8"
)

// Text rules of docs/api.md §3: every text field a client sends is valid
// UTF-8 without NUL or other control characters, so every store keeps it
// as sent and every delivery can carry it.

// CheckText returns what is wrong with a one-line text field (a name, an
// idempotency key, a setting), or "".
func CheckText(s string) string {
	return checkText(s, false)
}

// CheckMultilineText is CheckText for free text (descriptions, templates):
// tabs and line breaks are allowed there.
func CheckMultilineText(s string) string {
	return checkText(s, true)
}

func checkText(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	for _, r := range s {
		if !unicode.IsControl(r) {
			continue
		}
		if multiline && (r == '\t' || r == '\n' || r == '\r') {
			continue
		}
		if r == 0 {
			return "must not contain NUL characters"
		}
		return "must not contain control characters"
	}
	return ""
}

// ValidHeaderValue reports whether net/http sends v as a header value
// (RFC 9110 field-value: no control characters but horizontal tab).
func ValidHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
