package hookd

import "testing"

func TestMatchesPattern(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, event string
		want           bool
	}{
		{"*", "order.created", true},
		{"*", "customer.subscribed", true},
		{"order.created", "order.created", true},
		{"order.created", "order.updated", false},
		{"order.*", "order.created", true},
		{"order.*", "order.cancelled", true},
		{"order.*", "payment.received", false},
		{"order.*", "orders.created", false},
		{"order.*", "order", false},
		{"order.*", "order.", false},
		{"inventory.*", "inventory.low_stock", true},
		{"inventory.*", "product.created", false}, // the prefix is the name's first segment, not the catalog category
		{"sales.*", "order.created", false},
		{"order.line.*", "order.line.added", true},
		{"order.line.*", "order.created", false},
		{"order.*", "order.line.added", true},
		{".*", "order.created", false},
		{"order*", "order.created", false},
		{"order.c*", "order.created", false},
		{"", "order.created", false},
		{"**", "order.created", false},
	}
	for _, tt := range tests {
		if got := MatchesPattern(tt.pattern, tt.event); got != tt.want {
			t.Errorf("MatchesPattern(%q, %q) = %v, want %v", tt.pattern, tt.event, got, tt.want)
		}
	}
	if !SubscribesTo([]string{"payment.received", "order.*"}, "order.shipped") {
		t.Error("SubscribesTo missed order.*")
	}
	if SubscribesTo([]string{"payment.received", "order.*"}, "customer.created") || SubscribesTo(nil, "order.created") {
		t.Error("SubscribesTo matched an uncovered event")
	}
}

func TestCategoryPrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, prefix string
		ok              bool
	}{
		{"order.*", "order.", true},
		{"order.line.*", "order.line.", true},
		{"a.*", "a.", true},
		{".*", "", false},
		{"*", "", false},
		{"order.created", "", false},
		{"order*", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if prefix, ok := CategoryPrefix(tt.pattern); prefix != tt.prefix || ok != tt.ok {
			t.Errorf("CategoryPrefix(%q) = %q, %v, want %q, %v", tt.pattern, prefix, ok, tt.prefix, tt.ok)
		}
	}
}
