package app

import "github.com/hookd/hookd/internal/hookd"

// checkBrokerAuth refuses an auth a message broker cannot use: a broker
// URL (docs/api.md §14) takes basic auth only, its username and password
// being the broker's login. An mtls auth is already refused for any URL
// but https (applyAuth).
func checkBrokerAuth(wh *hookd.Webhook, in *hookd.WebhookInput, urls URLKinds) []hookd.FieldError {
	if urls == nil || wh.Auth == nil || (in.Auth == nil && in.URL == nil) {
		return nil
	}
	if wh.Auth.Type == hookd.AuthBasic || wh.Auth.Type == hookd.AuthMTLS {
		return nil
	}
	if registered, _ := urls.CheckURL(wh.URL); !registered {
		return nil
	}
	return []hookd.FieldError{{Field: "auth.type", Message: "a message broker's url takes basic auth only (its username and password)"}}
}
