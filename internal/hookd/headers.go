package hookd

import (
	"net/http"
	"strings"
)

// Masked replaces sensitive values in every answer and log (docs/api.md §4).
const Masked = "********"

// sensitiveWords mark a header name as carrying a secret wherever they
// appear in it (case-insensitive): "key" covers api-key, apikey and
// x-api-key; "auth" covers authorization and x-auth-token.
var sensitiveWords = []string{
	"token", "secret", "key", "password", "passwd", "auth", "signature", "hmac",
	"credential", "session", "cookie", "jwt", "bearer", "csrf", "xsrf",
}

// SensitiveHeader reports whether a header's value must be masked:
// Authorization, Proxy-Authorization, Cookie, and names containing one of
// sensitiveWords. hookd's own signature headers are not: a webhook cannot
// set them, and each signs one message only.
func SensitiveHeader(name string) bool {
	if !isASCII(name) {
		return sensitiveLower(strings.ToLower(name))
	}
	// It runs for every header of every delivery: an ASCII name (any
	// valid one) is matched without making a lower-case copy.
	if strings.EqualFold(name, "x-webhook-signature") || strings.EqualFold(name, "webhook-signature") {
		return false
	}
	for _, w := range sensitiveWords {
		if containsLowerASCII(name, w) {
			return true
		}
	}
	return false
}

// sensitiveLower is SensitiveHeader of a lower-case name.
func sensitiveLower(n string) bool {
	switch n {
	case "x-webhook-signature", "webhook-signature":
		return false
	}
	for _, w := range sensitiveWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// containsLowerASCII reports whether the ASCII string s, lowered,
// contains w, which is lower-case.
func containsLowerASCII(s, w string) bool {
next:
	for i := 0; i+len(w) <= len(s); i++ {
		for j := 0; j < len(w); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != w[j] {
				continue next
			}
		}
		return true
	}
	return false
}

// MaskHeaders copies headers with sensitive values masked: those
// SensitiveHeader names and those listed in extra (any case).
func MaskHeaders(h map[string]string, extra ...string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if isSensitive(k, extra) {
			v = Masked
		}
		out[k] = v
	}
	return out
}

// MaskHeadersInPlace masks the sensitive values of h as MaskHeaders does.
func MaskHeadersInPlace(h map[string]string, extra ...string) {
	for k := range h {
		if isSensitive(k, extra) {
			h[k] = Masked
		}
	}
}

// HeaderIsSensitive reports whether w's header name is masked: by the
// general rule or because w lists it in SensitiveHeaders.
func (w *Webhook) HeaderIsSensitive(name string) bool {
	return isSensitive(name, w.SensitiveHeaders)
}

func isSensitive(name string, extra []string) bool {
	if SensitiveHeader(name) {
		return true
	}
	for _, e := range extra {
		if strings.EqualFold(e, name) {
			return true
		}
	}
	return false
}

// SplitURLQuery splits a URL at its first "?" into what may be shown and
// what is kept secret: shown is the URL with every query value (and the
// fragment after it) masked, secret what followed the "?" ("" when there
// is no query). JoinURLQuery(shown, secret) gives raw back.
func SplitURLQuery(raw string) (shown, secret string) {
	base, rest, ok := strings.Cut(raw, "?")
	if !ok {
		return raw, ""
	}
	query, frag, hasFrag := strings.Cut(rest, "#")
	pairs := strings.Split(query, "&")
	for i, p := range pairs {
		if k, _, hasValue := strings.Cut(p, "="); hasValue {
			pairs[i] = k + "=" + Masked
		} else if p != "" {
			pairs[i] = Masked // a bare token is a value too
		}
	}
	shown = base + "?" + strings.Join(pairs, "&")
	if hasFrag && frag != "" {
		shown += "#" + Masked
	}
	return shown, rest
}

// JoinURLQuery puts a query SplitURLQuery kept secret back into the shown
// URL.
func JoinURLQuery(shown, secret string) string {
	if secret == "" {
		return shown
	}
	base, _, _ := strings.Cut(shown, "?")
	return base + "?" + secret
}

// MaskURLQuery returns raw with its query values masked (docs/api.md §4):
// a webhook's URL as answers and logs show it.
func MaskURLQuery(raw string) string {
	shown, _ := SplitURLQuery(raw)
	return shown
}

// FlattenHeaders turns a request's headers into the form an attempt
// stores: each name's first value, masked where masked says so.
func FlattenHeaders(h http.Header, masked func(name string) bool) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		v := ""
		if len(vs) > 0 {
			v = vs[0]
		}
		if masked(k) {
			v = Masked
		}
		out[k] = v
	}
	return out
}
