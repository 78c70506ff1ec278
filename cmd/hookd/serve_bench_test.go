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
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/auth"
)

// BenchmarkServeEndToEnd runs the whole server in this process (so a CPU
// profile sees all of it): b.N events published in batches of 500 to one
// webhook, timed until the last one reached a local receiver.
func BenchmarkServeEndToEnd(b *testing.B) {
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
	post("/api/webhooks/", `{"name":"b","url":"`+recv.URL+`","events":["order.created"]}`)
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for sent := 0; sent < b.N; sent += 500 {
		var buf bytes.Buffer
		buf.WriteString(`{"events":[`)
		for i := sent; i < min(b.N, sent+500); i++ {
			if i > sent {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"event":"order.created","payload":{"order_id":"ORD-%d","status":"confirmed","amount":150.5,"customer":{"id":1,"name":"John Doe","email":"john@example.com"},"items":[{"product_id":1,"name":"Wireless Headphones","quantity":1,"price":150.5}]}}`, i)
		}
		buf.WriteString(`]}`)
		post("/api/events/batch/", buf.String())
	}
	for got.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
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
