package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// singleResult is the end-to-end throughput of single-event publishes,
// the way most backends publish: one POST an event, many publishers at
// once, against hookd's default limits.
type singleResult struct {
	Publishers int `json:"publishers"`
	Events     int `json:"events"`   // publishes sent
	Accepted   int `json:"accepted"` // answered 202
	// Refused counts the answers other than 202, by status, and Failed
	// the publishes that got no answer at all; both must be zero.
	Refused        int            `json:"refused"`
	RefusedBy      map[string]int `json:"refused_by_status,omitempty"`
	Failed         int            `json:"failed"`
	FirstError     string         `json:"first_error,omitempty"`
	PublishSeconds float64        `json:"publish_seconds"` // until the last answer
	PublishRate    float64        `json:"publish_per_second"`
	PublishP50Ms   float64        `json:"publish_answer_p50_ms"`
	PublishP99Ms   float64        `json:"publish_answer_p99_ms"`
	// Seconds runs from the first publish to the last distinct arrival.
	Seconds    float64 `json:"seconds"`
	PerSecond  float64 `json:"per_second"` // deliveries/s
	Duplicates int64   `json:"duplicates"`
	Usage      usage   `json:"usage"`
}

// publishTally counts the answers of many single publishes.
type publishTally struct {
	mu        sync.Mutex
	accepted  int
	refusedBy map[int]int // status → answers
	failed    int         // no answer
	firstErr  string
	answers   []time.Duration // of the accepted
}

// add records one publish's outcome.
func (t *publishTally) add(status int, took time.Duration, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case err == nil:
		t.accepted++
		t.answers = append(t.answers, took)
		return
	case status == 0:
		t.failed++
	default:
		if t.refusedBy == nil {
			t.refusedBy = map[int]int{}
		}
		t.refusedBy[status]++
	}
	if t.firstErr == "" {
		t.firstErr = err.Error()
	}
}

// refused is how many publishes were answered with another status than
// 202, and those counts keyed by status for the report.
func (t *publishTally) refused() (int, map[string]int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.refusedBy) == 0 {
		return 0, nil
	}
	n, by := 0, map[string]int{}
	for status, c := range t.refusedBy {
		n += c
		by[strconv.Itoa(status)] = c
	}
	return n, by
}

// describeRefused renders refusals by status, e.g. "429 x12, 503 x1".
func describeRefused(by map[string]int) string {
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s x%d", k, by[k])
	}
	return s
}

// measureSingle publishes events one POST each from singlePublishers
// goroutines as fast as hookd answers, with hookd's default limits, and
// measures from the first publish to the last distinct arrival.
func (b *bench) measureSingle(ctx context.Context) (singleResult, error) {
	res := singleResult{Publishers: singlePublishers, Events: b.opts.SingleEvents}
	s, err := b.openSessionWith(ctx, "single", func(c *hookdConfig) { c.DefaultLimits = true })
	if err != nil {
		return res, err
	}
	defer s.close()
	if err := s.addWebhook(ctx, "/single"); err != nil {
		return res, err
	}
	bodies := make([][]byte, res.Events)
	for i := range bodies {
		bodies[i] = eventBody(i)
	}
	var (
		next  atomic.Int64
		tally publishTally
		wg    sync.WaitGroup
	)
	s.mark()
	start := b.now()
	for range singlePublishers {
		wg.Go(func() {
			for ctx.Err() == nil {
				seq := int(next.Add(1)) - 1
				if seq >= len(bodies) {
					return
				}
				t0 := b.now()
				_, status, err := s.api(seq).publishAnswer(ctx, bodies[seq])
				tally.add(status, b.now().Sub(t0), err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return res, err
	}
	published := b.now().Sub(start)
	res.Accepted, res.Failed, res.FirstError = tally.accepted, tally.failed, tally.firstErr
	res.Refused, res.RefusedBy = tally.refused()
	res.PublishSeconds = published.Seconds()
	res.PublishRate = float64(res.Accepted) / published.Seconds()
	res.PublishP50Ms, res.PublishP99Ms = ms(percentile(tally.answers, 50)), ms(percentile(tally.answers, 99))
	fmt.Fprintf(b.progress, "  single: %d of %d publishes accepted in %.2fs, waiting for their deliveries\n", res.Accepted, res.Events, res.PublishSeconds)
	if res.Accepted == 0 {
		return res, fmt.Errorf("no publish accepted: %s", res.FirstError)
	}
	if err := s.rc.waitUnique(ctx, res.Accepted); err != nil {
		return res, errors.Join(err, s.checkAlive())
	}
	res.Usage = s.usage()
	last, _ := s.rc.nthArrival(res.Accepted)
	res.Seconds = last.Sub(start).Seconds()
	res.PerSecond = float64(res.Accepted) / res.Seconds
	res.Duplicates = s.rc.duplicates()
	return res, s.checkAlive()
}
