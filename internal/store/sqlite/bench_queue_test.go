package sqlite

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/storetest"
)

// BenchmarkDueQueueMillion opens a database holding 1,000,000 pending
// deliveries (a backlog: the endpoint was down) and reports the time to
// rebuild the due queue at Open, the memory it holds per delivery, and
// the time of a claim of 256 from it.
func BenchmarkDueQueueMillion(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "bench.db")
	box := newTestCipher(b)
	s, err := Open(ctx, path, Options{Cipher: box})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	owner := hookd.Owner{Tenant: "bench", User: "u"}
	w := benchWebhook(b, s, owner, start)
	res, err := s.PublishEvents(ctx, []hookd.PublishRequest{{Event: hookd.Event{ID: "evt_bench", Tenant: "bench",
		Type: "order.created", Payload: json.RawMessage(`{"order_id":"1"}`), CreatedAt: start}}})
	if err != nil {
		b.Fatal(err)
	}
	const n = 1_000_000
	if _, err := s.writer.Exec(`INSERT INTO deliveries (tenant, webhook_id, event_seq, event_type, state,
		next_attempt_at, created_at, updated_at)
		WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
		SELECT 'bench', ?2, ?3, 'order.created', 'pending', ?4 + i, ?4 + i, ?4 + i FROM n`,
		n, w.ID, res[0].Event.Seq, ms(start)); err != nil {
		b.Fatal(err)
	}
	s.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	s, err = Open(ctx, path, Options{Cipher: box})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rebuild := time.Since(t0)
	runtime.GC()
	runtime.ReadMemStats(&after)
	now := start.Add(2 * time.Hour)
	for b.Loop() {
		claims, err := s.ClaimDeliveries(ctx, now, 256, time.Minute, nil)
		if err != nil || len(claims) != 256 {
			b.Fatalf("claimed %d, %v", len(claims), err)
		}
	}
	b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/n, "heap-bytes/pending")
	b.ReportMetric(rebuild.Seconds()*1000, "open-ms")
	if rss := residentMiB(); rss > 0 {
		b.ReportMetric(rss, "rss-MiB")
	}
}

// residentMiB is this process's resident set (VmRSS) in MiB, or 0 where
// /proc does not tell.
func residentMiB() float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkDrainBacklog claims and completes 20,000 deliveries in
// batches of 64, from a queue of only those (empty) and from the front
// of a backlog of 1,000,000 pending deliveries (million), on a store
// opened on the file (the due queue rebuilt). Draining a backlog should
// cost what draining an empty queue does: it reports CPU per delivery
// and the process's resident memory at the end.
func BenchmarkDrainBacklog(b *testing.B) {
	for _, backlog := range []struct {
		name string
		n    int
	}{{"empty", 20_000}, {"million", 1_000_000}} {
		b.Run(backlog.name, func(b *testing.B) {
			ctx := context.Background()
			path := filepath.Join(b.TempDir(), "bench.db")
			box := newTestCipher(b)
			s, err := Open(ctx, path, Options{Cipher: box})
			if err != nil {
				b.Fatal(err)
			}
			start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			w := benchWebhook(b, s, hookd.Owner{Tenant: "bench", User: "u"}, start)
			res, err := s.PublishEvents(ctx, []hookd.PublishRequest{{Event: hookd.Event{ID: "evt_bench", Tenant: "bench",
				Type: "order.created", Payload: json.RawMessage(`{"order_id":"1"}`), CreatedAt: start}}})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.writer.Exec(`INSERT INTO deliveries (tenant, webhook_id, event_seq, event_type, state,
				next_attempt_at, created_at, updated_at)
				WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
				SELECT 'bench', ?2, ?3, 'order.created', 'pending', ?4 + i, ?4 + i, ?4 + i FROM n`,
				backlog.n, w.ID, res[0].Event.Seq, ms(start)); err != nil {
				b.Fatal(err)
			}
			if _, err := s.writer.Exec(`UPDATE webhook_counters SET pending_count = ? WHERE webhook_id = ?`,
				backlog.n, w.ID); err != nil {
				b.Fatal(err)
			}
			s.Close()
			if s, err = Open(ctx, path, Options{Cipher: box}); err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			const n, batch = 20_000, 64
			now := start.Add(time.Duration(backlog.n) * time.Millisecond)
			cpu0 := processCPU()
			b.ResetTimer()
			for done := 0; done < n; {
				claims, err := s.ClaimDeliveries(ctx, now, batch, time.Minute, nil)
				if err != nil || len(claims) == 0 {
					b.Fatalf("claimed %d after %d: %v", len(claims), done, err)
				}
				results := storetest.Succeeded(claims, now)
				if err := s.CompleteAttempts(ctx, results, hookd.DeliveryRules{}); err != nil {
					b.Fatal(err)
				}
				done += len(claims)
			}
			b.StopTimer()
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/n, "cpu-µs/delivery")
			if rss := residentMiB(); rss > 0 {
				b.ReportMetric(rss, "rss-MiB")
			}
		})
	}
}

// processCPU is the CPU time (user and system) this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
