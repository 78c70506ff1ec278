package mqtt

import (
	"testing"

	"github.com/hookd/hookd/internal/destination/broker/brokertest"
)

// FuzzParseURL: whatever ParseURL accepts names a host and a port of a
// mqtt:// URL without credentials (docs/api.md §14).
func FuzzParseURL(f *testing.F) {
	brokertest.FuzzURL(f, "mqtt", []string{"mqtt://broker:1883/hookd/orders", "mqtt://h/a/+/b", "mqtt://h/$SYS/x"}, func(raw string) (string, error) {
		t, err := ParseURL(raw)
		return t.Addr, err
	})
}
