package app

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hookd/hookd/internal/filter"
	"github.com/hookd/hookd/internal/hookd"
)

// Bounds of docs/api.md §4.
const (
	maxNameLen        = 100
	maxDescriptionLen = 2000
	maxHeaders        = 50
	maxHeaderValueLen = 4096
	minSecretLen      = 16
	maxSecretLen      = 128
	maxRateLimit      = 10000
	maxEvents         = 100
)

// reservedHeaders are set by hookd on every delivery and may not be
// overridden by a webhook's own headers.
var reservedHeaders = map[string]bool{
	"host": true, "content-length": true, "content-type": true, "transfer-encoding": true, "connection": true,
	"x-webhook-signature": true, "x-webhook-event": true, "x-webhook-id": true, "x-webhook-delivery": true,
	"webhook-id": true, "webhook-timestamp": true, "webhook-signature": true,
}

// generateSecret returns "whsec_" + base64 of 24 random bytes.
func generateSecret(r io.Reader) (string, error) {
	b := make([]byte, 24)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b), nil
}

func checkSecret(secret string) *hookd.FieldError {
	if n := utf8.RuneCountInString(secret); n < minSecretLen || n > maxSecretLen {
		return &hookd.FieldError{Field: "secret", Message: fmt.Sprintf("must be %d-%d characters", minSecretLen, maxSecretLen)}
	}
	if msg := hookd.CheckText(secret); msg != "" {
		return &hookd.FieldError{Field: "secret", Message: msg}
	}
	return nil
}

// applyWebhookInput validates the fields in and writes them into wh; it
// returns every problem found. stored holds the header values an update
// may keep by sending the mask back; urls check broker URLs.
func applyWebhookInput(wh *hookd.Webhook, in *hookd.WebhookInput, stored map[string]string, known map[string]hookd.EventType, urls URLKinds) []hookd.FieldError {
	var details []hookd.FieldError
	bad := func(field, msg string) { details = append(details, hookd.FieldError{Field: field, Message: msg}) }
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if n := utf8.RuneCountInString(name); n < 1 || n > maxNameLen {
			bad("name", fmt.Sprintf("must be 1-%d characters", maxNameLen))
		} else if msg := hookd.CheckText(name); msg != "" {
			bad("name", msg)
		}
		wh.Name = name
	}
	if in.Description != nil {
		if utf8.RuneCountInString(*in.Description) > maxDescriptionLen {
			bad("description", fmt.Sprintf("must be at most %d characters", maxDescriptionLen))
		} else if msg := hookd.CheckMultilineText(*in.Description); msg != "" {
			bad("description", msg)
		}
		wh.Description = *in.Description
	}
	if in.URL != nil && !(wh.URL != "" && *in.URL == hookd.MaskURLQuery(wh.URL)) {
		// (the URL as answers show it, query masked, keeps the stored one)
		if msg := checkTargetURL(*in.URL, urls); msg != "" {
			bad("url", msg)
		}
		wh.URL = *in.URL
	}
	if ad := applyAuth(wh, in); len(ad) > 0 {
		details = append(details, ad...)
	} else {
		details = append(details, checkBrokerAuth(wh, in, urls)...)
	}
	if in.Events != nil {
		details = append(details, checkEvents(in.Events, known)...)
		wh.Events = dedupe(in.Events)
	}
	if in.SensitiveHeaders != nil {
		names, sd := checkSensitiveHeaders(in.SensitiveHeaders)
		details = append(details, sd...)
		wh.SensitiveHeaders = names
	}
	if in.Headers != nil {
		headers, hd := checkHeaders(in.Headers, stored, wh.HeaderIsSensitive)
		details = append(details, hd...)
		wh.Headers = headers
	}
	if in.Secret != nil {
		if d := checkSecret(*in.Secret); d != nil {
			details = append(details, *d)
		}
		wh.Secret = *in.Secret
	}
	if in.IsActive != nil {
		wh.IsActive = *in.IsActive
	}
	if in.RetryConfig != nil {
		details = append(details, applyRetryConfig(&wh.RetryConfig, in.RetryConfig)...)
	}
	if in.RateLimit.Set {
		switch {
		case in.RateLimit.Null:
			wh.RateLimit = nil
		case in.RateLimit.Value < 1 || in.RateLimit.Value > maxRateLimit:
			bad("rate_limit", fmt.Sprintf("must be null or 1-%d deliveries per second", maxRateLimit))
		default:
			v := in.RateLimit.Value
			wh.RateLimit = &v
		}
	}
	if in.MaxConcurrency.Set {
		switch {
		case in.MaxConcurrency.Null:
			wh.MaxConcurrency = nil
		case in.MaxConcurrency.Value < 1:
			bad("max_concurrency", "must be null or at least 1 request in flight")
		default:
			v := in.MaxConcurrency.Value
			wh.MaxConcurrency = &v
		}
	}
	if in.Filters != nil {
		wh.Filters = in.Filters
		if string(in.Filters) == "null" {
			wh.Filters = json.RawMessage("{}")
		}
	}
	// Filters are checked against the events subscribed after this change,
	// whichever of the two changed.
	if (in.Filters != nil || in.Events != nil) && len(wh.Events) > 0 {
		details = append(details, checkFilters(wh.Filters, wh.Events, known)...)
	}
	return details
}

