package mqtt

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hookd/hookd/internal/destination/broker/brokertest"
)

// BenchmarkPublish measures QoS 1 publishes of 900-byte bodies (acknowledged
// with PUBACK) with brokertest.Publishers goroutines at once.
func BenchmarkPublish(b *testing.B) {
	p, _, topic := setup(b)
	url := "mqtt://" + addr + "/" + topic
	brokertest.BenchmarkPublishers(b, func(i int) error {
		m := message(url, fmt.Sprint("evt_", i))
		m.Body = brokertest.Body900
		if res := p.Publish(context.Background(), m); !res.Success {
			return errors.New(res.ErrorType + ": " + res.ErrorMessage)
		}
		return nil
	})
}
