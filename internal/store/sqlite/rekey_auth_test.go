package sqlite

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

// TestRekeyReSealsAuth: a rekey re-seals the auth column; the auth opens
// with the new key and no longer with the old one.
func TestRekeyReSealsAuth(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := filepath.Join(t.TempDir(), "hookd.db")
	oldKey, newKey := newTestCipher(t), newTestCipher(t)
	s := mustOpen(t, db, oldKey)
	w := secretWebhook()
	w.Auth = &hookd.EndpointAuth{Type: hookd.AuthBasic, Username: "hookd", Password: "AUTH-PASSWORD-5e6f"}
	if err := s.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rekey(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// One process owns the file at a time: open it in turn with each key.
	s = mustOpen(t, db, newKey)
	got, err := s.GetWebhook(ctx, w.Owner, w.ID)
	if err != nil || !reflect.DeepEqual(got.Auth, w.Auth) {
		t.Fatalf("after rekey = %+v, %v", got, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := mustOpen(t, db, oldKey).GetWebhook(ctx, w.Owner, w.ID); err == nil {
		t.Error("the old key still opens the webhook")
	}
}
