package integrations

import (
	"net/url"
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
	if len(raw) > 2048 {
		return "must be at most 2048 characters"
	}
	if strings.IndexFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "must not contain spaces or control characters"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Hostname() == "" {
		return "must be an absolute http(s) URL"
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "must use http or https"
	}
	if u.User != nil {
		return "must not contain a user or password"
	}
	return ""
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
