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
	keys    []string             // the delivery key of each of arrived
}

// deliveryKey names one delivery: hookd sends the same webhook-id (the
// event id) to every webhook, so the path tells fan-out copies apart.
func deliveryKey(path, webhookID string) string { return path + " " + webhookID }

// startReceiver listens on a free loopback port and serves until close.
func startReceiver(now func() time.Time, delay time.Duration) (*receiver, error) {
	return startReceiverAt(now, delay, "127.0.0.1:0")
}

// startReceiverAt listens on addr, e.g. a port webhooks already point
// at while nothing listened there.
func startReceiverAt(now func() time.Time, delay time.Duration, addr string) (*receiver, error) {
	ln, err := net.Listen("tcp", addr)
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
			rc.keys = append(rc.keys, key)
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

// nthExcept walks arrivals in order, skipping the keys in excluded, with
// count of the others already seen before them: it returns the new count
// and, if the nth of the others (from 1) is among these, when it came.
func nthExcept(arrived []time.Time, keys []string, excluded map[string]bool, n, count int) (int, time.Time, bool) {
	for i, at := range arrived {
		if excluded[keys[i]] {
			continue
		}
		if count++; count == n {
			return count, at, true
		}
	}
	return count, time.Time{}, false
}

// waitExcept waits until n distinct deliveries not in excluded have
// arrived, or ctx ends, and returns when the nth came. It reads each
// arrival once, so a wait for a million costs the receiver little.
func (rc *receiver) waitExcept(ctx context.Context, excluded map[string]bool, n int) (time.Time, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	pos, count := 0, 0
	for {
		rc.mu.Lock()
		arrived, keys := rc.arrived[pos:], rc.keys[pos:]
		rc.mu.Unlock()
		// The slices' elements never change once appended, so they are
		// read outside the lock.
		var (
			at time.Time
			ok bool
		)
		count, at, ok = nthExcept(arrived, keys, excluded, n, count)
		if ok {
			return at, nil
		}
		pos += len(arrived)
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("%d of %d deliveries arrived: %w", count, n, context.Cause(ctx))
		case <-tick.C:
		}
	}
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
