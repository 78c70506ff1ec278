package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// Rewind turns the database of s, a store at the current schema, back
// into the schema before integration rows had their own id range, with
// every row numbered as old gives (current id → id in the shared
// sequence, references included) and the shared sequence at last. It
// closes s, opens the database again (which migrates it) and returns
// that store.
type Rewind func(t *testing.T, s hookd.Store, old map[int64]int64, last int64) hookd.Store

// RowIDMigration is the migration test of both stores: a database whose
// integration rows and webhooks were numbered from one sequence
// (webhook 1, slack 2, webhook 3, zapier 4, a deleted webhook 5 whose
// history stays, teams 6, a deleted integration 7 without deliveries), with deliveries (sent,
// retrying, pending, cancelled, a test send) and counters for both, is
// migrated: users' webhooks keep their ids, integration rows move to
// hookd.FirstIntegrationRowID up with their logs, counters and stats, the
// history of the deleted webhook stays where it was, and the next ids are
// 6 (after that history) and the next of the integration range.
func RowIDMigration(t *testing.T, open Opener, rewind Rewind) {
	f := setup(t, open)
	a := f.hook(alice, "a")
	slack := f.mustCreate(integration(alice, "slack"))
	b := f.hook(alice, "b")
	zap := f.mustCreate(integration(alice, "zapier"))
	gone := f.hook(alice, "gone")
	teams := f.mustCreate(integration(alice, "teams"))
	dead := f.mustCreate(integration(alice, "discord"))
	rows := []*hookd.Webhook{a, slack, b, zap, teams}

	all := []int64{a.ID, slack.ID, b.ID, zap.ID, gone.ID, teams.ID} // dead leaves no history
	f.publish(alice.Tenant, "order.created", base, all...)
	now := base.Add(time.Second)
	f.deliver(now, 0, func(c hookd.Claim) outcome {
		switch c.Delivery.WebhookID {
		case slack.ID:
			return retried(httpFailed(503, 20), now.Add(time.Hour))
		case b.ID:
			return failed(hookd.ErrTypeTimeout, 30)
		}
		return succeeded(10)
	})
	goneEv := f.publish(alice.Tenant, "order.updated", now, all...) // stays pending (zapier, teams) or is cancelled (gone)
	tev := f.event(alice.Tenant, "order.created", now)
	if err := recordTestSend(f, &tev, &hookd.Delivery{WebhookID: teams.ID},
		&hookd.Attempt{StartedAt: now, ResponseCode: ptr(200), ResponseTimeMs: 7, RequestHeaders: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{gone.ID, dead.ID} {
		if err := f.s.DeleteWebhook(f.ctx, alice, id); err != nil {
			t.Fatal(err)
		}
	}
	before := map[string]rowSnapshot{}
	for _, w := range rows {
		before[w.Name] = f.snapshot(w.ID)
	}

	old := map[int64]int64{a.ID: 1, slack.ID: 2, b.ID: 3, zap.ID: 4, gone.ID: 5, teams.ID: 6, dead.ID: 7}
	f.s = rewind(t, f.s, old, 7)

	for _, w := range rows {
		id := old[w.ID] // users' webhooks keep the ids they had
		if w.Kind != "" {
			list, _, err := f.s.ListWebhooks(f.ctx, alice, hookd.WebhookQuery{Kind: w.Kind})
			if err != nil || len(list) != 1 {
				t.Fatalf("%s rows after migration = %v, %v", w.Kind, webhookIDs(list), err)
			}
			id = list[0].ID
			if !hookd.IsIntegrationRowID(id) || string(list[0].Config) != string(w.Config) {
				t.Errorf("%s after migration: id %d, config %s", w.Kind, id, list[0].Config)
			}
		} else if got, err := f.s.GetWebhook(f.ctx, alice, id); err != nil || got.Name != w.Name {
			t.Fatalf("webhook %d after migration = %+v, %v", id, got, err)
		}
		if got := f.snapshot(id); !reflect.DeepEqual(got, before[w.Name]) {
			t.Errorf("%s (now %d) after migration:\n got %+v\nwant %+v", w.Name, id, got, before[w.Name])
		}
	}
	if got := sortedIDs(f.listKind(alice, "slack"), f.listKind(alice, "zapier"), f.listKind(alice, "teams")); !equalIDs(got,
		[]int64{hookd.FirstIntegrationRowID, hookd.FirstIntegrationRowID + 1, hookd.FirstIntegrationRowID + 2}) {
		t.Errorf("integration row ids = %v, want %d up in their old order", got, hookd.FirstIntegrationRowID)
	}
	// The old id of a moved row still finds it; a user's webhook never moved.
	zapID := f.listKind(alice, "zapier")
	if got, err := f.s.MovedWebhookID(f.ctx, old[zap.ID]); err != nil || got != zapID {
		t.Errorf("MovedWebhookID(%d) = %d, %v; want %d", old[zap.ID], got, err, zapID)
	}
	if got, err := f.s.MovedWebhookID(f.ctx, old[a.ID]); !hookd.IsNotFound(err) {
		t.Errorf("MovedWebhookID(%d) of a webhook that kept its id = %d, %v; want not found", old[a.ID], got, err)
	}
	_, ds, err := f.s.GetEvent(f.ctx, alice.Tenant, goneEv.ID)
	if err != nil {
		t.Fatal(err)
	}
	kept := false
	for _, d := range ds {
		kept = kept || (d.WebhookID == 5 && d.State == hookd.StateCancelled)
	}
	if !kept {
		t.Errorf("the deleted webhook's history did not stay under id 5: %+v", ds)
	}

	// Whatever is pending still goes out, to the moved rows.
	later := now.Add(2 * time.Hour)
	sent := map[int64]int{}
	f.deliver(later, 0, func(c hookd.Claim) outcome {
		sent[c.Delivery.WebhookID]++
		return succeeded(5)
	})
	zapID, slackID, teamsID := f.listKind(alice, "zapier"), f.listKind(alice, "slack"), f.listKind(alice, "teams")
	if want := map[int64]int{slackID: 2, zapID: 1, teamsID: 1, old[a.ID]: 1, old[b.ID]: 1}; !reflect.DeepEqual(sent, want) {
		t.Errorf("sent after migration = %v, want %v", sent, want)
	}

	next := f.hook(alice, "next")
	nextRow := f.mustCreate(integration(alice, "make"))
	if next.ID != 6 || nextRow.ID != hookd.FirstIntegrationRowID+3 {
		t.Errorf("next ids = webhook %d, integration %d; want 6 and %d", next.ID, nextRow.ID, hookd.FirstIntegrationRowID+3)
	}
}

// rowSnapshot is what a row's id keys: its logs, counters and stats.
type rowSnapshot struct {
	Logs     []string
	Counters hookd.WebhookStats
	Stats    string
}

// snapshot reads what is stored under a row's id, with the id left out.
func (f *fixture) snapshot(id int64) rowSnapshot {
	f.t.Helper()
	var s rowSnapshot
	ds, _, sum := f.logs(alice, id, hookd.DeliveryQuery{})
	for _, d := range ds {
		s.Logs = append(s.Logs, fmt.Sprintf("%s %s attempts=%d test=%v error=%s next=%v", d.EventID, d.State,
			d.Attempts, d.Test, d.ErrorType, d.NextRetry()))
	}
	s.Logs = append(s.Logs, fmt.Sprintf("summary %+v", sum))
	s.Counters = f.stats(id)
	rep, err := f.s.Stats(f.ctx, alice, id, hookd.StatsQuery{Start: base.Add(-time.Hour), End: base.Add(time.Hour), GroupBy: "hour"})
	if err != nil {
		f.t.Fatalf("Stats(%d): %v", id, err)
	}
	s.Stats = fmt.Sprintf("%+v", *rep)
	return s
}

// listKind returns the id of the owner's one row of kind.
func (f *fixture) listKind(owner hookd.Owner, kind string) int64 {
	f.t.Helper()
	list, _, err := f.s.ListWebhooks(f.ctx, owner, hookd.WebhookQuery{Kind: kind})
	if err != nil || len(list) != 1 {
		f.t.Fatalf("%s rows = %v, %v", kind, webhookIDs(list), err)
	}
	return list[0].ID
}

// sortedIDs returns ids sorted.
func sortedIDs(ids ...int64) []int64 { return sorted(ids) }
