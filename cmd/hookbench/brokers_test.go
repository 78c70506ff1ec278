package main

import (
	"context"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/destination/amqp"
	"github.com/hookd/hookd/internal/destination/broker"
	"github.com/hookd/hookd/internal/destination/broker/brokertest"
	"github.com/hookd/hookd/internal/destination/mqtt"
	"github.com/hookd/hookd/internal/destination/nats"
	"github.com/hookd/hookd/internal/destination/redisstream"
)

// TestBrokerReadersCountEvents: each broker phase's reader sees what
// hookd's publisher of that broker sends, once per event.
func TestBrokerReadersCountEvents(t *testing.T) {
	publishers := map[string]broker.Publisher{
		"rabbitmq": amqp.New(broker.Options{}), "nats": nats.New(broker.Options{}),
		"redis": redisstream.New(broker.Options{}), "mqtt": mqtt.New(broker.Options{}),
	}
	for _, p := range brokerPhases() {
		t.Run(p.name, func(t *testing.T) {
			brokertest.Require(t, p.title, p.addr)
			pub := publishers[p.name]
			defer pub.Close()
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			a := newArrivals(time.Now)
			url, stop, err := p.open(ctx, brokertest.UniqueName(t, "hookbench_test_"), a)
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			for _, id := range []string{"evt_1", "evt_2", "evt_1"} {
				res := pub.Publish(ctx, broker.Message{
					URL: url, EventID: id, Headers: map[string]string{"webhook-id": id},
					Body: []byte(`{"id":"` + id + `","event":"order.created","data":{}}`),
				})
				if !res.Success {
					t.Fatalf("publish %s: %s %s", id, res.ErrorType, res.ErrorMessage)
				}
			}
			if err := a.wait(ctx, 2); err != nil {
				t.Fatal(err)
			}
			if unique, _, _ := a.counts(); unique != 2 {
				t.Errorf("%d distinct events, want 2", unique)
			}
		})
	}
}
