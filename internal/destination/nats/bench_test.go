package nats_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hookd/hookd/internal/destination/broker/brokertest"
)

// BenchmarkPublish measures acknowledged JetStream publishes of 900-byte
// bodies to a memory stream, with brokertest.Publishers goroutines at once.
func BenchmarkPublish(b *testing.B) {
	p, _, _, subject := setup(b)
	url := "nats://" + addr + "/" + subject
	brokertest.BenchmarkPublishers(b, func(i int) error {
		m := message(url, fmt.Sprint("evt_", b.N, "_", i))
		m.Body = brokertest.Body900
		if res := p.Publish(context.Background(), m); !res.Success {
			return errors.New(res.ErrorType + ": " + res.ErrorMessage)
		}
		return nil
	})
}
