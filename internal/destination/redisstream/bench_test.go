package redisstream_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hookd/hookd/internal/destination/broker/brokertest"
)

// BenchmarkPublish measures XADDs of 900-byte bodies with
// brokertest.Publishers goroutines at once.
func BenchmarkPublish(b *testing.B) {
	p, _, _, stream := setup(b)
	url := "redis://" + addr + "?stream=" + stream
	brokertest.BenchmarkPublishers(b, func(i int) error {
		m := message(url, fmt.Sprint("evt_", i))
		m.Body = brokertest.Body900
		if res := p.Publish(context.Background(), m); !res.Success {
			return errors.New(res.ErrorType + ": " + res.ErrorMessage)
		}
		return nil
	})
}