func checkEvents(events []string, known map[string]hookd.EventType) []hookd.FieldError {
	if len(events) == 0 {
		return []hookd.FieldError{{Field: "events", Message: "must list at least one event"}}
	}
	if len(events) > maxEvents {
		return []hookd.FieldError{{Field: "events", Message: fmt.Sprintf("must list at most %d events", maxEvents)}}
	}
	var details []hookd.FieldError
	for i, e := range events {
		if !validPattern(e, known) {
			details = append(details, hookd.FieldError{Field: fmt.Sprintf("events.%d", i),
				Message: fmt.Sprintf("%q is not a known event type, a category wildcard such as order.*, or *", e)})
		}
	}
	return details
}

func dedupe(events []string) []string {
	seen := make(map[string]bool, len(events))
	out := make([]string, 0, len(events))
	for _, e := range events {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

// checkSensitiveHeaders checks the names a webhook marks sensitive and
// drops repeats (any case).
func checkSensitiveHeaders(names []string) ([]string, []hookd.FieldError) {
	if len(names) > maxHeaders {
		return nil, []hookd.FieldError{{Field: "sensitive_headers", Message: fmt.Sprintf("must list at most %d headers", maxHeaders)}}
	}
	var details []hookd.FieldError
	out := make([]string, 0, len(names))
	for i, n := range names {
		switch {
		case !validHeaderName(n):
			details = append(details, hookd.FieldError{Field: fmt.Sprintf("sensitive_headers.%d", i), Message: "is not a valid header name"})
		case !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, n) }):
			out = append(out, n)
		}
	}
	return out, details
}

// checkHeaders checks a webhook's headers; a value sent back as the mask
// for a sensitive header keeps the stored one.
func checkHeaders(in, stored map[string]string, sensitive func(string) bool) (map[string]string, []hookd.FieldError) {
	var details []hookd.FieldError
	if len(in) > maxHeaders {
		return nil, []hookd.FieldError{{Field: "headers", Message: fmt.Sprintf("must have at most %d headers", maxHeaders)}}
	}
	out := make(map[string]string, len(in))
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := in[k]
		field := "headers." + k
		switch {
		case !validHeaderName(k):
			details = append(details, hookd.FieldError{Field: field, Message: "is not a valid header name"})
		case reservedHeaders[strings.ToLower(k)]:
			details = append(details, hookd.FieldError{Field: field, Message: "is set by hookd and cannot be overridden"})
		case strings.ContainsAny(v, "\r\n"):
			details = append(details, hookd.FieldError{Field: field, Message: "must not contain line breaks"})
		case !hookd.ValidHeaderValue(v):
			details = append(details, hookd.FieldError{Field: field, Message: "must not contain control characters other than tab"})
		case len(v) > maxHeaderValueLen:
			details = append(details, hookd.FieldError{Field: field, Message: fmt.Sprintf("must be at most %d bytes", maxHeaderValueLen)})
		}
		if v == hookd.Masked && sensitive(k) {
			if old, ok := lookupHeader(stored, k); ok {
				v = old
			}
		}
		out[k] = v
	}
	return out, details
}

func lookupHeader(h map[string]string, name string) (string, bool) {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// validHeaderName accepts an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" || len(name) > 256 {
		return false
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func applyRetryConfig(rc *hookd.RetryConfig, in *hookd.RetryConfigInput) []hookd.FieldError {
	var details []hookd.FieldError
	if in.MaxRetries != nil {
		if *in.MaxRetries < 0 || *in.MaxRetries > 25 {
			details = append(details, hookd.FieldError{Field: "retry_config.max_retries", Message: "must be 0-25"})
		}
		rc.MaxRetries = *in.MaxRetries
	}
	if in.RetryDelay != nil {
		if *in.RetryDelay < 100 || *in.RetryDelay > 86_400_000 {
			details = append(details, hookd.FieldError{Field: "retry_config.retry_delay", Message: "must be 100-86400000 milliseconds"})
		}
		rc.RetryDelay = *in.RetryDelay
	}
	if in.BackoffMultiplier != nil {
		if *in.BackoffMultiplier < 1 || *in.BackoffMultiplier > 10 {
			details = append(details, hookd.FieldError{Field: "retry_config.backoff_multiplier", Message: "must be 1-10"})
		}
		rc.BackoffMultiplier = *in.BackoffMultiplier
	}
	return details
}

// checkFilters compiles filters and checks their keys against the schemas
// of every event type the patterns subscribe to.
func checkFilters(raw json.RawMessage, patterns []string, known map[string]hookd.EventType) []hookd.FieldError {
	f, err := filter.Compile(raw)
	if err != nil {
		var e *hookd.Error
		if errors.As(err, &e) && len(e.Details) > 0 {
			return e.Details
		}
		return []hookd.FieldError{{Field: "filters", Message: hookd.ErrorMessage(err)}}
	}
	subscribed := map[string]*filter.Fields{}
	for name, et := range known {
		if hookd.SubscribesTo(patterns, name) {
			subscribed[name] = filter.FieldsFromSchema(et.PayloadSchema)
		}
	}
	return f.Validate(subscribed)
}

// checkTargetURL returns what is wrong with a webhook URL, "" when
// nothing: an http(s) URL (hookd.CheckTargetURL) or, when urls register
// its scheme, a message broker's URL as that broker's publisher checks it
// (docs/api.md §14).
func checkTargetURL(raw string, urls URLKinds) string {
	if urls == nil {
		return hookd.CheckTargetURL(raw)
	}
	registered, err := urls.CheckURL(raw)
	switch {
	case !registered:
		return hookd.CheckTargetURL(raw)
	case len(raw) > hookd.MaxURLLen:
		return fmt.Sprintf("must be at most %d characters", hookd.MaxURLLen)
	case strings.IndexFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return "must not contain spaces or control characters"
	case err != nil:
		return err.Error()
	}
	return ""
}
