package storetest

import (
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

var recheckTests = []test{
	{"RecheckWebhooksVersions", testRecheckWebhooks},
}

// testRecheckWebhooks: RecheckWebhooks answers the active rows of any
// owner with a version that stays while the row does, opens a row only
// when its version is not the known one, and leaves out rows switched
// off (by an update or by a recorded outcome), deleted or missing, even
// when it read them before.
func testRecheckWebhooks(t *testing.T, f *fixture) {
	a := f.hook(alice, "a")
	other := f.hook(otherAlice, "other")
	off := webhook(alice, "off", "*")
	off.IsActive = false
	f.mustCreate(off)
	gone := f.hook(bob, "gone")
	if err := f.s.DeleteWebhook(f.ctx, bob, gone.ID); err != nil {
		t.Fatal(err)
	}
	recheck := func(known map[int64]uint64, ids ...int64) map[int64]hookd.WebhookVersion {
		t.Helper()
		m, err := f.s.RecheckWebhooks(f.ctx, ids, known)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	first := recheck(nil, a.ID, other.ID, off.ID, gone.ID, 999999)
	if len(first) != 2 || first[a.ID].Webhook == nil || first[other.ID].Webhook == nil {
		t.Fatalf("RecheckWebhooks = %+v, want a and other, opened", first)
	}
	if w := first[other.ID].Webhook; w.Owner != otherAlice || w.Secret != other.Secret || w.URL != other.URL {
		t.Errorf("RecheckWebhooks other = %+v", w)
	}

	known := map[int64]uint64{a.ID: first[a.ID].Version, other.ID: first[other.ID].Version}
	again := recheck(known, a.ID, other.ID)
	for _, id := range []int64{a.ID, other.ID} {
		if v := again[id]; v.Version != known[id] || v.Webhook != nil {
			t.Errorf("unchanged row %d = %+v, want version %d and no row", id, v, known[id])
		}
	}

	// A change, even one that keeps updated_at, gives another version
	// and the changed row.
	a.URL = "https://receiver.test/moved"
	if err := f.s.UpdateWebhook(f.ctx, a); err != nil {
		t.Fatal(err)
	}
	moved := recheck(known, a.ID, other.ID)
	if v := moved[a.ID]; v.Version == known[a.ID] || v.Webhook == nil || v.Webhook.URL != a.URL {
		t.Errorf("changed row = %+v, want a new version and URL %s", v, a.URL)
	}
	if v := moved[other.ID]; v.Version != known[other.ID] || v.Webhook != nil {
		t.Errorf("unchanged row beside a changed one = %+v", v)
	}

	a.IsActive = false
	if err := f.s.UpdateWebhook(f.ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteWebhook(f.ctx, otherAlice, other.ID); err != nil {
		t.Fatal(err)
	}
	if m := recheck(known, a.ID, other.ID); len(m) != 0 {
		t.Errorf("switched off and deleted rows = %+v, want none", m)
	}
	if m := recheck(nil); len(m) != 0 {
		t.Errorf("RecheckWebhooks(no ids) = %+v", m)
	}

	// Recording an outcome that switches a webhook off (a 410) shows at
	// the next re-check of a row read before.
	w := f.hook(alice, "answers 410")
	seen := recheck(nil, w.ID)
	known = map[int64]uint64{w.ID: seen[w.ID].Version}
	if v := recheck(known, w.ID)[w.ID]; v.Version != known[w.ID] {
		t.Fatalf("unchanged row = %+v, want version %d", v, known[w.ID])
	}
	f.publish(alice.Tenant, "order.created", base, w.ID)
	o := httpFailed(410, 3)
	o.disable = "endpoint answered 410 Gone"
	f.deliver(base, 50, all(o))
	if m := recheck(known, w.ID); len(m) != 0 {
		t.Errorf("a row switched off by a recorded outcome = %+v, want none", m)
	}
}
