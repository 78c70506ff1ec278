package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// backlogEnv is what the backlog phase sets on hookd beyond the usual:
// a webhook whose endpoint is down must keep its backlog, not be switched
// off. The circuit breaker does not fail held deliveries, but the few
// attempts made before it opens, and each failed probe, fail for real;
// none may add up to a switched-off webhook however long the build takes.
var backlogEnv = []string{"HOOKD_AUTO_DISABLE_AFTER=0"}

// backlogPhaseResult holds the backlog phase's two drains: the
// empty-queue reference and the backlog itself, measured the same way.
type backlogPhaseResult struct {
	Env       []string       `json:"hookd_env"`
	Reference *backlogResult `json:"reference,omitempty"`
	Backlog   *backlogResult `json:"backlog,omitempty"`
}

// ratio is the backlog's drain rate as a fraction of the reference's.
func (p *backlogPhaseResult) ratio() float64 {
	if p == nil || p.Reference == nil || p.Backlog == nil || p.Reference.DrainPerSecond == 0 {
		return 0
	}
	return p.Backlog.DrainPerSecond / p.Reference.DrainPerSecond
}

// backlogResult is one backlog built while the endpoint refused
// connections, then drained by a restarted hookd once it was up.
type backlogResult struct {
	Events         int     `json:"events"`
	BuildSeconds   float64 `json:"build_seconds"` // first publish to the last batch's 202
	BuildPerSecond float64 `json:"build_per_second"`
	// CircuitAtRest is the webhook's circuit when the build ended
	// ("open": the breaker holds the backlog) and Active whether the
	// webhook was still switched on.
	CircuitAtRest string `json:"circuit_at_rest"`
	Active        bool   `json:"active"`
	// Excluded counts the deliveries whose logs said failed (attempted
	// before the circuit opened, or a failed probe) before or right after
	// the restart: they wait for their retry's backoff, so the drain
	// leaves them out. ExcludedArrived is how many came anyway.
	Excluded        int   `json:"excluded_failed"`
	ExcludedArrived int   `json:"excluded_arrived"`
	BuildPeakRSS    int64 `json:"build_peak_rss_bytes"`
	// RestRSS is hookd's resident memory at rest with the backlog
	// pending, a second after the build.
	RestRSS       int64 `json:"rest_rss_bytes"`
	DatabaseBytes int64 `json:"database_bytes,omitempty"` // the SQLite file and its WAL
	// StartSeconds runs from the restart until /healthz answers,
	// FirstArrivalSeconds until the first delivery arrives.
	StartSeconds        float64 `json:"start_seconds"`
	FirstArrivalSeconds float64 `json:"first_arrival_seconds"`
	Drained             int     `json:"drained"` // Events - Excluded
	// DrainSeconds runs from the restart to the last drained arrival.
	DrainSeconds   float64 `json:"drain_seconds"`
	DrainPerSecond float64 `json:"drain_per_second"`
	Duplicates     int64   `json:"duplicates"`
	BuildUsage     usage   `json:"build_usage"`
	Usage          usage   `json:"usage"` // the drain's, peak RSS of the restarted hookd
}

// backlogTimeout bounds the backlog phase: the usual phase timeout plus
// a millisecond an event, built and drained (1,000/s, well below what
// a healthy hookd does even on a busy machine).
func backlogTimeout(phaseTimeout time.Duration, events int) time.Duration {
	return phaseTimeout + time.Duration(events)*time.Millisecond
}

// measureBacklog drains an empty-queue reference, then the backlog, the
// same way (backlogOnce).
func (b *bench) measureBacklog(ctx context.Context) (*backlogPhaseResult, error) {
	res := &backlogPhaseResult{Env: backlogEnv}
	ref, err := b.backlogOnce(ctx, "backlogref", b.opts.BacklogReference)
	if err != nil {
		return res, fmt.Errorf("reference of %d: %w", b.opts.BacklogReference, err)
	}
	res.Reference = &ref
	big, err := b.backlogOnce(ctx, "backlog", b.opts.BacklogEvents)
	if err != nil {
		return res, fmt.Errorf("backlog of %d: %w", b.opts.BacklogEvents, err)
	}
	res.Backlog = &big
	return res, nil
}

