package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// streamResult is what the event-stream phase measured: SSE subscribers
// reading live while single events are published at a steady rate.
type streamResult struct {
	Subscribers   int     `json:"subscribers"`
	TargetRate    float64 `json:"target_rate"`
	AchievedRate  float64 `json:"achieved_rate"` // publishes answered 202 a second
	Published     int     `json:"published"`
	PublishErrors int64   `json:"publish_errors"`
	MaxSendLagMs  float64 `json:"max_send_lag_ms"`
	// Expected is Published × Subscribers; Received counts the distinct
	// published events that reached a subscriber, summed over subscribers.
	Expected   int64 `json:"expected"`
	Received   int64 `json:"received"`
	Missing    int64 `json:"missing"`
	Duplicates int64 `json:"duplicates"`
	// Dropped counts subscribers whose stream ended before the phase did;
	// DropReasons holds the first few reasons (the server's last comment
	// or the read error).
	Dropped     int      `json:"dropped"`
	DropReasons []string `json:"drop_reasons,omitempty"`
	// Seconds runs from the first publish to the last arrival.
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"` // Received / Seconds
	P50Ms     float64 `json:"p50_ms"`     // publish start → read from the stream
	P99Ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	Usage     usage   `json:"usage"`
}

// Fixed shapes of the stream phase.
const (
	streamDrainWait  = 15 * time.Second // after the last publish, at most
	streamWarmupWait = 30 * time.Second
	streamWarmupID   = "warm-up"
	streamSendPrefix = "t-" // order_id of a measured event: "t-<unix nanos>"
	maxDropReasons   = 5
)

// sseEvent is one dispatched Server-Sent Event.
type sseEvent struct {
	ID   string
	Type string
	Data []byte
}

// readSSE reads a Server-Sent Events body line by line and calls onEvent
// for each event (at its terminating blank line) and onComment for each
// comment line (": text", without the colon and one space). Data lines
// are joined with "\n". It returns nil at the end of the body.
func readSSE(r io.Reader, onEvent func(sseEvent), onComment func(string)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	var (
		ev      sseEvent
		hasData bool
		seen    bool
	)
	for sc.Scan() {
		line := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		if len(line) == 0 {
			if seen {
				onEvent(ev)
			}
			ev, hasData, seen = sseEvent{}, false, false
			continue
		}
		if line[0] == ':' {
			onComment(string(bytes.TrimPrefix(line[1:], []byte(" "))))
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "id":
			ev.ID, seen = string(value), true
		case "event":
			ev.Type, seen = string(value), true
		case "data":
			if hasData {
				ev.Data = append(ev.Data, '\n')
			}
			ev.Data, hasData, seen = append(ev.Data, value...), true, true
		}
	}
	return sc.Err()
}

