package nats

import (
	"testing"

	"github.com/hookd/hookd/internal/destination/broker/brokertest"
)

// FuzzParseURL: whatever ParseURL accepts names a host and a port of a
// nats:// URL without credentials (docs/api.md §14).
func FuzzParseURL(f *testing.F) {
	brokertest.FuzzURL(f, "nats", []string{"nats://nats:4222/orders.created", "nats://h/a.*.b", "nats://[::1]:4222/x"}, func(raw string) (string, error) {
		t, err := ParseURL(raw)
		return t.Addr, err
	})
}
