package hookd

import (
	"strings"
	"testing"
)

func TestSensitiveHeader(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
		"X-Api-Key": true, "X-APIKEY": true, "X-Auth-Token": true, "X-Client-Secret": true,
		"X-Signature-Hmac": true, "X-Hub-Signature-256": true, "X-Hmac": true, "X-Credential": true,
		"X-Session-Id": true, "X-Password": true, "X-JWT": true, "X-CSRF-Token": true,
		"X-Webhook-Signature": false, "webhook-signature": false,
		"X-Custom-Header": false, "Accept": false, "X-Tenant": false,
	} {
		if got := SensitiveHeader(name); got != want {
			t.Errorf("SensitiveHeader(%q) = %v, want %v", name, got, want)
		}
	}
	w := &Webhook{SensitiveHeaders: []string{"x-my-header"}}
	if !w.HeaderIsSensitive("X-My-Header") || w.HeaderIsSensitive("X-Other") {
		t.Error("a webhook's own sensitive headers")
	}
	got := MaskHeaders(map[string]string{"X-My-Header": "v", "X-Key": "k", "X-Other": "o"}, "X-MY-HEADER")
	if got["X-My-Header"] != Masked || got["X-Key"] != Masked || got["X-Other"] != "o" {
		t.Errorf("MaskHeaders = %v", got)
	}
}

// TestSensitiveHeaderMatchesLowered: the ASCII names matched in place get
// the answer of the same name lowered first.
func TestSensitiveHeaderMatchesLowered(t *testing.T) {
	t.Parallel()
	for _, name := range []string{
		"", "K", "KEY", "xKeY", "X-Webhook-Signaturex", "X-WEBHOOK-SIGNATURE", "WebHook-Signature",
		"tokenx", "X-TOKE", "PassWd", "X-Sess1on", "Bearer-", "-hmac-", "Jwt", "X-Xsrf", "abcdefghijklmnopqrstuvwxyz0123456789",
		"X-Request-Id", "Content-Type", "User-Agent", "X-Webhook-Delivery",
	} {
		if got, want := SensitiveHeader(name), sensitiveLower(strings.ToLower(name)); got != want {
			t.Errorf("SensitiveHeader(%q) = %v, lowered %v", name, got, want)
		}
	}
	if !SensitiveHeader("X-\u212Aey") { // KELVIN SIGN lowers to k
		t.Error("a non-ASCII name is matched lowered")
	}
}

func TestSplitURLQuery(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"https://e.com/h":                     "https://e.com/h",
		"https://e.com/h?token=abc":           "https://e.com/h?token=********",
		"https://e.com/h?a=1&b=&flag#frag":    "https://e.com/h?a=********&b=********&********#********",
		"https://e.com/h?":                    "https://e.com/h?",
		"https://e.com/h#x?y=1":               "https://e.com/h#x?y=********",
		"https://e.com:8443/p/q?sig=a%20b&x=": "https://e.com:8443/p/q?sig=********&x=********",
	} {
		shown, secret := SplitURLQuery(raw)
		if shown != want {
			t.Errorf("SplitURLQuery(%q) shows %q, want %q", raw, shown, want)
		}
		if back := JoinURLQuery(shown, secret); back != raw {
			t.Errorf("JoinURLQuery(SplitURLQuery(%q)) = %q", raw, back)
		}
		if MaskURLQuery(raw) != want {
			t.Errorf("MaskURLQuery(%q)", raw)
		}
	}
}
