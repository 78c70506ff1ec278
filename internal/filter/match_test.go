package filter

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// withField returns orderPayload with one top-level field replaced (or
// removed when value is "").
func withField(t *testing.T, key, value string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(orderPayload), &m); err != nil {
		t.Fatal(err)
	}
	if value == "" {
		delete(m, key)
	} else {
		m[key] = json.RawMessage(value)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMatch(t *testing.T) {
	t.Parallel()
	const (
		oc = "order.created"
		ls = "inventory.low_stock"
		tk = "ticket.opened"
	)
	type tc struct {
		name    string
		filter  string
		event   string
		payload string
		want    bool
	}
	var p = func(key, value string) string { return withField(t, key, value) }
	tests := []tc{
		// The document's example.
		{"document example matches", documentFilter, oc, orderPayload, true},
		{"document example: status not listed", documentFilter, oc, p("status", `"draft"`), false},
		{"document example: amount below", documentFilter, oc, p("amount", `99.99`), false},
		{"min is inclusive", documentFilter, oc, p("amount", `100`), true},
		{"min is inclusive with a fraction", documentFilter, oc, p("amount", `100.000`), true},
		{"document example: status shipped", documentFilter, oc, p("status", `"shipped"`), true},
		{"max is inclusive", `{"max_amount": 150}`, oc, p("amount", `150.0`), true},
		{"max exceeded", `{"max_amount": 150}`, oc, p("amount", `150.01`), false},
		{"min with prefix", `{"min_order_amount": 100}`, oc, orderPayload, true},
		{"max with prefix", `{"max_order_amount": 100}`, oc, orderPayload, false},
		{"resource prefix, scalar", `{"order_status": "confirmed"}`, oc, orderPayload, true},
		{"resource prefix, other value", `{"order_status": "shipped"}`, oc, orderPayload, false},
		{"resource prefix on inventory", `{"inventory_current_stock": {"$lt": 5}}`, ls, `{"current_stock": 3}`, true},

		// Equality across number spellings and types.
		{"150 equals 150.00", `{"amount": 150}`, oc, orderPayload, true},
		{"150 equals 1.5e2", `{"amount": 1.5e2}`, oc, orderPayload, true},
		{"string is not a number", `{"amount": "150"}`, oc, orderPayload, false},
		{"boolean is not a string", `{"status": true}`, oc, orderPayload, false},
		{"nested integer", `{"customer.id": 1.0}`, oc, orderPayload, true},
		{"nested string", `{"customer.name": "John Doe"}`, oc, orderPayload, true},
		{"null equals null", `{"note": null}`, oc, orderPayload, true},
		{"null is not a string", `{"note": "x"}`, oc, orderPayload, false},
		{"object deep equality", `{"customer": {"email": "john@example.com", "name": "John Doe", "id": 1.00}}`, oc, orderPayload, true},
		{"object deep inequality", `{"customer": {"id": 1}}`, oc, orderPayload, false},
		{"array deep equality", `{"tags": {"$eq": ["vip", "new"]}}`, oc, orderPayload, true},
		{"array order matters", `{"tags": {"$eq": ["new", "vip"]}}`, oc, orderPayload, false},

		// Each operator.
		{"$eq", `{"status": {"$eq": "confirmed"}}`, oc, orderPayload, true},
		{"$eq other", `{"status": {"$eq": "draft"}}`, oc, orderPayload, false},
		{"$ne", `{"status": {"$ne": "draft"}}`, oc, orderPayload, true},
		{"$ne same", `{"status": {"$ne": "confirmed"}}`, oc, orderPayload, false},
		{"$ne other type", `{"amount": {"$ne": "150"}}`, oc, orderPayload, true},
		{"$in", `{"amount": {"$in": [1, 150.0]}}`, oc, orderPayload, true},
		{"$in none", `{"amount": {"$in": [1, 2]}}`, oc, orderPayload, false},
		{"list is $in", `{"customer.id": [3, 2, 1]}`, oc, orderPayload, true},
		{"$nin", `{"status": {"$nin": ["draft", "cancelled"]}}`, oc, orderPayload, true},
		{"$nin listed", `{"status": {"$nin": ["confirmed"]}}`, oc, orderPayload, false},
		{"$gt", `{"amount": {"$gt": 149.99}}`, oc, orderPayload, true},
		{"$gt equal", `{"amount": {"$gt": 150}}`, oc, orderPayload, false},
		{"$gte", `{"amount": {"$gte": 150}}`, oc, orderPayload, true},
		{"$lt", `{"amount": {"$lt": 150.001}}`, oc, orderPayload, true},
		{"$lt equal", `{"amount": {"$lt": 150}}`, oc, orderPayload, false},
		{"$lte", `{"amount": {"$lte": 150}}`, oc, orderPayload, true},
		{"$lte below", `{"amount": {"$lte": -150}}`, oc, orderPayload, false},
		{"range", `{"amount": {"$gte": 100, "$lt": 200}}`, oc, orderPayload, true},
		{"range excludes", `{"amount": {"$gte": 100, "$lt": 150}}`, oc, orderPayload, false},
		{"string $gte (dates)", `{"created_at": {"$gte": "2024-01-01T00:00:00Z"}}`, oc, orderPayload, true},
		{"string $lt (dates)", `{"created_at": {"$lt": "2024-01-15"}}`, oc, orderPayload, false},
		{"number operator on a string value", `{"order_id": {"$gt": 5}}`, oc, orderPayload, false},
		{"string operator on a number value", `{"amount": {"$gt": "1"}}`, oc, orderPayload, false},
		{"$exists true", `{"customer.email": {"$exists": true}}`, oc, orderPayload, true},
		{"$exists true on null", `{"note": {"$exists": true}}`, oc, orderPayload, true},
		{"$exists true, absent", `{"customer.email": {"$exists": true}}`, oc, p("customer", `{"id": 1}`), false},
		{"$exists false, absent", `{"customer.email": {"$exists": false}}`, oc, p("customer", `{"id": 1}`), true},
		{"$exists false, present", `{"customer.email": {"$exists": false}}`, oc, orderPayload, false},
		{"$exists false, parent absent", `{"customer.email": {"$exists": false}}`, oc, p("customer", ""), true},
		{"$exists false, parent null", `{"customer.email": {"$exists": false}}`, oc, p("customer", "null"), true},

		// Missing fields and keys that do not apply.
		{"missing field does not match", `{"customer.email": "john@example.com"}`, oc, p("customer", `{"id": 1}`), false},
		{"missing field fails $ne", `{"currency": {"$ne": "EUR"}}`, oc, p("currency", ""), false},
		{"missing field fails $nin", `{"currency": {"$nin": ["EUR"]}}`, oc, p("currency", ""), false},
		{"missing bound field", `{"min_amount": 1}`, oc, p("amount", ""), false},
		{"payload not an object", `{"status": "confirmed"}`, oc, `["confirmed"]`, false},
		{"key for another event type ignored", `{"max_current_stock": 5, "min_amount": 100}`, oc, orderPayload, true},
		{"key for another event type ignored, rest fails", `{"max_current_stock": 5, "min_amount": 200}`, oc, orderPayload, false},
		{"keys for order ignored on inventory", `{"max_current_stock": 5, "min_amount": 100}`, ls, `{"current_stock": 3}`, true},
		{"inventory bound exceeded", `{"max_current_stock": 5, "min_amount": 100}`, ls, `{"current_stock": 7}`, false},
		{"nothing applies", `{"min_amount": 100}`, ls, `{"current_stock": 7}`, true},
		{"literal field wins over the bound", `{"min_score": "high"}`, tk, `{"min_score": "high", "score": 1}`, true},
		{"literal field wins even for numbers", `{"min_score": 5}`, tk, `{"min_score": "high", "score": 10}`, false},

		// $or / $and.
		{"$or neither", `{"$or": [{"status": "shipped"}, {"min_amount": 1000}]}`, oc, orderPayload, false},
		{"$or first", `{"$or": [{"status": "confirmed"}, {"min_amount": 1000}]}`, oc, orderPayload, true},
		{"$or second", `{"$or": [{"status": "shipped"}, {"max_amount": 1000}]}`, oc, orderPayload, true},
		{"$or branch for another type is dropped", `{"$or": [{"max_current_stock": 5}, {"min_amount": 1000}]}`, oc, orderPayload, false},
		{"$or branch for another type, other holds", `{"$or": [{"max_current_stock": 5}, {"min_amount": 100}]}`, oc, orderPayload, true},
		{"$or of branches for another type", `{"$or": [{"max_current_stock": 5}], "status": "confirmed"}`, oc, orderPayload, true},
		{"$and", `{"$and": [{"status": "confirmed"}, {"customer.id": 1}]}`, oc, orderPayload, true},
		{"$and fails", `{"$and": [{"status": "confirmed"}, {"customer.id": 2}]}`, oc, orderPayload, false},
		{"$and in $or in $and", `{"$and": [{"$or": [{"status": "shipped"}, {"$and": [{"currency": "USD"}, {"min_amount": 100}]}]}], "customer.id": {"$in": [1, 2]}}`,
			oc, orderPayload, true},
		{"$or with sibling keys", `{"$or": [{"status": "shipped"}, {"status": "confirmed"}], "currency": "EUR"}`, oc, orderPayload, false},

		// Paths through arrays.
		{"array element any", `{"items.price": {"$gte": 90}}`, oc, orderPayload, true},
		{"array element none", `{"items.price": {"$gt": 100}}`, oc, orderPayload, false},
		{"array element equality", `{"items.product_id": 11}`, oc, orderPayload, true},
		{"array element list", `{"items.name": ["Gizmo", "Widget"]}`, oc, orderPayload, true},
		{"array element $ne holds for all", `{"items.product_id": {"$ne": 12}}`, oc, orderPayload, true},
		{"array element $ne fails for one", `{"items.product_id": {"$ne": 10}}`, oc, orderPayload, false},
		{"array element $nin", `{"items.product_id": {"$nin": [10]}}`, oc, orderPayload, false},
		{"array element $exists", `{"items.price": {"$exists": true}}`, oc, orderPayload, true},
		{"array element $exists false", `{"items.price": {"$exists": false}}`, oc, orderPayload, false},
		{"empty array is missing", `{"items.price": {"$gte": 0}}`, oc, p("items", `[]`), false},
		{"empty array, $exists false", `{"items.price": {"$exists": false}}`, oc, p("items", `[]`), true},
		{"elements without the field", `{"items.price": 1}`, oc, p("items", `[{"name": "x"}, 5, null]`), false},
		{"nested arrays", `{"items.price": 7}`, oc, p("items", `[[{"price": 1}], [[{"price": 7}]]]`), true},

		// Big numbers stay exact.
		{"big integers differ", `{"big": 12345678901234567890123}`, tk, `{"big": 12345678901234567890124}`, false},
		{"big integers equal", `{"big": 12345678901234567890123}`, tk, `{"big": 12345678901234567890123.0}`, true},
		{"big integer below", `{"big": {"$lt": 12345678901234567890124}}`, tk, `{"big": 12345678901234567890123}`, true},
		{"beyond float64", `{"min_big": 1e400}`, tk, `{"big": 2e400}`, true},
		{"tiny differences", `{"score": {"$gt": 0.1}}`, tk, `{"score": 0.10000000000000000001}`, true},
		{"negative numbers", `{"score": {"$gt": -2, "$lt": -1}}`, tk, `{"score": -1.5}`, true},
		{"zero spellings", `{"score": 0}`, tk, `{"score": -0.0e10}`, true},
		{"boolean field", `{"flag": false}`, tk, `{"flag": false}`, true},
	}
	cat := testCatalog()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := mustCompile(t, tt.filter)
			fields := cat[tt.event]
			payload := mustDecode(t, tt.payload)
			if got := f.Match(tt.event, fields, payload); got != tt.want {
				t.Errorf("Match(%s, %s) = %v, want %v", tt.filter, tt.payload, got, tt.want)
			}
			// The cached resolution answers the same on a second call, and
			// so does a fresh Matcher and the JSON entry point.
			if got := f.Match(tt.event, fields, payload); got != tt.want {
				t.Errorf("second Match = %v, want %v", got, tt.want)
			}
			if got := f.ForEvent(tt.event, fields).Match(payload); got != tt.want {
				t.Errorf("ForEvent().Match = %v, want %v", got, tt.want)
			}
			got, err := f.MatchJSON(tt.event, fields, json.RawMessage(tt.payload))
			if err != nil || got != tt.want {
				t.Errorf("MatchJSON = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestMatchFloatPayload(t *testing.T) {
	t.Parallel()
	// Payloads decoded without UseNumber (float64) still compare correctly.
	var payload any
	if err := json.Unmarshal([]byte(orderPayload), &payload); err != nil {
		t.Fatal(err)
	}
	fields := testCatalog()["order.created"]
	for filter, want := range map[string]bool{
		documentFilter:                      true,
		`{"amount": 150}`:                   true,
		`{"max_amount": 149.5}`:             false,
		`{"customer.id": {"$in": [1]}}`:     true,
		`{"items.quantity": {"$gte": 2.0}}`: true,
	} {
		if got := mustCompile(t, filter).Match("order.created", fields, payload); got != want {
			t.Errorf("Match(%s) on float64 payload = %v, want %v", filter, got, want)
		}
	}
}

func TestMatchJSONError(t *testing.T) {
	t.Parallel()
	f := mustCompile(t, documentFilter)
	fields := testCatalog()["order.created"]
	if _, err := f.MatchJSON("order.created", fields, json.RawMessage(`{"amount":`)); err == nil {
		t.Error("MatchJSON on malformed JSON: want an error")
	}
	// An empty filter does not need to read the payload at all.
	ok, err := mustCompile(t, `{}`).MatchJSON("order.created", fields, json.RawMessage(`{"amount":`))
	if err != nil || !ok {
		t.Errorf("empty filter MatchJSON = %v, %v; want true, nil", ok, err)
	}
}

func TestMatchFollowsSchemaChanges(t *testing.T) {
	t.Parallel()
	f := mustCompile(t, `{"priority": "high"}`)
	payload := mustDecode(t, `{"priority": "low"}`)
	before := FieldsFromSchema([]byte(`{"properties": {"title": {"type": "string"}}}`))
	after := FieldsFromSchema([]byte(`{"properties": {"title": {"type": "string"}, "priority": {"type": "string"}}}`))
	if !f.Match("ticket.opened", before, payload) {
		t.Error("key not in the schema must not apply")
	}
	if f.Match("ticket.opened", after, payload) {
		t.Error("after the schema gained the field, the cached resolution must be replaced")
	}
	if !f.Match("ticket.opened", before, payload) {
		t.Error("switching back to the old fields must resolve again")
	}
	if !f.Match("ticket.opened", nil, payload) {
		t.Error("nil fields define nothing, so nothing applies")
	}
}

func TestMatchConcurrent(t *testing.T) {
	t.Parallel()
	cat := testCatalog()
	f := mustCompile(t, `{"min_amount": 100, "max_current_stock": 5}`)
	order := mustDecode(t, orderPayload)
	cheap := mustDecode(t, withField(t, "amount", "5"))
	stock := mustDecode(t, `{"current_stock": 9}`)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 16 {
		wg.Go(func() {
			for j := range 500 {
				switch (i + j) % 3 {
				case 0:
					if !f.Match("order.created", cat["order.created"], order) {
						errs <- "order of 150 did not match"
					}
				case 1:
					if f.Match("order.cancelled", cat["order.cancelled"], cheap) {
						errs <- "order of 5 matched"
					}
				default:
					if f.Match("inventory.low_stock", cat["inventory.low_stock"], stock) {
						errs <- "stock of 9 matched"
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	var msgs []string
	for m := range errs {
		msgs = append(msgs, m)
	}
	if len(msgs) > 0 {
		t.Fatalf("%d wrong answers, first: %s", len(msgs), strings.Join(msgs[:1], ""))
	}
}

func BenchmarkMatch(b *testing.B) {
	f := mustCompile(b, documentFilter)
	fields := FieldsFromSchema(json.RawMessage(orderCreatedSchema))
	payload := mustDecode(b, orderPayload)
	if !f.Match("order.created", fields, payload) {
		b.Fatal("document filter should match the payload")
	}
	b.ReportAllocs()
	for b.Loop() {
		f.Match("order.created", fields, payload)
	}
}

func BenchmarkMatchOperators(b *testing.B) {
	f := mustCompile(b, `{"$or": [{"status": "shipped"}, {"amount": {"$gte": 100, "$lt": 1000}}],
		"customer.email": {"$exists": true}, "items.price": {"$gt": 50}, "currency": {"$nin": ["EUR", "GBP"]}}`)
	fields := FieldsFromSchema(json.RawMessage(orderCreatedSchema))
	payload := mustDecode(b, orderPayload)
	if !f.Match("order.created", fields, payload) {
		b.Fatal("filter should match the payload")
	}
	b.ReportAllocs()
	for b.Loop() {
		f.Match("order.created", fields, payload)
	}
}

func BenchmarkMatchParallel(b *testing.B) {
	f := mustCompile(b, documentFilter)
	fields := FieldsFromSchema(json.RawMessage(orderCreatedSchema))
	payload := mustDecode(b, orderPayload)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			f.Match("order.created", fields, payload)
		}
	})
}

func BenchmarkMatchJSON(b *testing.B) {
	f := mustCompile(b, documentFilter)
	fields := FieldsFromSchema(json.RawMessage(orderCreatedSchema))
	raw := json.RawMessage(orderPayload)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.MatchJSON("order.created", fields, raw); err != nil {
			b.Fatal(err)
		}
	}
}
