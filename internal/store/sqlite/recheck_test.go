package sqlite

import (
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

// TestRowVersions: rows are answered from memory only when every one was
// read since the last change with the fingerprint the caller knows; a
// read begun before a change is not kept; the rows kept are bounded.
func TestRowVersions(t *testing.T) {
	var v rowVersions
	ids := []int64{1, 2}
	read := map[int64]hookd.WebhookVersion{1: {Version: 7}} // 2 is gone
	if _, _, ok := v.answer(ids, nil); ok {
		t.Fatal("answered before any read")
	}

	_, gen, _ := v.answer(ids, nil)
	v.changed() // a write commits while the read runs
	v.remember(gen, ids, read)
	if _, _, ok := v.answer(ids, map[int64]uint64{1: 7}); ok {
		t.Fatal("answered from a read begun before a change")
	}

	_, gen, _ = v.answer(ids, nil)
	v.remember(gen, ids, read)
	out, _, ok := v.answer(ids, map[int64]uint64{1: 7})
	if !ok || len(out) != 1 || out[1].Version != 7 || out[1].Webhook != nil {
		t.Fatalf("answer = %+v, %v; want row 1 at version 7 alone", out, ok)
	}
	if _, _, ok := v.answer(ids, map[int64]uint64{1: 8}); ok {
		t.Error("answered a caller who knows another version")
	}
	if _, _, ok := v.answer([]int64{1, 3}, map[int64]uint64{1: 7}); ok {
		t.Error("answered for a row never read")
	}
	v.changed()
	if _, _, ok := v.answer(ids, map[int64]uint64{1: 7}); ok {
		t.Error("answered after a change")
	}

	v.limit = 3
	_, gen, _ = v.answer(ids, nil)
	v.remember(gen, ids, read)
	v.remember(gen, []int64{3, 4}, map[int64]hookd.WebhookVersion{3: {Version: 9}, 4: {Version: 10}})
	if len(v.rows)+len(v.gone) > v.limit {
		t.Fatalf("%d rows kept, limit %d", len(v.rows)+len(v.gone), v.limit)
	}
	if _, _, ok := v.answer([]int64{3, 4}, map[int64]uint64{3: 9, 4: 10}); !ok {
		t.Error("the rows read last are not kept")
	}
}
