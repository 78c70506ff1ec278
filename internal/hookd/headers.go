package hookd

import "strings"

// Masked replaces sensitive values in every answer and log (docs/api.md §4).
const Masked = "********"

// SensitiveHeader reports whether a header's value must be masked:
// Authorization, Proxy-Authorization, Cookie, and names containing token,
// secret, key, password or auth.
func SensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie":
		return true
	}
	for _, w := range []string{"token", "secret", "key", "password", "auth"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// MaskHeaders copies headers with sensitive values masked.
func MaskHeaders(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if SensitiveHeader(k) {
			v = Masked
		}
		out[k] = v
	}
	return out
}
