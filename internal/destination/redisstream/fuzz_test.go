package redisstream

import (
	"testing"

	"github.com/hookd/hookd/internal/destination/broker/brokertest"
)

// FuzzParseURL: whatever ParseURL accepts names a host and a port of a
// redis:// URL without credentials (docs/api.md §14).
func FuzzParseURL(f *testing.F) {
	brokertest.FuzzURL(f, "redis", []string{"redis://cache:6379/0?stream=events", "redis://h/16?stream=x", "redis://h:99999/0?stream=s"}, func(raw string) (string, error) {
		t, err := ParseURL(raw)
		return t.Addr, err
	})
}
