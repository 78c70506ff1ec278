package app

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/testpki"
)

func TestWebhookAuthValidation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ca := testpki.NewCA(t, "clients")
	cert, key := ca.Client(t, "hookd")
	_, otherKey := ca.Client(t, "other")
	pemJSON := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	cases := []struct {
		name string
		auth string
		url  string
		want []string // nil: accepted
	}{
		{"basic", `{"type":"basic","username":"u","password":"p"}`, "", nil},
		{"basic empty password", `{"type":"basic","username":"u","password":""}`, "", nil},
		{"bearer", `{"type":"bearer","token":"t"}`, "", nil},
		{"oauth2", `{"type":"oauth2","token_url":"https://id.example.com/token","client_id":"c","client_secret":"s","scope":"a b","audience":"x"}`, "", nil},
		{"mtls", `{"type":"mtls","client_certificate":` + pemJSON(cert) + `,"client_key":` + pemJSON(key) + `,"ca_certificate":` + pemJSON(ca.PEM) + `}`, "", nil},
		{"null", `null`, "", nil},
		{"not an object", `"basic"`, "", []string{"auth"}},
		{"no type", `{"username":"u"}`, "", []string{"auth.type"}},
		{"unknown type", `{"type":"digest"}`, "", []string{"auth.type"}},
		{"missing fields", `{"type":"oauth2"}`, "", []string{"auth.client_id", "auth.client_secret", "auth.token_url"}},
		{"field of another type", `{"type":"bearer","token":"t","password":"p"}`, "", []string{"auth.password"}},
		{"not a string", `{"type":"bearer","token":5}`, "", []string{"auth.token"}},
		{"header injection", `{"type":"bearer","token":"t\r\nX-Evil: 1"}`, "", []string{"auth.token"}},
		{"colon in username", `{"type":"basic","username":"a:b","password":"p"}`, "", []string{"auth.username"}},
		{"token_url not http", `{"type":"oauth2","token_url":"ftp://id.example.com/token","client_id":"c","client_secret":"s"}`, "", []string{"auth.token_url"}},
		{"token_url with user", `{"type":"oauth2","token_url":"https://u:p@id.example.com/token","client_id":"c","client_secret":"s"}`, "", []string{"auth.token_url"}},
		{"certificate not PEM", `{"type":"mtls","client_certificate":"nope","client_key":` + pemJSON(key) + `}`, "", []string{"auth.client_certificate"}},
		{"key of another certificate", `{"type":"mtls","client_certificate":` + pemJSON(cert) + `,"client_key":` + pemJSON(otherKey) + `}`, "", []string{"auth.client_key"}},
		{"CA not PEM", `{"type":"mtls","client_certificate":` + pemJSON(cert) + `,"client_key":` + pemJSON(key) + `,"ca_certificate":"x"}`, "", []string{"auth.ca_certificate"}},
		{"mtls over http", `{"type":"mtls","client_certificate":` + pemJSON(cert) + `,"client_key":` + pemJSON(key) + `}`, "http://example.com/hook", []string{"auth.type"}},
		{"mask with nothing stored", `{"type":"bearer","token":"********"}`, "", []string{"auth.token"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := tc.url
			if url == "" {
				url = "https://example.com/hook"
			}
			wh, err := f.Webhooks.CreateWebhook(t.Context(), alice, &hookd.WebhookInput{
				Name: ptr("n"), URL: &url, Events: []string{"*"}, Auth: json.RawMessage(tc.auth)})
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if (tc.auth == "null") != (wh.Auth == nil) {
					t.Fatalf("auth %+v", wh.Auth)
				}
				return
			}
			if got := fields(t, err); !slices.Equal(got, tc.want) {
				t.Fatalf("fields %v, want %v", got, tc.want)
			}
		})
	}
}

// TestWebhookAuthKeepsMaskedSecrets: a PUT that sends the mask back keeps
// the stored secret of the same type; one without auth keeps it all;
// null removes it.
func TestWebhookAuthKeepsMaskedSecrets(t *testing.T) {
	t.Parallel()
	f := setup(t)
	wh, err := f.Webhooks.CreateWebhook(t.Context(), alice, &hookd.WebhookInput{Name: ptr("n"), URL: ptr("https://example.com/hook"),
		Events: []string{"*"}, Auth: json.RawMessage(`{"type":"oauth2","token_url":"https://id.example.com/token","client_id":"c","client_secret":"s3cret"}`)})
	if err != nil {
		t.Fatal(err)
	}
	update := func(in hookd.WebhookInput) *hookd.Webhook {
		t.Helper()
		got, _, err := f.Webhooks.UpdateWebhook(t.Context(), alice, wh.ID, &in)
		if err != nil {
			t.Fatal(err)
		}
		stored, _, err := f.Webhooks.FindWebhookByID(t.Context(), alice, wh.ID)
		if err != nil {
			t.Fatal(err)
		}
		if (got.Auth == nil) != (stored.Auth == nil) || got.Auth != nil && *got.Auth != *stored.Auth {
			t.Fatalf("answered %+v, stored %+v", got.Auth, stored.Auth)
		}
		return stored
	}
	got := update(hookd.WebhookInput{Auth: json.RawMessage(`{"type":"oauth2","token_url":"https://id.example.com/v2/token","client_id":"c2","client_secret":"********"}`)})
	if got.Auth.ClientSecret != "s3cret" || got.Auth.ClientID != "c2" || got.Auth.TokenURL != "https://id.example.com/v2/token" {
		t.Fatalf("after a PUT with the mask: %+v", got.Auth)
	}
	if got = update(hookd.WebhookInput{Name: ptr("renamed")}); got.Auth == nil || got.Auth.ClientSecret != "s3cret" {
		t.Fatalf("after a PUT without auth: %+v", got.Auth)
	}
	if m := got.Auth.Masked(); m.ClientSecret != hookd.Masked || m.ClientID != "c2" || got.Auth.ClientSecret != "s3cret" {
		t.Fatalf("masked %+v", m)
	}
	_, _, err = f.Webhooks.UpdateWebhook(t.Context(), alice, wh.ID, &hookd.WebhookInput{Auth: json.RawMessage(`{"type":"basic","username":"u","password":"********"}`)})
	if got := fields(t, err); !slices.Equal(got, []string{"auth.password"}) {
		t.Fatalf("the mask of another type's secret: %v", got)
	}
	if got = update(hookd.WebhookInput{Auth: json.RawMessage(`null`)}); got.Auth != nil {
		t.Fatalf("after null: %+v", got.Auth)
	}
}
