package integrations

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/hookd/hookd/internal/hookd"
)

// MaskURL shows a credential-bearing URL as its scheme, host and first
// path segment followed by "...":
// https://hooks.slack.com/services/T0/B0/XYZ → https://hooks.slack.com/services/...
// When the first segment is the only one it is the token itself (Make's
// https://hook.eu1.make.com/<token>), so it is left out too. The query
// (Teams' sig=…) is never shown.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return hookd.Masked
	}
	out := u.Scheme + "://" + u.Host + "/"
	segs := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	if len(segs) > 1 && segs[0] != "" {
		out += segs[0] + "/"
	}
	return out + "..."
}

// MaskKey shows only the last 4 characters of a key, behind the mask. A
// key of 8 characters or fewer is masked entirely, since 4 of them would
// be half of it.
func MaskKey(key string) string {
	n := utf8.RuneCountInString(key)
	if n <= 8 {
		return hookd.Masked
	}
	r := []rune(key)
	return hookd.Masked + string(r[n-4:])
}

// MaskValue shows a configuration value as its field's mask says.
func MaskValue(f Field, v string) string {
	switch f.Mask {
	case SecretURL:
		return MaskURL(v)
	case SecretKey:
		return MaskKey(v)
	}
	return v
}

// MaskedConfig is a Config as answers show it: every field with its mask
// applied, the notifications, and the message template when one is set.
func MaskedConfig(info Info, c *Config) map[string]any {
	out := map[string]any{}
	for _, f := range info.Fields {
		if v, ok := c.Fields[f.Name]; ok && v != "" {
			out[f.Name] = MaskValue(f, v)
		}
	}
	notifications := c.Notifications
	if notifications == nil {
		notifications = map[string]bool{}
	}
	out["notifications"] = notifications
	if c.MessageTemplate != "" {
		out["message_template"] = c.MessageTemplate
	}
	return out
}
