package storetest

import (
	"reflect"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

// testWebhookAuth: a webhook's auth is kept whole, read back by every
// read (the dispatcher's LookupWebhooks included), replaced and removed.
func testWebhookAuth(t *testing.T, f *fixture) {
	w := webhook(alice, "with auth", "order.created")
	w.Auth = &hookd.EndpointAuth{Type: hookd.AuthOAuth2, TokenURL: "https://id.example.com/token",
		ClientID: "hookd", ClientSecret: "s3cret", Scope: "a b", Audience: "https://api.example.com"}
	f.mustCreate(w)
	check := func(want *hookd.EndpointAuth) {
		t.Helper()
		got, err := f.s.GetWebhook(f.ctx, alice, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		looked, err := f.s.LookupWebhooks(f.ctx, []int64{w.ID})
		if err != nil || looked[w.ID] == nil {
			t.Fatalf("LookupWebhooks = %v, %v", looked, err)
		}
		for _, a := range []*hookd.EndpointAuth{got.Auth, looked[w.ID].Auth} {
			if !reflect.DeepEqual(a, want) {
				t.Fatalf("auth = %+v, want %+v", a, want)
			}
		}
	}
	check(w.Auth)
	w.Auth = &hookd.EndpointAuth{Type: hookd.AuthBasic, Username: "u", Password: ""}
	if err := f.s.UpdateWebhook(f.ctx, w); err != nil {
		t.Fatal(err)
	}
	check(w.Auth)
	w.Auth = nil
	if err := f.s.UpdateWebhook(f.ctx, w); err != nil {
		t.Fatal(err)
	}
	check(nil)
	if plain := f.hook(alice, "plain"); plain.Auth != nil {
		t.Fatalf("a webhook without auth reads back %+v", plain.Auth)
	}
}