// orderID returns the top-level "order_id" string of a JSON object
// without decoding it all (the stream phase reads 100,000 events a
// second); ok is false when there is none.
func orderID(data []byte) (id []byte, ok bool) {
	key := []byte(`"order_id"`)
	i := bytes.Index(data, key)
	if i < 0 {
		return nil, false
	}
	rest := bytes.TrimLeft(data[i+len(key):], " \t")
	if len(rest) == 0 || rest[0] != ':' {
		return nil, false
	}
	rest = bytes.TrimLeft(rest[1:], " \t")
	if len(rest) == 0 || rest[0] != '"' {
		return nil, false
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 {
		return nil, false
	}
	return rest[1 : 1+end], true
}

// sentAt reads the send time a measured event carries in its order_id
// ("t-<unix nanos>").
func sentAt(data []byte) (time.Time, bool) {
	id, ok := orderID(data)
	if !ok || !bytes.HasPrefix(id, []byte(streamSendPrefix)) {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(string(id[len(streamSendPrefix):]), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// streamEventBody renders an order.created event of the same size as
// eventBody whose order_id is orderID.
func streamEventBody(seq int, orderID string) []byte {
	p := orderPayload(seq)
	rest := p[bytes.Index(p, []byte(`","status"`)):]
	b := append([]byte(`{"event":"order.created","payload":{"order_id":"`), orderID...)
	b = append(b, rest...)
	return append(b, '}')
}

// streamSubscriber is one SSE reader of the stream phase.
type streamSubscriber struct {
	now       func() time.Time
	connected chan struct{} // closed when the 200 arrived
	warm      atomic.Bool   // the warm-up event arrived
	measured  atomic.Int64  // measured events read

	mu      sync.Mutex
	ids     []string        // measured events' ids in arrival order
	lat     []time.Duration // their send → read latency
	last    time.Time       // the last measured event's arrival
	comment string          // the last comment the server sent
	err     error           // why the stream ended (nil: the phase ended it)
}

// run opens the stream and reads it until ctx ends or the server ends it.
func (sub *streamSubscriber) run(ctx context.Context, client *http.Client, url, token string) {
	connected := false
	defer func() {
		if !connected {
			close(sub.connected)
		}
	}()
	fail := func(err error) {
		sub.mu.Lock()
		defer sub.mu.Unlock()
		if ctx.Err() == nil {
			sub.err = err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fail(err)
		return
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		fail(err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		fail(fmt.Errorf("stream: status %d: %s", resp.StatusCode, raw))
		return
	}
	connected = true
	close(sub.connected)
	err = readSSE(resp.Body, sub.onEvent, func(c string) {
		sub.mu.Lock()
		sub.comment = c
		sub.mu.Unlock()
	})
	if err == nil {
		err = io.EOF
	}
	sub.mu.Lock()
	if sub.comment != "" && sub.comment != "ping" {
		err = fmt.Errorf("%w (last comment %q)", err, sub.comment)
	}
	sub.mu.Unlock()
	fail(err)
}

// onEvent records one event read from the stream.
func (sub *streamSubscriber) onEvent(ev sseEvent) {
	at := sub.now()
	if sent, ok := sentAt(ev.Data); ok {
		sub.mu.Lock()
		sub.ids = append(sub.ids, ev.ID)
		sub.lat = append(sub.lat, at.Sub(sent))
		sub.last = at
		sub.mu.Unlock()
		sub.measured.Add(1)
		return
	}
	if id, ok := orderID(ev.Data); ok && string(id) == streamWarmupID {
		sub.warm.Store(true)
	}
}

// ended reports why the stream ended early (nil while it runs).
func (sub *streamSubscriber) ended() error {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.err
}

// measureStreams opens SSE subscribers, waits until each reads a warm-up
// event, publishes single events at a steady rate and measures what every
// subscriber read.
func (b *bench) measureStreams(ctx context.Context) (streamResult, error) {
	res := streamResult{Subscribers: b.opts.StreamSubscribers, TargetRate: b.opts.StreamRate}
	s, err := b.openSession(ctx, "streams")
	if err != nil {
		return res, err
	}
	defer s.close()
	subs, stop, err := b.subscribe(ctx, s)
	defer stop()
	if err != nil {
		return res, err
	}
	fmt.Fprintf(b.progress, "  %d subscribers read the warm-up event\n", len(subs))

	total := int(b.opts.StreamRate * b.opts.StreamFor.Seconds())
	s.mark()
	start := b.now()
	jobs := make(chan int, total)
	go pace(ctx, b.now, start, b.opts.StreamRate, total, jobs)
	var (
		mu        sync.Mutex
		published = make(map[string]bool, total)
		lag       time.Duration
		wg        sync.WaitGroup
	)
	for range latencyWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := range jobs {
				t0 := b.now()
				due := start.Add(time.Duration(float64(seq) / b.opts.StreamRate * float64(time.Second)))
				id, err := s.api(seq).publish(ctx, streamEventBody(seq, streamSendPrefix+strconv.FormatInt(t0.UnixNano(), 10)))
				mu.Lock()
				lag = max(lag, t0.Sub(due))
				if err != nil {
					res.PublishErrors++
				} else {
					published[id] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return res, err
	}
	res.Published = len(published)
	res.AchievedRate = float64(res.Published) / b.now().Sub(start).Seconds()
	res.MaxSendLagMs = ms(lag)
	fmt.Fprintf(b.progress, "  %d events published in %.2fs, waiting for %d subscribers to read them\n", res.Published, b.now().Sub(start).Seconds(), len(subs))
	waitStreams(ctx, b.now, subs, int64(res.Published))
	res.Usage = s.usage()
	stop()
	fillStreamResult(&res, subs, published, start)
	return res, s.checkAlive()
}

// subscribe opens the phase's subscribers and returns once every one has
// read a warm-up event; stop ends them all and waits for their readers.
func (b *bench) subscribe(ctx context.Context, s *session) ([]*streamSubscriber, func(), error) {
	sctx, cancel := context.WithCancel(ctx)
	client := &http.Client{Transport: &http.Transport{
		Proxy: nil, MaxIdleConnsPerHost: b.opts.StreamSubscribers,
		ResponseHeaderTimeout: 10 * time.Second, DisableCompression: true,
	}}
	var wg sync.WaitGroup
	stop := sync.OnceFunc(func() {
		cancel()
		wg.Wait()
		client.CloseIdleConnections()
	})
	const query = "/api/events/stream/?format=sse&events=order.created"
	subs := make([]*streamSubscriber, b.opts.StreamSubscribers)
	for i := range subs {
		subs[i] = &streamSubscriber{now: b.now, connected: make(chan struct{})}
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := i % len(s.nodes) // the subscribers spread over the nodes
			subs[i].run(sctx, client, s.nodes[node].URL+query, s.apis[node].token)
		}()
	}
	for i, sub := range subs {
		select {
		case <-ctx.Done():
			return subs, stop, context.Cause(ctx)
		case <-sub.connected:
		}
		if err := sub.ended(); err != nil {
			return subs, stop, fmt.Errorf("subscriber %d: %w", i, err)
		}
	}
	// The 200 comes after the subscription is open; the warm-up event
	// checks the whole path before the clock starts.
	deadline := b.now().Add(streamWarmupWait)
	for attempt := 0; ; attempt++ {
		if attempt%100 == 0 { // again every second, should one be lost
			if _, err := s.api(attempt/100).publish(ctx, streamEventBody(0, streamWarmupID)); err != nil {
				return subs, stop, fmt.Errorf("warm-up publish: %w", err)
			}
		}
		warm := 0
		for i, sub := range subs {
			if err := sub.ended(); err != nil {
				return subs, stop, fmt.Errorf("subscriber %d during warm-up: %w", i, err)
			}
			if sub.warm.Load() {
				warm++
			}
		}
		if warm == len(subs) {
			return subs, stop, nil
		}
		if b.now().After(deadline) {
			return subs, stop, fmt.Errorf("only %d of %d subscribers read the warm-up event within %v", warm, len(subs), streamWarmupWait)
		}
		select {
		case <-ctx.Done():
			return subs, stop, context.Cause(ctx)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitStreams waits until every subscriber has read want measured events
// or ended, for at most streamDrainWait.
func waitStreams(ctx context.Context, now func() time.Time, subs []*streamSubscriber, want int64) {
	deadline := now().Add(streamDrainWait)
	for now().Before(deadline) {
		done := true
		for _, sub := range subs {
			if sub.measured.Load() < want && sub.ended() == nil {
				done = false
				break
			}
		}
		if done {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// fillStreamResult counts what each stopped subscriber read against what
// was published and computes the rate and latencies.
func fillStreamResult(res *streamResult, subs []*streamSubscriber, published map[string]bool, start time.Time) {
	var (
		lat  []time.Duration
		last time.Time
	)
	for _, sub := range subs {
		seen := make(map[string]bool, len(published))
		for i, id := range sub.ids {
			switch {
			case seen[id]:
				res.Duplicates++
			case published[id]:
				seen[id] = true
				lat = append(lat, sub.lat[i])
			}
		}
		res.Received += int64(len(seen))
		if sub.last.After(last) {
			last = sub.last
		}
		if err := sub.err; err != nil && !errors.Is(err, context.Canceled) {
			res.Dropped++
			if len(res.DropReasons) < maxDropReasons {
				res.DropReasons = append(res.DropReasons, err.Error())
			}
		}
	}
	res.Expected = int64(len(published)) * int64(len(subs))
	res.Missing = res.Expected - res.Received
	if d := last.Sub(start); d > 0 {
		res.Seconds = d.Seconds()
		res.PerSecond = float64(res.Received) / d.Seconds()
	}
	res.P50Ms, res.P99Ms, res.MaxMs = ms(percentile(lat, 50)), ms(percentile(lat, 99)), ms(percentile(lat, 100))
}
