package stream

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/crypto"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/sqlite"
)

// openStore opens a real SQLite store in a temp dir.
func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := crypto.New(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "hookd.db"), sqlite.Options{Cipher: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// request is a publish request for one new event of tenant.
func request(t *testing.T, tenant, key string) hookd.PublishRequest {
	t.Helper()
	now := time.Now().UTC()
	id, err := hookd.NewEventID(now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return hookd.PublishRequest{Event: hookd.Event{ID: id, Tenant: tenant, Publisher: "p", Type: "order.created",
		Version: "1.0", Payload: json.RawMessage(`{"n":1}`), IdempotencyKey: key, CreatedAt: now}}
}

// TestPublishOnCommitKeepsSeqOrder publishes from many goroutines at once
// and checks that a subscriber sees exactly the stored events, in Seq order.
func TestPublishOnCommitKeepsSeqOrder(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	b := NewMemory()
	store := PublishOnCommit(st, b)
	sub := mustSubscribe(t, b, "acme", nil, 10000)

	const writers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := 0; i < each; i++ {
				reqs := []hookd.PublishRequest{request(t, "acme", "")}
				if i%5 == 0 { // some batches, some for another tenant
					reqs = append(reqs, request(t, "other", ""), request(t, "acme", ""))
				}
				if _, err := store.PublishEvents(t.Context(), reqs); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	stored, err := st.EventsAfter(t.Context(), "acme", 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	got, open := drain(sub)
	if !open {
		t.Fatalf("subscription ended: %v", sub.Err())
	}
	if len(got) != len(stored) {
		t.Fatalf("subscriber got %d events, the store has %d", len(got), len(stored))
	}
	for i, e := range stored {
		if got[i] != e.Seq {
			t.Fatalf("event %d: subscriber got seq %d, store order has %d", i, got[i], e.Seq)
		}
	}
}

func TestPublishOnCommitPublishesOnlyNewCommits(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	b := NewMemory()
	store := PublishOnCommit(st, b)
	sub := mustSubscribe(t, b, "acme", nil, 100)

	first := request(t, "acme", "key-1")
	res, err := store.PublishEvents(t.Context(), []hookd.PublishRequest{first})
	if err != nil {
		t.Fatal(err)
	}
	// The same idempotency key: a duplicate, stored once, streamed once.
	if again, err := store.PublishEvents(t.Context(), []hookd.PublishRequest{request(t, "acme", "key-1")}); err != nil || !again[0].Duplicate {
		t.Fatalf("second publish with the key: %+v, %v; want a duplicate", again, err)
	}
	// A failed transaction (the same event id again) publishes nothing.
	clash := first
	clash.Event.IdempotencyKey = ""
	if _, err := store.PublishEvents(t.Context(), []hookd.PublishRequest{request(t, "acme", ""), clash}); hookd.ErrorCode(err) != hookd.EConflict {
		t.Fatalf("publishing an existing id: %v, want conflict", err)
	}
	got, _ := drain(sub)
	if fmt.Sprint(got) != fmt.Sprint([]int64{res[0].Event.Seq}) {
		t.Fatalf("subscriber got seqs %v, want only %d", got, res[0].Event.Seq)
	}
}
