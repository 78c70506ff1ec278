package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/auth"
)

// benchServer is hookd serving in this process on a SQLite file, with
// webhooks for order.created pointing at a local receiver (a path each,
// as hookbench's receiver has) that counts what arrives.
type benchServer struct {
	base  string
	token string
	got   atomic.Int64 // deliveries received
}

func startBenchServer(b *testing.B, webhooks int) *benchServer {
	b.Helper()
	return startBenchServerOn(b, webhooks, map[string]string{
		"HOOKD_DATABASE_URL": "sqlite:" + filepath.Join(b.TempDir(), "b.db")})
}

// startBenchServerOn is startBenchServer on the database that db (the
// HOOKD_DATABASE_URL and what it needs) names.
func startBenchServerOn(b *testing.B, webhooks int, db map[string]string) *benchServer {
	b.Helper()
	s := &benchServer{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		s.got.Add(1)
	}))
	b.Cleanup(recv.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	const secret = "bench-secret-0123456789abcdef"
	env := map[string]string{
		"HOOKD_ADDR": addr, "HOOKD_JWT_SECRET": secret, "HOOKD_ALLOW_PRIVATE_TARGETS": "true", "HOOKD_RATE_LIMIT": "0",
	}
	maps.Copy(env, db)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	}()
	b.Cleanup(func() { cancel(); <-done })
	s.base = "http://" + addr
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if resp, err := http.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("server did not start")
		}
	}
	s.token, _ = auth.Issue([]byte(secret), auth.Principal{Tenant: "t", User: "u", Scopes: []string{auth.ScopePublish}}, time.Hour, time.Now())
	for i := range webhooks {
		hook := fmt.Sprintf(`{"name":"b%d","url":"%s/w/%d","events":["order.created"]}`, i, recv.URL, i)
		if code, err := s.post(http.DefaultClient, "/api/webhooks/", []byte(hook)); err != nil || code != http.StatusCreated {
			b.Fatalf("create webhook: %d %v", code, err)
		}
	}
	return s
}

// post sends body and returns the status; the answer is read to the end
// so that the connection is kept.
func (s *benchServer) post(c *http.Client, path string, body []byte) (int, error) {
	req, _ := http.NewRequest("POST", s.base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// publishBatches publishes events order.created events in batches of
// size, each answered 202.
func (s *benchServer) publishBatches(b *testing.B, events, size int) {
	for sent := 0; sent < events; sent += size {
		var buf bytes.Buffer
		buf.WriteString(`{"events":[`)
		for i := sent; i < min(events, sent+size); i++ {
			if i > sent {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"event":"order.created","payload":{"order_id":"ORD-%d","status":"confirmed","amount":150.5,"customer":{"id":1,"name":"John Doe","email":"john@example.com"},"items":[{"product_id":1,"name":"Wireless Headphones","quantity":1,"price":150.5}]}}`, i)
		}
		buf.WriteString(`]}`)
		if code, err := s.post(http.DefaultClient, "/api/events/batch/", buf.Bytes()); err != nil || code != http.StatusAccepted {
			b.Fatalf("publish a batch: %d %v", code, err)
		}
	}
}

// waitDelivered waits until n deliveries have arrived.
func (s *benchServer) waitDelivered(b *testing.B, n int64) {
	for deadline := time.Now().Add(time.Minute); s.got.Load() < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d deliveries arrived", s.got.Load(), n)
		}
	}
}

// singleEvent renders the body of one POST /api/events/, ~900 bytes.
func singleEvent(seq int) []byte {
	b := make([]byte, 0, 1024)
	b = append(b, `{"event":"order.created","payload":{"order_id":"ORD-`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `","status":"confirmed","amount":150.50,"customer":{"id":`...)
	b = strconv.AppendInt(b, int64(seq%10000), 10)
	b = append(b, `,"name":"Benchmark Customer","email":"customer@example.com"},"items":[`...)
	for i := range 6 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"product_id":`...)
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, `,"name":"Wireless Headphones Deluxe Edition","quantity":1,"price":25.25}`...)
	}
	return append(b, `]}}`...)
}

// BenchmarkServePublishSingle publishes b.N events one a request from 32
// concurrent publishers to one webhook, timed until the last delivery
// arrived, and reports the time to each 202.
func BenchmarkServePublishSingle(b *testing.B) {
	const publishers = 32
	s := startBenchServer(b, 1)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: publishers}}
	defer client.CloseIdleConnections()
	var (
		next    atomic.Int64
		refused atomic.Int64
		mu      sync.Mutex
		answers = make([]time.Duration, 0, b.N)
		wg      sync.WaitGroup
	)
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = singleEvent(i)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, b.N/publishers+1)
			for i := int(next.Add(1)) - 1; i < b.N; i = int(next.Add(1)) - 1 {
				t0 := time.Now()
				code, err := s.post(client, "/api/events/", bodies[i])
				if err != nil || code != http.StatusAccepted {
					refused.Add(1)
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			answers = append(answers, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if n := refused.Load(); n > 0 {
		b.Fatalf("%d publishes refused", n)
	}
	s.waitDelivered(b, int64(b.N))
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/event")
	slices.Sort(answers)
	b.ReportMetric(float64(answers[len(answers)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(answers[len(answers)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkServePublishLone publishes b.N events one after the other from
// one publisher, each waiting for the one before: the time to a 202 when
// nothing else is going on.
func BenchmarkServePublishLone(b *testing.B) {
	s := startBenchServer(b, 1)
	client := &http.Client{}
	defer client.CloseIdleConnections()
	answers := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		body := singleEvent(i)
		t0 := time.Now()
		if code, err := s.post(client, "/api/events/", body); err != nil || code != http.StatusAccepted {
			b.Fatalf("publish: %d %v", code, err)
		}
		answers = append(answers, time.Since(t0))
	}
	s.waitDelivered(b, int64(b.N))
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/event")
	slices.Sort(answers)
	b.ReportMetric(float64(answers[len(answers)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(answers[len(answers)*99/100].Microseconds())/1000, "p99-ms")
}
