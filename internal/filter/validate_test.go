package filter

import (
	"testing"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	orders := []string{"order.created", "order.updated", "order.cancelled"}
	tests := []struct {
		name   string
		filter string
		events []string
		want   []fieldWant
	}{
		{"document example", documentFilter, orders, nil},
		{"document update example", `{"order_status": ["confirmed", "shipped", "delivered"], "min_amount": 50}`, orders, nil},
		{"document example on order.updated only", `{"order_status": ["confirmed"]}`, []string{"order.updated"}, nil},
		{"min_amount with only inventory subscribed", `{"min_amount": 100}`, []string{"inventory.low_stock"},
			[]fieldWant{{"filters.min_amount", `unknown field "min_amount": no subscribed event type defines it (subscribed: inventory.low_stock)`}}},
		{"key for one of several events", `{"max_current_stock": 5, "min_amount": 100}`,
			[]string{"order.created", "inventory.low_stock"}, nil},
		{"resource prefix on inventory", `{"inventory_current_stock": {"$lt": 5}}`, []string{"inventory.low_stock"}, nil},
		{"resource prefix of another resource", `{"inventory_current_stock": 1}`, []string{"order.created"},
			[]fieldWant{{"filters.inventory_current_stock", "unknown field"}}},
		{"prefix and bound", `{"min_order_amount": 10}`, []string{"order.created"}, nil},
		{"nested and array element paths", `{"customer.id": 7, "items.price": {"$gte": 10}, "items.name": "Widget"}`,
			[]string{"order.created"}, nil},
		{"unknown element path", `{"items.sku": "X"}`, []string{"order.created"},
			[]fieldWant{{"filters.items.sku", "unknown field"}}},
		{"bound with a string", `{"min_amount": "abc"}`, []string{"order.created"},
			[]fieldWant{{"filters.min_amount", `min_amount is a bound on "amount" and needs a number, not a string`}}},
		{"bound with a list", `{"max_amount": [1]}`, []string{"order.created"},
			[]fieldWant{{"filters.max_amount", "needs a number, not an array"}}},
		{"bound on a string field", `{"min_status": 5}`, []string{"order.created"},
			[]fieldWant{{"filters.min_status", `min_status is a numeric bound but "status" is string on order.created`}}},
		{"string for a number field", `{"amount": "abc"}`, []string{"order.created"},
			[]fieldWant{{"filters.amount", `value "abc" is a string but "amount" is number on order.created`}}},
		{"string for an integer field", `{"customer.id": "7"}`, []string{"order.created"},
			[]fieldWant{{"filters.customer.id", `is a string but "customer.id" is integer`}}},
		{"fraction for an integer field", `{"customer.id": 7.5}`, []string{"order.created"}, nil},
		{"list with a wrong element", `{"order_status": ["confirmed", 3]}`, []string{"order.created"},
			[]fieldWant{{"filters.order_status", `list value 1 (3) is a number but "status" is string`}}},
		{"$nin with a wrong element", `{"status": {"$nin": [true]}}`, []string{"order.created"},
			[]fieldWant{{"filters.status", "list value 0 (true) is a boolean"}}},
		{"$ne with a wrong type", `{"status": {"$ne": 1}}`, []string{"order.updated"},
			[]fieldWant{{"filters.status", "value 1 is a number"}}},
		{"number comparison on a string field", `{"status": {"$gt": 5}}`, []string{"order.created"},
			[]fieldWant{{"filters.status", `$gt compares with a number but "status" is string on order.created`}}},
		{"string comparison on a number field", `{"amount": {"$gte": "100"}}`, []string{"order.created"},
			[]fieldWant{{"filters.amount", "$gte compares with a string"}}},
		{"string comparison on a date", `{"created_at": {"$gte": "2024-01-01", "$lt": "2025"}}`, []string{"order.created"}, nil},
		{"$exists on any field", `{"customer.email": {"$exists": false}}`, []string{"order.created"}, nil},
		{"null for a nullable field", `{"note": null}`, []string{"order.created"}, nil},
		{"null for a non-nullable field", `{"status": null}`, []string{"order.created"},
			[]fieldWant{{"filters.status", "value null is null"}}},
		{"literal object", `{"customer": {"id": 1}}`, []string{"order.created"}, nil},
		{"object for a string field", `{"status": {"$eq": {"a": 1}}}`, []string{"order.created"},
			[]fieldWant{{"filters.status", "is an object"}}},
		{"list of strings for an array field", `{"tags": ["vip"]}`, []string{"order.created"},
			[]fieldWant{{"filters.tags", `list value 0 ("vip") is a string but "tags" is array`}}},
		{"whole array for an array field", `{"tags": {"$eq": ["vip", "new"]}}`, []string{"order.created"}, nil},
		{"untyped field takes anything", `{"extra": 5, "ticket_extra": {"$in": ["a", null, true]}}`, []string{"ticket.opened"}, nil},
		{"object field", `{"changes": {"$ne": {"status": "x"}}}`, []string{"order.updated"}, nil},
		{"fits one of the types it applies to", `{"status": 5}`, []string{"order.created", "ticket.opened"}, nil},
		{"fits none of the types it applies to", `{"status": true}`, []string{"order.created", "ticket.opened"},
			[]fieldWant{{"filters.status", "on order.created"}}},
		{"literal field wins over the bound", `{"min_score": "high"}`, []string{"ticket.opened"}, nil},
		{"inside $or", `{"$or": [{"amount": 1}, {"nope": 1}]}`, orders,
			[]fieldWant{{"filters.$or.1.nope", "unknown field"}}},
		{"inside nested $and", `{"$and": [{"$or": [{"customer.email": {"$exists": false}}, {"min_amount": "x"}]}]}`,
			[]string{"order.created"},
			[]fieldWant{{"filters.$and.0.$or.1.min_amount", "needs a number"}}},
		{"every bad key reported", `{"nope": 1, "amount": "x", "$or": [{"gone": 2}]}`, []string{"order.created"},
			[]fieldWant{{"filters.nope", "unknown field"}, {"filters.amount", "is a string"}, {"filters.$or.0.gone", "unknown field"}}},
		{"no event types", `{"order_id": "X"}`, nil,
			[]fieldWant{{"filters.order_id", "no event types subscribed"}}},
		{"long subscription list", `{"nope": 1}`,
			[]string{"order.created", "order.updated", "order.cancelled", "inventory.low_stock", "ticket.opened", "empty.type", "unknown.type"},
			[]fieldWant{{"filters.nope", "and 2 more"}}},
	}
	cat := testCatalog()
	cat["empty.type"] = FieldsFromSchema([]byte(`{"type": "object"}`))
	cat["unknown.type"] = nil
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := mustCompile(t, tt.filter)
			got := f.Validate(subset(t, cat, tt.events...))
			assertDetails(t, got, tt.want)
		})
	}
}
