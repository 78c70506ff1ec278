package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/auth"
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
	var got atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got.Add(1)
	}))
	defer recv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	const secret = "bench-secret-0123456789abcdef"
	env := map[string]string{
		"HOOKD_ADDR": addr, "HOOKD_DATABASE_URL": "sqlite:" + filepath.Join(b.TempDir(), "b.db"),
		"HOOKD_JWT_SECRET": secret, "HOOKD_ALLOW_PRIVATE_TARGETS": "true", "HOOKD_RATE_LIMIT": "0",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	}()
	defer func() { cancel(); <-done }()
	base := "http://" + addr
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("server did not start")
		}
	}
	tok, _ := auth.Issue([]byte(secret), auth.Principal{Tenant: "t", User: "u", Scopes: []string{auth.ScopePublish}}, time.Hour, time.Now())
	post := func(path, body string) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			msg, _ := io.ReadAll(resp.Body)
			b.Fatalf("%s: %d %s", path, resp.StatusCode, msg)
		}
	}
	for i := range webhooks {
		// A path per webhook, as hookbench's receiver has.
		post("/api/webhooks/", fmt.Sprintf(`{"name":"b%d","url":"%s/w/%d","events":["order.created"]}`, i, recv.URL, i))
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	const batch = 100
	for sent := 0; sent < events; sent += batch {
		var buf bytes.Buffer
		buf.WriteString(`{"events":[`)
		for i := sent; i < min(events, sent+batch); i++ {
			if i > sent {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"event":"order.created","payload":{"order_id":"ORD-%d","status":"confirmed","amount":150.5,"customer":{"id":1,"name":"John Doe","email":"john@example.com"},"items":[{"product_id":1,"name":"Wireless Headphones","quantity":1,"price":150.5}]}}`, i)
		}
		buf.WriteString(`]}`)
		post("/api/events/batch/", buf.String())
	}
	for got.Load() < total {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "deliveries/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(total), "cpu-µs/delivery")
}
