package main

import (
	"encoding/base64"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/pgtest"
)

// BenchmarkServeEndToEnd runs the whole server in this process (so a CPU
// profile sees all of it): b.N events published in batches of 500 to one
// webhook, timed until the last one reached a local receiver.
func BenchmarkServeEndToEnd(b *testing.B) {
	benchServeEndToEnd(b, startBenchServer(b, 1))
}

// BenchmarkServeEndToEndPostgres is BenchmarkServeEndToEnd on a fresh
// schema of HOOKD_TEST_POSTGRES_URL, one node.
func BenchmarkServeEndToEndPostgres(b *testing.B) {
	benchServeEndToEnd(b, startBenchServerOn(b, 1, map[string]string{
		"HOOKD_DATABASE_URL":   pgtest.Schema(b, "hookd_serve_"),
		"HOOKD_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(make([]byte, 32)),
	}))
}

// benchServeEndToEnd publishes b.N events to the one webhook of s in
// batches of 500 and times them until the last one arrived.
func benchServeEndToEnd(b *testing.B, s *benchServer) {
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	s.publishBatches(b, b.N, 500)
	s.waitDelivered(b, int64(b.N))
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
	// CPU per delivery (this process: hookd, the publisher and the
	// receiver) varies much less than the rate on a shared machine.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/delivery")
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
