package app

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"unicode"

	"github.com/hookd/hookd/internal/hookd"
)

// Bounds of an auth object's values (docs/api.md §12).
const (
	maxAuthValueLen = 4096     // a name, password, token, URL, scope…
	maxAuthPEMLen   = 64 << 10 // a certificate, key or CA bundle
)

// authFields lists, per auth type, the fields it takes and whether each is
// required.
var authFields = map[string]map[string]bool{
	hookd.AuthBasic:  {"username": true, "password": true},
	hookd.AuthBearer: {"token": true},
	hookd.AuthOAuth2: {"token_url": true, "client_id": true, "client_secret": true, "scope": false, "audience": false},
	hookd.AuthMTLS:   {"client_certificate": true, "client_key": true, "ca_certificate": false},
}

// pemFields hold PEM blocks: line breaks allowed, a larger bound.
var pemFields = map[string]bool{"client_certificate": true, "client_key": true, "ca_certificate": true}

// authValues points at every field of a by its JSON name.
func authValues(a *hookd.EndpointAuth) map[string]*string {
	v := a.Secrets()
	v["username"], v["token_url"], v["client_id"] = &a.Username, &a.TokenURL, &a.ClientID
	v["scope"], v["audience"] = &a.Scope, &a.Audience
	v["client_certificate"], v["ca_certificate"] = &a.ClientCertificate, &a.CACertificate
	return v
}

// applyAuth validates in.Auth and writes it into wh.Auth: absent keeps
// the stored auth, null removes it, an object replaces it, except that a
// secret sent back as the mask keeps the stored value of the same type.
// It also checks that an mtls auth goes with an https url, when either
// changes.
func applyAuth(wh *hookd.Webhook, in *hookd.WebhookInput) []hookd.FieldError {
	var details []hookd.FieldError
	if in.Auth != nil {
		auth, d := parseAuth(in.Auth, wh.Auth)
		details = d
		if len(d) == 0 {
			wh.Auth = auth
		}
	}
	if (in.Auth != nil || in.URL != nil) && len(details) == 0 && wh.Auth != nil && wh.Auth.Type == hookd.AuthMTLS {
		if u, err := url.Parse(wh.URL); err == nil && u.Scheme != "https" {
			details = append(details, hookd.FieldError{Field: "auth.type", Message: "mtls needs an https url"})
		}
	}
	return details
}

// parseAuth decodes and checks an auth object; stored is the webhook's
// auth before the change (nil on create).
func parseAuth(raw json.RawMessage, stored *hookd.EndpointAuth) (*hookd.EndpointAuth, []hookd.FieldError) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
		return nil, []hookd.FieldError{{Field: "auth", Message: "must be an object or null"}}
	}
	var typ string
	if t, ok := obj["type"]; !ok || json.Unmarshal(t, &typ) != nil {
		return nil, []hookd.FieldError{{Field: "auth.type", Message: "is required: basic, bearer, oauth2 or mtls"}}
	}
	fields, ok := authFields[typ]
	if !ok {
		return nil, []hookd.FieldError{{Field: "auth.type", Message: "must be basic, bearer, oauth2 or mtls"}}
	}
	var details []hookd.FieldError
	bad := func(field, msg string) {
		details = append(details, hookd.FieldError{Field: "auth." + field, Message: msg})
	}
	auth := &hookd.EndpointAuth{Type: typ}
	values := authValues(auth)
	for _, name := range sortedKeys(obj) {
		if name == "type" {
			continue
		}
		if _, ok := fields[name]; !ok {
			bad(name, fmt.Sprintf("is not a field of %s auth", typ))
			continue
		}
		if err := json.Unmarshal(obj[name], values[name]); err != nil {
			bad(name, "must be a string")
			continue
		}
		if msg := checkAuthValue(name, *values[name]); msg != "" {
			bad(name, msg)
		}
	}
	for _, name := range sortedKeys(fields) {
		if _, given := obj[name]; fields[name] && !given {
			bad(name, "is required")
		}
	}
	if len(details) > 0 {
		sort.SliceStable(details, func(i, j int) bool { return details[i].Field < details[j].Field })
		return nil, details
	}
	details = keepMaskedSecrets(auth, stored)
	if len(details) == 0 {
		details = checkAuthOfType(auth)
	}
	if len(details) > 0 {
		return nil, details
	}
	return auth, nil
}

// checkAuthValue bounds one field's value; it returns what is wrong, or "".
func checkAuthValue(name, v string) string {
	limit := maxAuthValueLen
	if pemFields[name] {
		limit = maxAuthPEMLen
	}
	switch {
	case len(v) > limit:
		return fmt.Sprintf("must be at most %d bytes", limit)
	case v == "" && name != "password" && name != "scope" && name != "audience":
		return "must not be empty"
	case strings.IndexFunc(v, func(r rune) bool {
		return unicode.IsControl(r) && !(pemFields[name] && (r == '\n' || r == '\r' || r == '\t'))
	}) >= 0:
		return "must not contain control characters"
	case name == "username" && strings.Contains(v, ":"):
		return "must not contain a colon"
	case name == "token_url":
		return hookd.CheckTargetURL(v) // a target like the webhook's url
	}
	return ""
}

// keepMaskedSecrets puts the stored value in place of every secret sent
// back as the mask. The mask of a value that is not stored (none, or an
// auth of another type) is refused rather than taken as the secret.
func keepMaskedSecrets(auth, stored *hookd.EndpointAuth) []hookd.FieldError {
	var details []hookd.FieldError
	var kept map[string]*string
	if stored != nil && stored.Type == auth.Type {
		kept = stored.Secrets()
	}
	secrets := auth.Secrets()
	for _, name := range sortedKeys(secrets) {
		v := secrets[name]
		if *v != hookd.Masked {
			continue
		}
		if old := kept[name]; old != nil && *old != "" {
			*v = *old
			continue
		}
		details = append(details, hookd.FieldError{Field: "auth." + name, Message: "is the mask of a stored value, but none is stored: send the value"})
	}
	return details
}

// checkAuthOfType checks what a type needs beyond its fields one by one:
// mtls's PEM blocks parse and the key matches the certificate.
func checkAuthOfType(a *hookd.EndpointAuth) []hookd.FieldError {
	bad := func(field, msg string) []hookd.FieldError {
		return []hookd.FieldError{{Field: "auth." + field, Message: msg}}
	}
	switch a.Type {
	case hookd.AuthMTLS:
		if !hasCertificate(a.ClientCertificate) {
			return bad("client_certificate", "must be a PEM certificate")
		}
		if _, err := tls.X509KeyPair([]byte(a.ClientCertificate), []byte(a.ClientKey)); err != nil {
			if strings.Contains(err.Error(), "does not match") {
				return bad("client_key", "does not match client_certificate")
			}
			return bad("client_key", "must be a PEM private key (PKCS #1, PKCS #8 or EC)")
		}
		if a.CACertificate != "" && !hasCertificate(a.CACertificate) {
			return bad("ca_certificate", "must be PEM certificates")
		}
	}
	return nil
}

// hasCertificate reports whether s holds PEM certificates, all of which
// parse, and at least one.
func hasCertificate(s string) bool {
	rest, n := []byte(s), 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return n > 0 && len(bytes.TrimSpace(rest)) == 0
		}
		if block.Type != "CERTIFICATE" {
			return false
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return false
		}
		n++
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
