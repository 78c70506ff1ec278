// Package rowcodec turns domain values into the column values both stores
// keep, and back: a webhook's secrets, header values and integration
// settings sealed with the store's cipher, its settings encoded as JSON,
// an event type's schema and example, and an attempt's request headers.
// It writes no SQL: each store binds and scans these values in its own
// dialect.
package rowcodec

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/hookd/hookd/internal/hookd"
)

// Webhook is the stored form of a webhook's columns that are not plain
// values. A nil pointer is a NULL column.
type Webhook struct {
	// URL is the url column: the URL with its query values masked
	// (hookd.SplitURLQuery); the query itself is sealed in Headers.
	URL            string
	Events         []string // subscription patterns, never nil
	Headers        string   // sealed JSON: sealedHeaders
	Secret         string   // sealed
	PreviousSecret *string  // sealed; nil when there is none
	RetryConfig    string   // JSON
	Filters        string   // JSON as the user sent it, "{}" when none
	RateLimit      *int
	MaxConcurrency *int
	Config         *string // sealed JSON (an integration's settings); nil when none
	Auth           *string // sealed JSON (the endpoint's authentication); nil when none
}

// sealedHeaders is what the headers column seals: the header values, the
// names the webhook marks sensitive and its URL's query, kept together so
// that one sealed value holds everything secret about where a delivery
// goes. V tells it from rows written before, which seal the header
// object alone (their URL is in clear in the url column until their next
// write).
type sealedHeaders struct {
	V         int               `json:"v"`
	Headers   map[string]string `json:"headers"`
	Sensitive []string          `json:"sensitive,omitempty"`
	URLQuery  string            `json:"url_query,omitempty"`
}

// sealedHeadersVersion is sealedHeaders' V.
const sealedHeadersVersion = 2

// SealWebhook encodes w's columns, sealing its secrets, header values, URL
// query and integration settings with c.
func SealWebhook(c hookd.Cipher, w *hookd.Webhook) (Webhook, error) {
	r := Webhook{Events: w.Events, Filters: "{}", RateLimit: w.RateLimit, MaxConcurrency: w.MaxConcurrency}
	if r.Events == nil {
		r.Events = []string{}
	}
	sh := sealedHeaders{V: sealedHeadersVersion, Headers: w.Headers, Sensitive: w.SensitiveHeaders}
	if sh.Headers == nil {
		sh.Headers = map[string]string{}
	}
	r.URL, sh.URLQuery = hookd.SplitURLQuery(w.URL)
	b, err := json.Marshal(sh)
	if err != nil {
		return r, err
	}
	if r.Headers, err = c.Seal(b); err != nil {
		return r, fmt.Errorf("seal headers: %w", err)
	}
	if r.Secret, err = c.Seal([]byte(w.Secret)); err != nil {
		return r, fmt.Errorf("seal secret: %w", err)
	}
	if w.PreviousSecret != "" {
		sealed, err := c.Seal([]byte(w.PreviousSecret))
		if err != nil {
			return r, fmt.Errorf("seal previous secret: %w", err)
		}
		r.PreviousSecret = &sealed
	}
	if b, err = json.Marshal(w.RetryConfig); err != nil {
		return r, err
	}
	r.RetryConfig = string(b)
	if len(w.Filters) > 0 {
		if !json.Valid(w.Filters) {
			return r, errors.New("webhook filters are not JSON")
		}
		r.Filters = string(w.Filters)
	}
	if len(w.Config) > 0 {
		sealed, err := c.Seal(w.Config)
		if err != nil {
			return r, fmt.Errorf("seal config: %w", err)
		}
		r.Config = &sealed
	}
	if r.Auth, err = sealAuth(c, w.Auth); err != nil {
		return r, err
	}
	return r, nil
}

// Open decodes the columns into w, opening its sealed values with c. An
// error names the column at fault.
func (r Webhook) Open(c hookd.Cipher, w *hookd.Webhook) error {
	w.Events = r.Events
	if w.Events == nil {
		w.Events = []string{}
	}
	plain, err := c.Open(r.Headers)
	if err != nil {
		return fmt.Errorf("headers: %w", err)
	}
	sh, err := openHeaders(plain)
	if err != nil {
		return fmt.Errorf("headers: %w", err)
	}
	w.Headers, w.SensitiveHeaders = sh.Headers, sh.Sensitive
	if w.Headers == nil {
		w.Headers = map[string]string{}
	}
	w.URL = hookd.JoinURLQuery(r.URL, sh.URLQuery)
	if plain, err = c.Open(r.Secret); err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	w.Secret = string(plain)
	if r.PreviousSecret != nil {
		if plain, err = c.Open(*r.PreviousSecret); err != nil {
			return fmt.Errorf("previous secret: %w", err)
		}
		w.PreviousSecret = string(plain)
	}
	if err := json.Unmarshal([]byte(r.RetryConfig), &w.RetryConfig); err != nil {
		return fmt.Errorf("retry_config: %w", err)
	}
	w.Filters = json.RawMessage(r.Filters)
	w.RateLimit = r.RateLimit
	w.MaxConcurrency = r.MaxConcurrency
	if r.Config != nil {
		if plain, err = c.Open(*r.Config); err != nil {
			return fmt.Errorf("config: %w", err)
		}
		w.Config = plain
	}
	if w.Auth, err = openAuth(c, r.Auth); err != nil {
		return err
	}
	return nil
}

// openHeaders decodes the headers column's plain text, in either form.
func openHeaders(plain []byte) (sealedHeaders, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(plain, &probe); err != nil {
		return sealedHeaders{}, err
	}
	var sh sealedHeaders
	// A header's value is a JSON string, never the number V is.
	if v, ok := probe["v"]; ok && string(v) == strconv.Itoa(sealedHeadersVersion) {
		err := json.Unmarshal(plain, &sh)
		return sh, err
	}
	err := json.Unmarshal(plain, &sh.Headers)
	return sh, err
}

// Reseal opens each sealed value with from and seals it again with to, in
// place; nil values (NULL columns) are skipped. An error names the column.
func (r *Webhook) Reseal(from, to hookd.Cipher) error {
	columns := []struct {
		name  string
		value *string
	}{
		{"headers", &r.Headers}, {"secret", &r.Secret},
		{"previous_secret", r.PreviousSecret}, {"config", r.Config}, {"auth", r.Auth},
	}
	for _, col := range columns {
		if col.value == nil {
			continue
		}
		plain, err := from.Open(*col.value)
		if err != nil {
			return fmt.Errorf("%s: %w", col.name, err)
		}
		if *col.value, err = to.Seal(plain); err != nil {
			return fmt.Errorf("%s: %w", col.name, err)
		}
	}
	return nil
}
