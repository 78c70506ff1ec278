package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// rateResult is a throughput measured over a window.
type rateResult struct {
	Count       int64   `json:"count"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"per_second"`
	Errors      int64   `json:"errors"`
	Concurrency int     `json:"concurrency"`
	FirstError  string  `json:"first_error,omitempty"`
}

// ceilingResult is the raw HTTP ceiling and the CPU it took.
type ceilingResult struct {
	rateResult
	Usage usage `json:"usage"`
	// Runs holds every measure's requests/s; the figures above are the
	// best one's.
	Runs []float64 `json:"runs,omitempty"`
}

// hammer runs workers goroutines that call send back to back until the
// window has passed; a call in flight at the end is finished and
// counted, and the window is measured until the last one returns. send
// returns how many units (requests, events) it completed.
func hammer(ctx context.Context, now func() time.Time, workers int, window time.Duration, send func(ctx context.Context, seq int) (int, error)) (rateResult, error) {
	var (
		seq, count, errs atomic.Int64
		firstErr         atomic.Value
		wg               sync.WaitGroup
	)
	start := now()
	end := start.Add(window)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && now().Before(end) {
				n, err := send(ctx, int(seq.Add(1)))
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				count.Add(int64(n))
			}
		}()
	}
	wg.Wait()
	elapsed := now().Sub(start)
	r := rateResult{Count: count.Load(), Seconds: elapsed.Seconds(), Errors: errs.Load(), Concurrency: workers}
	r.PerSecond = float64(r.Count) / elapsed.Seconds()
	if e, ok := firstErr.Load().(string); ok {
		r.FirstError = e
	}
	if err := context.Cause(ctx); err != nil {
		return r, err
	}
	if r.Count == 0 {
		return r, fmt.Errorf("nothing succeeded: %s", r.FirstError)
	}
	return r, nil
}

// measureCeiling posts ~1 KB JSON bodies from a plain keep-alive client
// with 32 goroutines to a receiver of the kind hookd delivers to: the
// most requests a second this machine's loopback HTTP does with both ends
// on its cores.
func measureCeiling(ctx context.Context, now func() time.Time, window time.Duration) (ceilingResult, error) {
	rc, err := startReceiver(now, 0) // the ceiling: an endpoint with no work of its own
	if err != nil {
		return ceilingResult{}, err
	}
	defer rc.close()
	client := newLoadClient()
	defer client.CloseIdleConnections()
	body := append([]byte(`{"id":"evt_ceiling","event":"order.created","version":"1.0","timestamp":"2024-01-15T10:30:00.000Z","data":`), orderPayload(1)...)
	body = append(body, '}')
	cpu := startWindow(now, nil, 0)
	r, err := hammer(ctx, now, 32, window, func(ctx context.Context, seq int) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, rc.URL+"/raw", bytesReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("webhook-id", "raw_"+strconv.Itoa(seq))
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, err = drain(resp)
		if err != nil {
			return 0, err
		}
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("receiver answered %d", resp.StatusCode)
		}
		return 1, nil
	})
	return ceilingResult{rateResult: r, Usage: cpu.usage()}, err
}

// eventBatch is one rendered body for POST /api/events/batch/.
type eventBatch struct {
	body []byte
	n    int
}

// renderBatches renders total events in batches of size, before the clock
// starts, so the generator spends its CPU on sending.
func renderBatches(total, size int) []eventBatch {
	out := make([]eventBatch, 0, (total+size-1)/size)
	for seq := 0; seq < total; seq += size {
		n := min(size, total-seq)
		out = append(out, eventBatch{body: batchBody(seq, n), n: n})
	}
	return out
}

// sendBatches publishes the batches from concurrency goroutines as fast
// as hookd takes them, the ith batch to apis[i % len(apis)] (the nodes in
// turn); the first failure stops the rest.
func sendBatches(ctx context.Context, apis []*apiClient, batches []eventBatch, concurrency int) error {
	queue := make(chan int, len(batches))
	for i := range batches {
		queue <- i
	}
	close(queue)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for i := range queue {
				if ctx.Err() != nil {
					return
				}
				b := batches[i]
				if err := apis[i%len(apis)].publishBatch(ctx, b.body, b.n); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// bytesReader returns a fresh reader over a shared body.
func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// drain reads an answer to its end and closes it, so the connection is
// reused.
func drain(resp *http.Response) (int64, error) {
	defer resp.Body.Close()
	return io.Copy(io.Discard, resp.Body)
}
