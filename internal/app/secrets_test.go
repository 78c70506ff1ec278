package app

import (
	"slices"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

// A webhook may mark any header sensitive; sending the masked URL or a
// masked value back keeps the stored one.
func TestSensitiveHeadersAndMaskedURL(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	_, err := f.Webhooks.CreateWebhook(ctx, alice, &hookd.WebhookInput{
		Name: ptr("n"), URL: ptr("https://e.com/h"), Events: []string{"order.created"},
		SensitiveHeaders: []string{"X-Ok", "bad name"},
	})
	if got := fields(t, err); !slices.Equal(got, []string{"sensitive_headers.1"}) {
		t.Fatalf("fields %v", got)
	}
	wh, err := f.Webhooks.CreateWebhook(ctx, alice, &hookd.WebhookInput{
		Name: ptr("n"), URL: ptr("https://e.com/h?token=s3cret"), Events: []string{"order.created"},
		Headers: map[string]string{"X-Mine": "v1"}, SensitiveHeaders: []string{"x-mine", "X-MINE"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(wh.SensitiveHeaders, []string{"x-mine"}) {
		t.Fatalf("sensitive headers %v", wh.SensitiveHeaders)
	}
	got, _, err := f.Webhooks.UpdateWebhook(ctx, alice, wh.ID, &hookd.WebhookInput{
		URL: ptr("https://e.com/h?token=********"), Headers: map[string]string{"X-Mine": hookd.Masked},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != "https://e.com/h?token=s3cret" || got.Headers["X-Mine"] != "v1" {
		t.Fatalf("update kept %q %v", got.URL, got.Headers)
	}
	stored, err := f.store.GetWebhook(ctx, alice, wh.ID)
	if err != nil || stored.URL != "https://e.com/h?token=s3cret" || !slices.Equal(stored.SensitiveHeaders, []string{"x-mine"}) {
		t.Fatalf("stored %+v %v", stored, err)
	}
}
