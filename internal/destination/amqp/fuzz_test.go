package amqp

import (
	"testing"

	"github.com/hookd/hookd/internal/destination/broker/brokertest"
)

// FuzzParseURL: whatever ParseURL accepts names a host and a port of a
// amqp:// URL without credentials (docs/api.md §14).
func FuzzParseURL(f *testing.F) {
	brokertest.FuzzURL(f, "amqp", []string{"amqp://rabbit:5672/%2F?exchange=events&routing_key=orders", "amqp://127.0.0.1/?routing_key=q", "amqp://h:0/", "amqp://u:p@h/"}, func(raw string) (string, error) {
		t, err := ParseURL(raw)
		return t.Addr, err
	})
}
