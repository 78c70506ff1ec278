package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// publishResult is what the publish-rate phase measured.
type publishResult struct {
	Single rateResult `json:"single"`
	Batch  rateResult `json:"batch"`
	Usage  usage      `json:"usage"`
}

// deliveryResult is an end-to-end throughput: from the first publish to
// the last distinct delivery's arrival at the receiver.
type deliveryResult struct {
	Webhooks       int     `json:"webhooks"`
	Events         int     `json:"events"`
	Deliveries     int     `json:"deliveries"`
	PublishSeconds float64 `json:"publish_seconds"` // until every batch was answered 202
	// DeliveredWhilePublishing counts deliveries that arrived before the
	// last batch was answered.
	DeliveredWhilePublishing int `json:"delivered_while_publishing"`
	// DrainPerSecond is the delivery rate after publishing ended.
	DrainPerSecond float64 `json:"drain_per_second"`
	Seconds        float64 `json:"seconds"`
	PerSecond      float64 `json:"per_second"`
	Duplicates     int64   `json:"duplicates"`
	AvgBodyBytes   int64   `json:"avg_body_bytes"`
	Usage          usage   `json:"usage"`
}

// latencyResult is publish→arrival latency at a steady publish rate.
type latencyResult struct {
	TargetRate   float64 `json:"target_rate"`
	Publishers   int     `json:"publishers"`
	AchievedRate float64 `json:"achieved_rate"`
	Events       int     `json:"events"`
	Errors       int64   `json:"errors"` // publishes not accepted, refused or unanswered
	// Refused counts the publishes answered with another status than
	// 202, by status; hookd's default limits are in force.
	Refused      int            `json:"refused"`
	RefusedBy    map[string]int `json:"refused_by_status,omitempty"`
	MaxSendLagMs float64        `json:"max_send_lag_ms"` // how late the generator sent against its schedule
	P50Ms        float64        `json:"p50_ms"`
	P90Ms        float64        `json:"p90_ms"`
	P99Ms        float64        `json:"p99_ms"`
	MaxMs        float64        `json:"max_ms"`
	// P99FromScheduleMs measures from when the event was due to be sent
	// rather than when its POST started, so a late generator (hookd slow
	// to answer earlier posts) counts against the figure.
	P99FromScheduleMs float64 `json:"p99_from_schedule_ms"`
	PublishP50Ms      float64 `json:"publish_answer_p50_ms"` // time to the 202 alone
	PublishP99Ms      float64 `json:"publish_answer_p99_ms"`
	Usage             usage   `json:"usage"`
}

// Fixed shapes of the load (the brief's figures).
const (
	singlePublishers = 32
	batchPublishers  = 4
	publishBatchSize = 100
	e2eBatchSize     = 500
	latencyWorkers   = 32
)

// measurePublish measures accepted events a second, single and in
// batches of 100, to one webhook while its deliveries run; with several
// nodes the publishes go to them in turn.
func (b *bench) measurePublish(ctx context.Context) (publishResult, error) {
	var res publishResult
	s, err := b.openSession(ctx, "publish")
	if err != nil {
		return res, err
	}
	defer s.close()
	if err := s.addWebhook(ctx, "/pub"); err != nil {
		return res, err
	}
	s.mark()
	res.Single, err = hammer(ctx, b.now, singlePublishers, b.opts.PublishFor, func(ctx context.Context, seq int) (int, error) {
		_, err := s.api(seq).publish(ctx, eventBody(seq))
		return 1, err
	})
	if err != nil {
		return res, fmt.Errorf("single publish: %w", err)
	}
	res.Batch, err = hammer(ctx, b.now, batchPublishers, b.opts.PublishFor, func(ctx context.Context, seq int) (int, error) {
		return publishBatchSize, s.api(seq).publishBatch(ctx, batchBody(seq*publishBatchSize, publishBatchSize), publishBatchSize)
	})
	if err != nil {
		return res, fmt.Errorf("batch publish: %w", err)
	}
	res.Usage = s.usage()
	return res, s.checkAlive()
}

