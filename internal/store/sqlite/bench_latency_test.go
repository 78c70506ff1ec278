package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/metrics"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/storetest"
)

// BenchmarkPublishLatency publishes one event every 2 ms (500 a second)
// to one webhook, one transaction each as a lone publisher's, while a
// dispatcher-like loop claims and completes the deliveries in batches
// gathered over 2 ms; it reports the publish commit's p50, p99 and
// maximum in ms. b.N is the number of events.
func BenchmarkPublishLatency(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	start := time.Now().UTC()
	owner := hookd.Owner{Tenant: "bench", User: "u"}
	w := benchWebhook(b, s, owner, start)
	payload := json.RawMessage(`{"order_id":"ORD-1","status":"confirmed","amount":150,"customer":{"id":"c1","email":"a@example.com"},"items":[{"sku":"A","qty":1},{"sku":"B","qty":2}]}`)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var walMax int64
	wg.Add(2)
	go func() { // the WAL's largest size: past 64 MiB a checkpoint holds off writers
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if fi, err := os.Stat(s.path + "-wal"); err == nil {
				walMax = max(walMax, fi.Size())
			}
		}
	}()
	go func() { // deliver: claim what is due, complete it all as successes
		defer wg.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			now := time.Now()
			claims, err := s.ClaimDeliveries(ctx, now, 256, time.Minute, nil)
			if err != nil || len(claims) == 0 {
				continue
			}
			_ = s.CompleteAttempts(ctx, storetest.Succeeded(claims, now), hookd.DeliveryRules{AutoDisableAfter: 50})
		}
	}()
	samples := []metrics.Sample{{Name: "/sched/latencies:seconds"}, {Name: "/gc/pauses:seconds"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(samples)
	copyHist := func(h *metrics.Float64Histogram) *metrics.Float64Histogram { // Read reuses its memory
		return &metrics.Float64Histogram{Counts: slices.Clone(h.Counts), Buckets: h.Buckets}
	}
	before := []*metrics.Float64Histogram{copyHist(samples[0].Value.Float64Histogram()), copyHist(samples[1].Value.Float64Histogram())}
	cycles := samples[2].Value.Uint64()
	lat := make([]time.Duration, 0, b.N)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	i := 0
	for b.Loop() {
		<-tick.C
		i++
		t0 := time.Now()
		_, err := s.PublishEvents(ctx, []hookd.PublishRequest{{WebhookIDs: []int64{w.ID}, Event: hookd.Event{
			ID: fmt.Sprintf("evt_%08d", i), Tenant: "bench", Type: "order.created", Payload: payload, CreatedAt: t0.UTC()}}})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	close(stop)
	wg.Wait()
	metrics.Read(samples)
	b.ReportMetric(histQuantile(before[0], samples[0].Value.Float64Histogram(), 0.99)*1000, "sched-p99-ms")
	b.ReportMetric(histQuantile(before[1], samples[1].Value.Float64Histogram(), 1)*1000, "gc-pause-max-ms")
	b.ReportMetric(float64(samples[2].Value.Uint64()-cycles), "gc-cycles")
	b.ReportMetric(float64(walMax)/(1<<20), "wal-max-MiB")
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
}

// histQuantile returns the q quantile of what a runtime/metrics histogram
// gained between two readings (the upper bound of the bucket holding it).
func histQuantile(before, after *metrics.Float64Histogram, q float64) float64 {
	var total uint64
	counts := make([]uint64, len(after.Counts))
	for i := range after.Counts {
		counts[i] = after.Counts[i] - before.Counts[i]
		total += counts[i]
	}
	if total == 0 {
		return 0
	}
	want := uint64(q * float64(total))
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= want && c > 0 {
			return after.Buckets[i+1]
		}
	}
	return after.Buckets[len(after.Buckets)-1]
}
