package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// receiver is a plain net/http endpoint on loopback that answers 200 "OK"
// to every POST, counts what arrives and remembers when each delivery
// (path + webhook-id) first arrived.
type receiver struct {
	URL   string
	srv   *http.Server
	now   func() time.Time
	delay time.Duration // how long each answer takes, like an endpoint's own work

	requests atomic.Int64 // every request, duplicates included
	bytes    atomic.Int64 // body bytes read

	mu      sync.Mutex
	first   map[string]time.Time // delivery key → first arrival
	arrived []time.Time          // first arrivals in order
}

// deliveryKey names one delivery: hookd sends the same webhook-id (the
// event id) to every webhook, so the path tells fan-out copies apart.
func deliveryKey(path, webhookID string) string { return path + " " + webhookID }

// startReceiver listens on a free loopback port and serves until close.
func startReceiver(now func() time.Time, delay time.Duration) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rc := &receiver{URL: "http://" + ln.Addr().String(), now: now, delay: delay, first: map[string]time.Time{}}
	rc.srv = &http.Server{Handler: rc, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go func() { _ = rc.srv.Serve(ln) }()
	return rc, nil
}

// ServeHTTP reads the body, records the arrival and answers "OK".
func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n, _ := io.Copy(io.Discard, r.Body)
	at := rc.now()
	rc.requests.Add(1)
	rc.bytes.Add(n)
	if id := r.Header.Get("webhook-id"); id != "" {
		key := deliveryKey(r.URL.Path, id)
		rc.mu.Lock()
		if _, seen := rc.first[key]; !seen {
			rc.first[key] = at
			rc.arrived = append(rc.arrived, at)
		}
		rc.mu.Unlock()
	}
	if rc.delay > 0 {
		time.Sleep(rc.delay)
	}
	_, _ = io.WriteString(w, "OK")
}

// unique is how many distinct deliveries have arrived.
func (rc *receiver) unique() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.arrived)
}

// nthArrival returns when the nth distinct delivery (from 1) arrived.
func (rc *receiver) nthArrival(n int) (time.Time, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if n < 1 || n > len(rc.arrived) {
		return time.Time{}, false
	}
	return rc.arrived[n-1], true
}

// firstArrival returns when a delivery first arrived.
func (rc *receiver) firstArrival(path, webhookID string) (time.Time, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	at, ok := rc.first[deliveryKey(path, webhookID)]
	return at, ok
}

// duplicates counts requests that repeated a delivery already seen (or
// carried no webhook-id).
func (rc *receiver) duplicates() int64 { return rc.requests.Load() - int64(rc.unique()) }

// waitUnique waits until n distinct deliveries have arrived or ctx ends.
func (rc *receiver) waitUnique(ctx context.Context, n int) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if got := rc.unique(); got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d deliveries arrived: %w", rc.unique(), n, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// close stops the server at once.
func (rc *receiver) close() error {
	if err := rc.srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
