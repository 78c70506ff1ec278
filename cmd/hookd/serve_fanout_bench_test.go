package main

import (
	"testing"
	"time"
)

// BenchmarkServeFanOut runs the whole server in this process, as
// BenchmarkServeEndToEnd does, in hookbench's fan-out shape: 100 webhooks
// of one tenant, each event published (in batches of 100) to all of
// them; b.N is rounded up to whole events. It is timed until the last
// delivery reached the local receiver.
func BenchmarkServeFanOut(b *testing.B) {
	const webhooks = 100
	events := max(1, (b.N+webhooks-1)/webhooks)
	total := int64(events * webhooks)
	s := startBenchServer(b, webhooks)
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	s.publishBatches(b, events, 100)
	s.waitDelivered(b, total)
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "deliveries/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(total), "cpu-µs/delivery")
}
