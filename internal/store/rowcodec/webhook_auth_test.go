package rowcodec

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

// TestWebhookAuthSealed: the auth column holds the auth sealed (no
// secret readable), NULL without auth; it opens back whole, and a rekey
// re-seals it.
func TestWebhookAuthSealed(t *testing.T) {
	t.Parallel()
	w := &hookd.Webhook{Secret: "whsec_x", Auth: &hookd.EndpointAuth{Type: hookd.AuthMTLS,
		ClientCertificate: "CERT", ClientKey: "PRIVATE-KEY-PEM", CACertificate: "CA"}}
	r, err := SealWebhook(keyCipher("k1"), w)
	if err != nil {
		t.Fatal(err)
	}
	if r.Auth == nil || !strings.HasPrefix(*r.Auth, "k1:") || strings.Contains(*r.Auth, "PRIVATE-KEY-PEM") {
		t.Fatalf("auth column %v, want it sealed", r.Auth)
	}
	if err := r.Reseal(keyCipher("k1"), keyCipher("k2")); err != nil {
		t.Fatal(err)
	}
	var got hookd.Webhook
	if err := r.Open(keyCipher("k2"), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Auth, w.Auth) {
		t.Fatalf("auth opened %+v, want %+v", got.Auth, w.Auth)
	}
	other, _ := keyCipher("k3").Seal([]byte("{}"))
	r.Auth = &other
	if err := r.Open(keyCipher("k2"), &got); err == nil || !strings.HasPrefix(err.Error(), "auth: ") {
		t.Fatalf("an auth sealed under another key: %v", err)
	}
	if r, _ := SealWebhook(keyCipher("k1"), &hookd.Webhook{}); r.Auth != nil {
		t.Fatalf("no auth stored as %q, want NULL", *r.Auth)
	}
}