// backlogOnce builds a backlog of events deliveries to one webhook whose
// endpoint's port refuses connections: hookd's circuit breaker opens
// after a few failed attempts and holds the rest pending. Then it stops
// hookd (SIGTERM), starts the endpoint on that port, starts hookd again
// on the same database (its due queue is rebuilt from it) and times the
// restart to the last arrival of every delivery that had not failed.
// Restarting, rather than waiting for the breaker's next probe (30 s to
// 10 min away), makes the drain start at a known moment; the endpoint
// is down, then up, either way.
func (b *bench) backlogOnce(ctx context.Context, phase string, events int) (backlogResult, error) {
	res := backlogResult{Events: events}
	addr, err := freeAddr()
	if err != nil {
		return res, err
	}
	s, err := b.openSessionSpec(ctx, sessionSpec{phase: phase, noReceiver: true, adjust: func(c *hookdConfig) {
		c.Env = append(c.Env, backlogEnv...)
	}})
	if err != nil {
		return res, err
	}
	defer s.close()
	const path = "/backlog"
	id, err := s.apis[0].createWebhook(ctx, "bench "+phase, "http://"+addr+path)
	if err != nil {
		return res, err
	}
	s.hooks = append(s.hooks, id)

	s.mark()
	start := b.now()
	if err := publishGenerated(ctx, s.apis, events, e2eBatchSize, batchPublishers); err != nil {
		return res, errors.Join(fmt.Errorf("publish: %w", err), s.checkAlive())
	}
	built := b.now().Sub(start)
	res.BuildSeconds, res.BuildPerSecond = built.Seconds(), float64(events)/built.Seconds()
	fmt.Fprintf(b.progress, "  %s: %d events published in %.1fs with the endpoint down\n", phase, events, res.BuildSeconds)
	state, err := waitCircuitOpen(ctx, s.apis[0], id, 5*time.Second)
	if err != nil {
		return res, err
	}
	res.CircuitAtRest, res.Active = state.Circuit.State, state.IsActive
	if !state.IsActive {
		reason := ""
		if state.DisabledReason != nil {
			reason = *state.DisabledReason
		}
		return res, fmt.Errorf("the webhook was switched off during the build: %s", reason)
	}
	failed, err := s.apis[0].failedEvents(ctx, id)
	if err != nil {
		return res, err
	}
	res.BuildUsage = s.usage()
	if err := sleepCtx(ctx, time.Second); err != nil {
		return res, err
	}
	for _, p := range s.nodes {
		rss, _ := currentRSS(p.pid())
		res.RestRSS = max(res.RestRSS, rss)
		peak, _ := peakRSS(p.pid())
		res.BuildPeakRSS = max(res.BuildPeakRSS, peak)
	}
	if file, ok := strings.CutPrefix(s.nodes[0].cfg.DatabaseURL, "sqlite:"); ok {
		res.DatabaseBytes = fileSize(file) + fileSize(file+"-wal")
	}
	if err := s.checkAlive(); err != nil {
		return res, err
	}

	s.stopNodes()
	if s.rc, err = startReceiverAt(b.now, b.opts.ReceiverDelay, addr); err != nil {
		return res, fmt.Errorf("endpoint on %s: %w", addr, err)
	}
	restart := b.now()
	if err := s.startNodes(ctx); err != nil {
		return res, err
	}
	res.StartSeconds = b.now().Sub(restart).Seconds()
	s.mark()
	// A probe could have failed between the first list and the stop:
	// the restarted node's list has it, and the union is what failed.
	again, err := s.apis[0].failedEvents(ctx, id)
	if err != nil {
		return res, errors.Join(err, s.checkAlive())
	}
	excluded := map[string]bool{}
	for _, e := range append(failed, again...) {
		excluded[deliveryKey(path, e)] = true
	}
	res.Excluded = len(excluded)
	res.Drained = events - res.Excluded
	fmt.Fprintf(b.progress, "  %s: hookd restarted with the endpoint up in %.2fs, waiting for %d deliveries (%d failed before the circuit opened, left out)\n",
		phase, res.StartSeconds, res.Drained, res.Excluded)
	last, err := s.rc.waitExcept(ctx, excluded, res.Drained)
	if err != nil {
		return res, errors.Join(err, s.checkAlive())
	}
	res.Usage = s.usage()
	if first, ok := s.rc.nthArrival(1); ok {
		res.FirstArrivalSeconds = first.Sub(restart).Seconds()
	}
	res.DrainSeconds = last.Sub(restart).Seconds()
	res.DrainPerSecond = float64(res.Drained) / res.DrainSeconds
	res.ExcludedArrived = s.rc.unique() - res.Drained
	res.Duplicates = s.rc.duplicates()
	return res, s.checkAlive()
}

// waitCircuitOpen polls the webhook until its circuit is open, for up to
// within, and returns its last state: the breaker opens on the first
// attempts' connection errors, so it is open by the end of any build.
func waitCircuitOpen(ctx context.Context, api *apiClient, id int64, within time.Duration) (webhookState, error) {
	deadline := time.Now().Add(within)
	for {
		st, err := api.webhookState(ctx, id)
		if err != nil || st.Circuit.State == "open" || !st.IsActive || time.Now().After(deadline) {
			return st, err
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return st, err
		}
	}
}

// publishGenerated publishes total events in batches of size from
// concurrency goroutines, each rendering its next batch just before
// sending it: a million events rendered up front would take the
// benchmark a gigabyte.
func publishGenerated(ctx context.Context, apis []*apiClient, total, size, concurrency int) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	batches := (total + size - 1) / size
	for range concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= batches {
					return
				}
				seq := i * size
				n := min(size, total-seq)
				if err := apis[i%len(apis)].publishBatch(ctx, batchBody(seq, n), n); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// fileSize is a file's size, 0 when it cannot be read.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
