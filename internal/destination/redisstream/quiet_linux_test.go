package redisstream_test

import (
	"context"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/hookd/hookd/internal/destination/broker"
	"github.com/hookd/hookd/internal/destination/redisstream"
)

// TestBrokerDownWritesNothingToStderr checks that a Redis that is not
// there shows as the attempt's error only: go-redis's own log lines would
// bypass hookd's structured log.
func TestBrokerDownWritesNothingToStderr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: every dial is refused

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Dup2(int(w.Fd()), 2); err != nil {
		t.Fatal(err)
	}
	p := redisstream.New(redisstream.Options{})
	var results []redisstream.Result
	for range 3 {
		results = append(results, p.Publish(context.Background(), message("redis://"+addr+"?stream=events", "evt_down")))
	}
	_ = p.Close()
	if err := syscall.Dup2(saved, 2); err != nil {
		t.Fatal(err)
	}
	syscall.Close(saved)
	w.Close()
	written, _ := io.ReadAll(r)
	for _, res := range results {
		if res.Success || res.ErrorType != broker.ErrTypeConnection {
			t.Fatalf("broker down: success=%v %s %q, want connection_error", res.Success, res.ErrorType, res.ErrorMessage)
		}
	}
	if len(written) > 0 {
		t.Fatalf("a publish to a Redis that is down wrote to stderr: %q", written)
	}
}
