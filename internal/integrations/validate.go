package integrations

import (
	"github.com/hookd/hookd/internal/hookd"
	"strconv"
	"strings"
	"unicode"
)

// CheckURL validates a service URL field: absolute http(s), at most 2048
// characters, without a user or password. It returns "" when the URL is
// fine, else what is wrong with it.
func CheckURL(raw string) string {
	if raw == "" {
		return "is required"
	}
	return hookd.CheckTargetURL(raw)
}

// CheckToken validates a key-like field: between min and max characters,
// without spaces or control characters.
func CheckToken(v string, min, max int) string {
	n := len([]rune(v))
	switch {
	case n < min || n > max:
		return "must be " + strconv.Itoa(min) + "-" + strconv.Itoa(max) + " characters"
	case strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return "must not contain spaces or control characters"
	}
	return ""
}
