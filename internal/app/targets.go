package app

import (
	"encoding/json"
	"net/netip"
	"net/url"
	"strings"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
)

// TargetGuard decides whether an address may be delivered to: the SSRF
// guard of the deliveries (*outbound.Guard), asked early.
type TargetGuard interface {
	// Check returns an error, worded for the user, when addr is refused.
	Check(addr netip.Addr) error
}

// targetDetails refuses a target URL whose host is a literal address the
// guard blocks, or localhost, when it is saved, with the message a
// delivery to it would get. Host names are left to the guard at connect
// time (a name may resolve elsewhere later, and a rebinding one anywhere).
// field names the URL in the answer; a URL not given (nil) or already
// refused for another reason (listed in already) is not looked at.
func (c *core) targetDetails(field string, raw *string, already []hookd.FieldError) []hookd.FieldError {
	if c.Targets == nil || raw == nil || hasDetail(already, field) {
		return nil
	}
	u, err := url.Parse(*raw)
	if err != nil {
		return nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	var addr netip.Addr
	switch {
	case host == "localhost" || strings.HasSuffix(host, ".localhost"):
		addr = netip.AddrFrom4([4]byte{127, 0, 0, 1}) // what localhost resolves to (RFC 6761)
	default:
		if addr, err = netip.ParseAddr(host); err != nil {
			return nil // a name: checked when connecting
		}
	}
	if err := c.Targets.Check(addr); err != nil {
		return []hookd.FieldError{{Field: field, Message: err.Error()}}
	}
	return nil
}

// webhookTargetDetails is targetDetails for the URLs a webhook change
// sets: its url and, with OAuth 2.0 endpoint authentication, the token
// endpoint's.
func (c *core) webhookTargetDetails(wh *hookd.Webhook, in *hookd.WebhookInput, already []hookd.FieldError) []hookd.FieldError {
	out := c.targetDetails("url", in.URL, already)
	if in.Auth != nil && wh.Auth != nil && wh.Auth.Type == hookd.AuthOAuth2 {
		out = append(out, c.targetDetails("auth.token_url", &wh.Auth.TokenURL, already)...)
	}
	return out
}

// integrationTargetDetails is targetDetails for each URL field of an
// integration's settings that this configure sets.
func (c *core) integrationTargetDetails(info integrations.Info, cfg *integrations.Config, in map[string]json.RawMessage, already []hookd.FieldError) []hookd.FieldError {
	var out []hookd.FieldError
	for _, f := range info.Fields {
		if _, given := in[f.Name]; given && f.Type == "url" {
			v := cfg.Field(f.Name)
			out = append(out, c.targetDetails(f.Name, &v, already)...)
		}
	}
	return out
}