// measureDeliveries publishes events to each of webhooks webhooks in
// batches and measures until every delivery has arrived once.
func (b *bench) measureDeliveries(ctx context.Context, spec sessionSpec, webhooks, events, batchSize int) (deliveryResult, error) {
	res := deliveryResult{Webhooks: webhooks, Events: events, Deliveries: webhooks * events}
	phase := spec.phase
	s, err := b.openSessionSpec(ctx, spec)
	if err != nil {
		return res, err
	}
	defer s.close()
	for i := range webhooks {
		path := "/" + phase
		if webhooks > 1 {
			path = "/f/" + strconv.Itoa(i)
		}
		if err := s.addWebhook(ctx, path); err != nil {
			return res, err
		}
	}
	batches := renderBatches(events, batchSize)
	s.mark()
	start := b.now()
	if err := sendBatches(ctx, s.apis, batches, batchPublishers); err != nil {
		return res, fmt.Errorf("publish: %w", err)
	}
	published := b.now()
	res.PublishSeconds = published.Sub(start).Seconds()
	res.DeliveredWhilePublishing = s.rc.unique()
	fmt.Fprintf(b.progress, "  %s: %d events published in %.2fs, waiting for %d deliveries\n", phase, events, res.PublishSeconds, res.Deliveries)
	if err := s.rc.waitUnique(ctx, res.Deliveries); err != nil {
		return res, errors.Join(err, s.checkAlive())
	}
	res.Usage = s.usage()
	last, _ := s.rc.nthArrival(res.Deliveries)
	elapsed := last.Sub(start)
	res.Seconds = elapsed.Seconds()
	res.PerSecond = float64(res.Deliveries) / elapsed.Seconds()
	if drain := last.Sub(published); drain > 0 {
		res.DrainPerSecond = float64(res.Deliveries-res.DeliveredWhilePublishing) / drain.Seconds()
	}
	res.Duplicates = s.rc.duplicates()
	res.AvgBodyBytes = s.rc.bytes.Load() / max(1, s.rc.requests.Load())
	return res, s.checkAlive()
}

// sent is one single publish of the latency phase.
type sent struct {
	id       string
	due      time.Time // when the pacer scheduled it
	start    time.Time // when its POST began
	answered time.Duration
}

