package catalog

import (
	"slices"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want bool
	}{
		{"order.created", true},
		{"inventory.low_stock", true},
		{"order.line_item.added", true},
		{"a1.b2", true},
		{"x." + strings.Repeat("a", 98), true},
		{"x." + strings.Repeat("a", 99), false},
		{"order", false},
		{"a.b.c.d", false},
		{"Order.created", false},
		{"order.Created", false},
		{"order..created", false},
		{".order", false},
		{"order.", false},
		{"1order.created", false},
		{"order._created", false},
		{"order.created-now", false},
		{"order.*", false},
		{"*", false},
		{"", false},
		{"order.créé", false},
	}
	for _, tt := range tests {
		if got := ValidName(tt.name); got != tt.want {
			t.Errorf("ValidName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestValidCategory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want bool
	}{
		{"sales", true},
		{"customer_success", true},
		{"v2", true},
		{strings.Repeat("a", 50), true},
		{strings.Repeat("a", 51), false},
		{"", false},
		{"Sales", false},
		{"sales.eu", false},
		{"2fa", false},
		{"sales team", false},
	}
	for _, tt := range tests {
		if got := ValidCategory(tt.name); got != tt.want {
			t.Errorf("ValidCategory(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestValidPattern(t *testing.T) {
	t.Parallel()
	c := setup(t)
	known := slices.Values(append(slices.Collect(c.Names()), "ticket.support.opened"))
	tests := []struct {
		pattern string
		want    bool
	}{
		{"*", true},
		{"order.created", true},
		{"customer.subscribed", true},
		{"ticket.support.opened", true},
		{"order.*", true},
		{"inventory.*", true},
		{"product.*", true},
		{"ticket.*", true},
		{"ticket.support.*", true},
		{"sales.*", false}, // a category, not a name prefix
		{"refund.*", false},
		{"order.refunded", false},
		{"Order.created", false},
		{"order", false},
		{"order.", false},
		{".*", false},
		{"*.created", false},
		{"order.c*", false},
		{"ticket.support.opened.*", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidPattern(tt.pattern, known); got != tt.want {
			t.Errorf("ValidPattern(%q) = %v, want %v", tt.pattern, got, tt.want)
		}
	}
}
