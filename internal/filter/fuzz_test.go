package filter

import (
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

// fuzzFilters seeds both fuzz targets with every shape of the language.
func fuzzFilters() []string {
	return []string{
		documentFilter,
		`{}`,
		`null`,
		`{"amount": {"$gte": 100, "$lt": 1e3}, "customer.email": {"$exists": true}}`,
		`{"$or": [{"status": "shipped"}, {"$and": [{"min_amount": 10}, {"items.price": {"$nin": [1, "x", null]}}]}]}`,
		`{"max_current_stock": 5, "inventory_product_id": [1, 2, 3]}`,
		`{"customer": {"id": 1}, "tags": {"$eq": ["vip"]}, "note": null}`,
		`{"created_at": {"$gt": "2024"}, "status": {"$ne": "draft"}}`,
		`{"min_score": "high", "big": 123456789012345678901234567890}`,
		`{"$or": [{"$or": [{"$or": [{"$or": [{"$or": [{"a": 1}]}]}]}]}]}`,
		`{"a..b": 1, "$x": 2, "c": {"$in": 3}, "d": []}`,
		`[1, 2]`,
		`{"a": 1e999999999999999999999}`,
	}
}

func FuzzCompileValidate(f *testing.F) {
	for _, s := range fuzzFilters() {
		f.Add([]byte(s))
	}
	cat := testCatalog()
	names := make([]string, 0, len(cat))
	for n := range cat {
		names = append(names, n)
	}
	sort.Strings(names)
	payload := mustDecode(f, orderPayload)
	f.Fuzz(func(t *testing.T, raw []byte) {
		flt, err := Compile(raw)
		if err != nil {
			var herr *hookd.Error
			if !errors.As(err, &herr) || herr.Code != hookd.EValidation || len(herr.Details) == 0 {
				t.Fatalf("Compile error %v is not a validation_error with details", err)
			}
			for _, d := range herr.Details {
				if !strings.HasPrefix(d.Field, "filters") || d.Message == "" {
					t.Fatalf("bad detail %+v", d)
				}
			}
			return
		}
		for i := range names {
			for _, d := range flt.Validate(subset(t, cat, names[:i+1]...)) {
				if !strings.HasPrefix(d.Field, "filters.") || d.Message == "" {
					t.Fatalf("bad detail %+v", d)
				}
			}
		}
		for _, n := range names {
			flt.Match(n, cat[n], payload)
		}
	})
}

func FuzzMatch(f *testing.F) {
	payloads := []string{
		orderPayload,
		`{"current_stock": 3, "product_id": 7}`,
		`{"min_score": "high", "score": 1e2, "status": 3, "big": -0.0}`,
		`{"items": [[{"price": 1}], 5, null, {"price": "x"}]}`,
		`[]`,
		`null`,
	}
	for i, s := range fuzzFilters() {
		f.Add([]byte(s), []byte(payloads[i%len(payloads)]))
	}
	cat := testCatalog()
	f.Fuzz(func(t *testing.T, rawFilter, rawPayload []byte) {
		flt, err := Compile(rawFilter)
		if err != nil {
			return
		}
		payload, err := decodePayload(rawPayload)
		if err != nil {
			return
		}
		for name, fields := range cat {
			first := flt.Match(name, fields, payload)
			if again := flt.Match(name, fields, payload); again != first {
				t.Fatalf("%s: Match gave %v then %v", name, first, again)
			}
			if fresh := flt.ForEvent(name, fields).Match(payload); fresh != first {
				t.Fatalf("%s: cached Match %v, fresh Matcher %v", name, first, fresh)
			}
			if viaJSON, err := flt.MatchJSON(name, fields, json.RawMessage(rawPayload)); err == nil && viaJSON != first {
				t.Fatalf("%s: Match %v, MatchJSON %v", name, first, viaJSON)
			}
			if flt.IsEmpty() && !first {
				t.Fatalf("%s: empty filter did not match", name)
			}
		}
	})
}
