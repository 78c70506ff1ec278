package sqlite

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

// integrationRow is a settings row with a sealed Config holding a credential.
func integrationRow() *hookd.Webhook {
	w := secretWebhook()
	w.PreviousSecret, w.PreviousSecretExpiresAt = "", nil
	w.Kind, w.LookupKey = "slack", ""
	w.Config = json.RawMessage(`{"fields":{"webhook_url":"https://hooks.slack.com/services/T0/B0/CONFIG-TOKEN-0a1b2c"}}`)
	return w
}

func TestRekeyRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookd.db")
	oldKey, newKey := newTestCipher(t), newTestCipher(t)
	s := mustOpen(t, path, oldKey)
	hook, slack := secretWebhook(), integrationRow()
	for _, w := range []*hookd.Webhook{hook, slack} {
		if err := s.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Rekey(ctx, newKey)
	if err != nil || n != 2 {
		t.Fatalf("Rekey = %d, %v; want 2 rows", n, err)
	}
	// The store goes on with the new key.
	if got, err := s.GetWebhook(ctx, hook.Owner, hook.ID); err != nil || got.Secret != hook.Secret {
		t.Fatalf("after Rekey: %+v, %v", got, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Every sealed column now opens with the new key and no longer with the old one.
	check := mustOpen(t, path, newKey)
	rows, err := check.reader.QueryContext(ctx, "SELECT headers, secret, COALESCE(previous_secret, ''), COALESCE(config, '') FROM webhooks")
	if err != nil {
		t.Fatal(err)
	}
	sealed := 0
	for rows.Next() {
		var cols [4]string
		if err := rows.Scan(&cols[0], &cols[1], &cols[2], &cols[3]); err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			if c == "" {
				continue
			}
			sealed++
			if _, err := newKey.Open(c); err != nil {
				t.Errorf("a column does not open with the new key: %v", err)
			}
			if _, err := oldKey.Open(c); err == nil {
				t.Error("a column still opens with the old key")
			}
		}
	}
	rows.Close()
	if sealed != 6 { // headers, secret, previous_secret of the webhook; headers, secret, config of the row
		t.Errorf("%d sealed values, want 6", sealed)
	}
	got, err := check.GetWebhook(ctx, slack.Owner, slack.ID)
	if err != nil || !bytes.Equal(got.Config, slack.Config) || got.Headers["X-Api-Key"] != slack.Headers["X-Api-Key"] {
		t.Fatalf("integration row with the new key: %+v, %v", got, err)
	}
	got, err = check.GetWebhook(ctx, hook.Owner, hook.ID)
	if err != nil || got.PreviousSecret != hook.PreviousSecret {
		t.Fatalf("webhook with the new key: %+v, %v", got, err)
	}
	check.Close()
	if _, err := mustOpen(t, path, oldKey).GetWebhook(ctx, hook.Owner, hook.ID); err == nil {
		t.Error("the old key still reads the webhook")
	}
	// Nothing was ever written in clear, before or after.
	raw, _ := os.ReadFile(path)
	wal, _ := os.ReadFile(path + "-wal")
	raw = append(raw, wal...)
	for _, secret := range []string{"CONFIG-TOKEN-0a1b2c", "CURRENT-SECRET-9d3a51e8", "HEADER-TOKEN-4f1c9a"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the file holds %q in clear text", secret)
		}
	}
}

func TestRekeyIsAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookd.db")
	oldKey, stranger, newKey := newTestCipher(t), newTestCipher(t), newTestCipher(t)
	s := mustOpen(t, path, oldKey)
	good := secretWebhook()
	if err := s.CreateWebhook(ctx, good); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// A second row sealed with some other key: the current key cannot open it.
	other := mustOpen(t, path, stranger)
	bad := integrationRow()
	if err := other.CreateWebhook(ctx, bad); err != nil {
		t.Fatal(err)
	}
	other.Close()
	s = mustOpen(t, path, oldKey)
	if n, err := s.Rekey(ctx, newKey); err == nil || n != 0 {
		t.Fatalf("Rekey over an unreadable row = %d, %v; want an error", n, err)
	}
	if got, err := s.GetWebhook(ctx, good.Owner, good.ID); err != nil || got.Secret != good.Secret {
		t.Fatalf("after a failed Rekey the old key no longer reads the first row: %+v, %v", got, err)
	}
	if _, err := s.Rekey(ctx, nil); err == nil {
		t.Error("Rekey without a cipher succeeded")
	}
}