// measureLatency publishes single events at a steady rate, with
// hookd's default limits, and measures each one's time from the start of
// its POST (and from when it was due) to its arrival.
func (b *bench) measureLatency(ctx context.Context, rate float64) (latencyResult, error) {
	res := latencyResult{TargetRate: rate}
	s, err := b.openSessionWith(ctx, latencyPhase(rate), func(c *hookdConfig) { c.DefaultLimits = true })
	if err != nil {
		return res, err
	}
	defer s.close()
	if err := s.addWebhook(ctx, "/lat"); err != nil {
		return res, err
	}
	total := int(rate * b.opts.Duration.Seconds())
	bodies := make([][]byte, total)
	for i := range bodies {
		bodies[i] = eventBody(i)
	}
	s.mark()
	start := b.now()
	jobs := make(chan int, total)
	go pace(ctx, b.now, start, rate, total, jobs)

	var (
		mu    sync.Mutex
		done  []sent
		lag   time.Duration
		tally publishTally
		wg    sync.WaitGroup
	)
	res.Publishers = latencyPublishers(rate)
	for range res.Publishers {
		wg.Go(func() {
			for seq := range jobs {
				t0 := b.now()
				due := dueAt(start, rate, seq)
				id, status, err := s.api(seq).publishAnswer(ctx, bodies[seq])
				took := b.now().Sub(t0)
				tally.add(status, took, err)
				mu.Lock()
				lag = max(lag, t0.Sub(due))
				if err == nil {
					done = append(done, sent{id: id, due: due, start: t0, answered: took})
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return res, err
	}
	res.Events = len(done)
	res.Refused, res.RefusedBy = tally.refused()
	res.Errors = int64(res.Refused + tally.failed)
	res.AchievedRate = float64(len(done)) / b.now().Sub(start).Seconds()
	res.MaxSendLagMs = ms(lag)
	if err := s.rc.waitUnique(ctx, len(done)); err != nil {
		return res, err
	}
	res.Usage = s.usage()
	samples, err := fillLatencies(&res, s.rc, "/lat", done, start)
	if err != nil {
		return res, err
	}
	if b.opts.LatencyCSV != "" {
		if err := writeSamples(latencyCSVPath(b.opts.LatencyCSV, rate, len(b.opts.Rates)), samples); err != nil {
			return res, err
		}
	}
	return res, s.checkAlive()
}

// latencyPublishers is how many publishers send the latency measure's
// events at rate: at least latencyWorkers, and enough that answers
// taking 60 ms on average (a busy hookd) do not hold the next events
// back, so the schedule stays open-loop as independent backends'
// publishes are, and a late event is hookd's doing.
func latencyPublishers(rate float64) int {
	return max(latencyWorkers, int(math.Ceil(rate/16)))
}

// latencyPhase names the session of the latency measure at rate, e.g.
// latency500 (its SQLite file, its PostgreSQL schema).
func latencyPhase(rate float64) string {
	return "latency" + strconv.Itoa(int(math.Round(rate)))
}

// latencyCSVPath is where the samples at rate go: the path given when
// there is one rate, else the path with the rate before its extension.
func latencyCSVPath(path string, rate float64, rates int) string {
	if rates <= 1 {
		return path
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-" + strconv.Itoa(int(math.Round(rate))) + ext
}

// dueAt is when the seq-th event (from 0) of a steady rate from start is
// due to be sent.
func dueAt(start time.Time, rate float64, seq int) time.Time {
	return start.Add(time.Duration(float64(seq) / rate * float64(time.Second)))
}

// pace feeds total sequence numbers into jobs at rate a second from
// start, each when it is due (every one already due at once, when the
// pacer is late), then closes jobs.
func pace(ctx context.Context, now func() time.Time, start time.Time, rate float64, total int, jobs chan<- int) {
	defer close(jobs)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for issued := 0; issued < total; {
		if wait := dueAt(start, rate, issued).Sub(now()); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		due := min(total, int(now().Sub(start).Seconds()*rate)+1)
		for ; issued < due; issued++ {
			jobs <- issued
		}
	}
}

// latencySample is one event of the latency phase, for --latency-csv.
type latencySample struct {
	SentAt   time.Duration // since the phase started
	Latency  time.Duration // POST start to first arrival
	Answered time.Duration // POST start to the 202
}

// fillLatencies joins publish starts with first arrivals and returns the
// samples in send order.
func fillLatencies(res *latencyResult, rc *receiver, path string, done []sent, start time.Time) ([]latencySample, error) {
	samples := make([]latencySample, 0, len(done))
	e2e := make([]time.Duration, 0, len(done))
	fromDue := make([]time.Duration, 0, len(done))
	answers := make([]time.Duration, 0, len(done))
	for _, d := range done {
		at, ok := rc.firstArrival(path, d.id)
		if !ok {
			return nil, fmt.Errorf("event %s never arrived", d.id)
		}
		e2e = append(e2e, at.Sub(d.start))
		fromDue = append(fromDue, at.Sub(d.due))
		answers = append(answers, d.answered)
		samples = append(samples, latencySample{SentAt: d.start.Sub(start), Latency: at.Sub(d.start), Answered: d.answered})
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i].SentAt < samples[j].SentAt })
	res.P50Ms, res.P90Ms, res.P99Ms = ms(percentile(e2e, 50)), ms(percentile(e2e, 90)), ms(percentile(e2e, 99))
	res.MaxMs = ms(percentile(e2e, 100))
	res.P99FromScheduleMs = ms(percentile(fromDue, 99))
	res.PublishP50Ms, res.PublishP99Ms = ms(percentile(answers, 50)), ms(percentile(answers, 99))
	return samples, nil
}

// writeSamples writes latency samples as CSV (milliseconds).
func writeSamples(path string, samples []latencySample) error {
	var b strings.Builder
	b.WriteString("sent_at_ms,latency_ms,answer_ms\n")
	for _, s := range samples {
		fmt.Fprintf(&b, "%.3f,%.3f,%.3f\n", ms(s.SentAt), ms(s.Latency), ms(s.Answered))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// percentile returns the nearest-rank pth percentile (0 < p <= 100) of ds;
// it sorts ds. It returns 0 for no values.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	rank := int(math.Ceil(p / 100 * float64(len(ds))))
	return ds[min(max(rank, 1), len(ds))-1]
}

// ms turns a duration into fractional milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
