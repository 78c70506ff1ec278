package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(vs ...int) []time.Duration {
		out := make([]time.Duration, len(vs))
		for i, v := range vs {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // reversed: percentile must sort
	}
	cases := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 99, 0},
		{"one", ms(7), 50, 7 * time.Millisecond},
		{"p50 of 1..100", ms(hundred...), 50, 50 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 99, 99 * time.Millisecond},
		{"max of 1..100", ms(hundred...), 100, 100 * time.Millisecond},
		{"p90 of four", ms(4, 1, 3, 2), 90, 4 * time.Millisecond},
		{"p25 of four", ms(4, 1, 3, 2), 25, 1 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := percentile(c.in, c.p); got != c.want {
				t.Fatalf("percentile(%v) = %v, want %v", c.p, got, c.want)
			}
		})
	}
}

func TestNum(t *testing.T) {
	t.Parallel()
	cases := map[float64]string{0: "0", 999.4: "999", 1000: "1,000", 38576.6: "38,577", 1234567: "1,234,567"}
	for in, want := range cases {
		if got := num(in); got != want {
			t.Errorf("num(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	ceiling := &ceilingResult{rateResult: rateResult{PerSecond: 10000}}
	backlog := func(refRate, rate float64, rss int64) *backlogPhaseResult {
		return &backlogPhaseResult{
			Reference: &backlogResult{Events: 20000, DrainPerSecond: refRate},
			Backlog:   &backlogResult{Events: 1000000, DrainPerSecond: rate, Usage: usage{PeakRSSBytes: rss}},
		}
	}
	cases := []struct {
		name string
		res  results
		want map[string]bool // bar name prefix → met
	}{
		{"all met", results{
			Ceiling:  ceiling,
			EndToEnd: &deliveryResult{PerSecond: 3000, Usage: usage{PeakRSSBytes: 64e6}},
			Single:   &singleResult{PerSecond: 1500},
			FanOut:   &deliveryResult{PerSecond: 3500},
			Latency: []latencyResult{
				{TargetRate: 500, Events: 5000, P99Ms: 4, P99FromScheduleMs: 15},
				{TargetRate: 2000, Events: 20000, P99Ms: 9, P99FromScheduleMs: 50},
			},
			Backlog:  backlog(10000, 8000, 128e6),
			Postgres: &postgresResult{EndToEnd: &deliveryResult{PerSecond: 2100}},
		}, map[string]bool{
			"end-to-end": true, "single-event publishes,": true, "single-event publishes refused": true, "fan-out": true,
			"p99 publish->arrival at 500": true, "publishes refused or unanswered at 500": true,
			"p99 publish->arrival at 2,000": true, "publishes refused or unanswered at 2,000": true,
			"hookd peak RSS during": true, "backlog of 1,000,000": true, "hookd peak RSS draining": true, "PostgreSQL": true,
		}},
		{"all missed", results{
			Ceiling:  ceiling,
			EndToEnd: &deliveryResult{PerSecond: 2999, Usage: usage{PeakRSSBytes: 64e6 + 1}},
			Single:   &singleResult{PerSecond: 1499, Refused: 1, RefusedBy: map[string]int{"429": 1}},
			FanOut:   &deliveryResult{PerSecond: 3499},
			Latency: []latencyResult{
				// From the schedule counts: a late generator fails the bar
				// even when the POST-to-arrival p99 is low.
				{TargetRate: 500, Events: 5000, P99Ms: 4, P99FromScheduleMs: 15.1},
				{TargetRate: 2000, Events: 20000, P99Ms: 9, P99FromScheduleMs: 20, Errors: 3, Refused: 3},
			},
			Backlog:  backlog(10000, 7999, 128e6+1),
			Postgres: &postgresResult{EndToEnd: &deliveryResult{PerSecond: 2099}},
		}, map[string]bool{
			"end-to-end": false, "single-event publishes,": false, "single-event publishes refused": false, "fan-out": false,
			"p99 publish->arrival at 500": false, "publishes refused or unanswered at 500": true,
			"p99 publish->arrival at 2,000": true, "publishes refused or unanswered at 2,000": false,
			"hookd peak RSS during": false, "backlog of 1,000,000": false, "hookd peak RSS draining": false, "PostgreSQL": false,
		}},
		{"no ceiling: no ratio bars", results{
			EndToEnd: &deliveryResult{PerSecond: 1999, Usage: usage{PeakRSSBytes: 10e6}},
			Single:   &singleResult{PerSecond: 1000},
			Latency:  []latencyResult{{TargetRate: 1000, Events: 10}}, // no bar at that rate
			Postgres: &postgresResult{Skipped: "PostgreSQL is not answering"},
		}, map[string]bool{"hookd peak RSS during": true, "single-event publishes refused": true, "publishes refused or unanswered at 1,000": true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.res.judge()
			if len(c.res.Bars) != len(c.want) {
				t.Fatalf("bars %+v, want %d", c.res.Bars, len(c.want))
			}
			for _, b := range c.res.Bars {
				met, ok := lookupPrefix(c.want, b.Name)
				if !ok || met != b.Met {
					t.Errorf("bar %q met=%v, want %v (known %v)", b.Name, b.Met, met, ok)
				}
			}
			var out strings.Builder
			if err := c.res.writeTable(&out); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "bars") {
				t.Fatalf("table without bars:\n%s", out.String())
			}
			if c.res.Postgres != nil && c.res.Postgres.Skipped != "" && !strings.Contains(out.String(), "skipped, "+c.res.Postgres.Skipped) {
				t.Fatalf("table does not say why PostgreSQL was skipped:\n%s", out.String())
			}
		})
	}
}

// lookupPrefix finds the entry whose key starts name; the longest wins,
// so that "single-event publishes refused" is not taken for
// "single-event publishes,".
func lookupPrefix(m map[string]bool, name string) (bool, bool) {
	best, met := "", false
	for k, v := range m {
		if strings.HasPrefix(name, k) && len(k) > len(best) {
			best, met = k, v
		}
	}
	return met, best != ""
}

func TestReceiverCountsDistinctDeliveries(t *testing.T) {
	t.Parallel()
	rc, err := startReceiver(time.Now, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.close() })
	client := newLoadClient()
	post := func(path, id string) {
		req, _ := http.NewRequest(http.MethodPost, rc.URL+path, strings.NewReader(`{"x":1}`))
		req.Header.Set("webhook-id", id)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := drain(resp)
		if resp.StatusCode != 200 || body != 2 {
			t.Fatalf("receiver answered %d with %d bytes", resp.StatusCode, body)
		}
	}
	post("/f/1", "evt_a")
	post("/f/2", "evt_a") // same event, another webhook: a distinct delivery
	post("/f/1", "evt_a") // a duplicate
	post("/f/1", "evt_b")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rc.waitUnique(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if rc.unique() != 3 || rc.duplicates() != 1 || rc.requests.Load() != 4 {
		t.Fatalf("unique %d, duplicates %d, requests %d", rc.unique(), rc.duplicates(), rc.requests.Load())
	}
	if _, ok := rc.firstArrival("/f/2", "evt_a"); !ok {
		t.Fatal("no arrival recorded for /f/2 evt_a")
	}
	third, _ := rc.nthArrival(3)
	first, _ := rc.firstArrival("/f/1", "evt_b")
	if !third.Equal(first) {
		t.Fatalf("3rd distinct arrival %v is not evt_b's %v", third, first)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelShort()
	if err := rc.waitUnique(short, 4); err == nil {
		t.Fatal("waitUnique(4) returned nil with 3 deliveries")
	}
}

func TestOrderPayloadSize(t *testing.T) {
	t.Parallel()
	for _, seq := range []int{0, 7, 123456} {
		n := len(eventBody(seq))
		if n < 800 || n > 1000 {
			t.Errorf("event body %d is %d bytes, want about 900", seq, n)
		}
	}
	if b := batchBody(10, 3); strings.Count(string(b), `"event":"order.created"`) != 3 {
		t.Fatalf("batch body: %s", b)
	}
}

func TestParseOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		ok   bool
	}{
		{nil, true},
		{[]string{"--events", "100", "--rate", "50", "--duration", "2s", "--phases", "e2e,latency", "--json"}, true},
		{[]string{"--phases", "e2e,nope"}, false},
		{[]string{"--rate", "-1"}, false},
		{[]string{"--rates", "500,0"}, false},
		{[]string{"--rates", "500,x"}, false},
		{[]string{"--rates", "100, 400", "--duration", "1s"}, true},
		{[]string{"--single-events", "0"}, false},
		{[]string{"--backlog-events", "0"}, false},
		{[]string{"--postgres", "mysql://x"}, false},
		{[]string{"--postgres", ""}, true},
		{[]string{"--events", "0"}, false},
		{[]string{"extra"}, false},
		{[]string{"--phases", "ceiling,streams", "--stream-subscribers", "3", "--stream-rate", "10", "--stream-duration", "1s"}, true},
		{[]string{"--stream-subscribers", "0"}, false},
		{[]string{"--stream-rate", "0.1", "--stream-duration", "1s"}, false},
	}
	for _, c := range cases {
		_, err := parseOptions(c.args, &strings.Builder{})
		if (err == nil) != c.ok {
			t.Errorf("parseOptions(%q) error %v, want ok=%v", c.args, err, c.ok)
		}
	}
}

func TestProcStats(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	rss, err := peakRSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Fatalf("peakRSS = %d, %v", rss, err)
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) { // burn a little CPU
	}
	used, err := cpuTime(os.Getpid())
	if err != nil || used <= 0 {
		t.Fatalf("cpuTime = %v, %v", used, err)
	}
	busy, _, err := machineCPU()
	if err != nil || busy <= 0 {
		t.Fatalf("machineCPU = %v, %v", busy, err)
	}
}

func TestMeasureCeiling(t *testing.T) {
	t.Parallel()
	res, err := measureCeiling(context.Background(), time.Now, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.Count == 0 || res.Errors != 0 || res.Concurrency != 32 || res.Seconds < 0.1 || res.PerSecond <= 0 {
		t.Fatalf("ceiling %+v", res)
	}
}

// TestReceiverDelay: with a delay the receiver answers no sooner, and the
// arrival is recorded when the request came, not when it was answered.
func TestReceiverDelay(t *testing.T) {
	t.Parallel()
	const delay = 60 * time.Millisecond
	rc, err := startReceiver(time.Now, delay)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.close() })
	req, _ := http.NewRequest(http.MethodPost, rc.URL+"/e2e", strings.NewReader(`{"x":1}`))
	req.Header.Set("webhook-id", "evt_slow")
	start := time.Now()
	resp, err := newLoadClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = drain(resp)
	end := time.Now()
	if took := end.Sub(start); took < delay {
		t.Fatalf("answered after %v, want at least %v", took, delay)
	}
	// Recorded on arrival: at least the delay before the answer came back.
	if at, ok := rc.nthArrival(1); !ok || at.After(end.Add(-delay)) {
		t.Fatalf("arrival recorded at +%v (ok %v), answer at +%v: want the delay between them", at.Sub(start), ok, end.Sub(start))
	}
}

// TestIsolationOptions: the isolation phase runs only when named, with
// the counts of hanging endpoints given.
func TestIsolationOptions(t *testing.T) {
	o, err := parseOptions(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Phases["isolation"] {
		t.Fatal("the isolation phase runs by default")
	}
	o, err = parseOptions([]string{"--phases", "isolation", "--isolation-hanging", "0, 2,30"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Phases["isolation"] || fmt.Sprint(o.IsolationHanging) != "[0 2 30]" || o.IsolationTimeout != 5*time.Second {
		t.Fatalf("options %+v", o)
	}
	if _, err := parseOptions([]string{"--isolation-hanging", "1,x"}, io.Discard); err == nil {
		t.Fatal("a bad count was accepted")
	}
	if _, err := phaseSchema("0123abcd", "isolation100"); err != nil {
		t.Fatal(err)
	}
}

// TestDefaultPhasesMeasureEveryBar: the default run has a phase for every
// row of the bars, and the latency phase measures both rates.
func TestDefaultPhasesMeasureEveryBar(t *testing.T) {
	t.Parallel()
	o, err := parseOptions(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"ceiling", "e2e", "single", "latency", "fanout", "postgres", "backlog"} {
		if !o.Phases[p] {
			t.Errorf("phase %s is not in the default run", p)
		}
	}
	if fmt.Sprint(o.Rates) != "[500 2000]" || o.BacklogEvents != 1_000_000 || o.BacklogReference != 20000 || o.SingleEvents != 10000 {
		t.Fatalf("options %+v", o)
	}
	if o, err = parseOptions([]string{"--rate", "300"}, io.Discard); err != nil || fmt.Sprint(o.Rates) != "[300]" {
		t.Fatalf("--rate 300: rates %v, %v", o.Rates, err)
	}
	for _, rate := range o.Rates {
		if _, err := phaseSchema("0123abcd", latencyPhase(rate)); err != nil {
			t.Fatal(err)
		}
	}
	for _, phase := range []string{"single", "postgres", "backlog", "backlogref", latencyPhase(2000)} {
		if _, err := phaseSchema("0123abcd", phase); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLatencyHelpers(t *testing.T) {
	t.Parallel()
	if got := latencyPhase(2000); got != "latency2000" {
		t.Errorf("latencyPhase(2000) = %q", got)
	}
	if got := latencyCSVPath("/tmp/lat.csv", 2000, 2); got != "/tmp/lat-2000.csv" {
		t.Errorf("latencyCSVPath = %q", got)
	}
	if got := latencyCSVPath("/tmp/lat.csv", 500, 1); got != "/tmp/lat.csv" {
		t.Errorf("latencyCSVPath with one rate = %q", got)
	}
	if latencyPublishers(500) != latencyWorkers || latencyPublishers(2000) < 2000/40 {
		t.Errorf("publishers %d at 500/s, %d at 2,000/s", latencyPublishers(500), latencyPublishers(2000))
	}
	start := time.Unix(1000, 0)
	if got := dueAt(start, 2000, 3); got != start.Add(1500*time.Microsecond) {
		t.Errorf("dueAt(3rd at 2,000/s) = +%v", got.Sub(start))
	}
	for rate, want := range map[float64]float64{500: 15, 2000: 50} {
		if got, ok := latencyBar(rate); !ok || got != want {
			t.Errorf("latencyBar(%v) = %v, %v", rate, got, ok)
		}
	}
	if _, ok := latencyBar(1000); ok {
		t.Error("a bar at 1,000 events/s")
	}
}

// TestPace: every sequence number comes out once, in order, none before
// it is due.
func TestPace(t *testing.T) {
	t.Parallel()
	const rate, total = 5000, 50
	jobs := make(chan int, total)
	start := time.Now()
	pace(context.Background(), time.Now, start, rate, total, jobs)
	next := 0
	for seq := range jobs {
		if seq != next {
			t.Fatalf("got %d, want %d", seq, next)
		}
		next++
	}
	if next != total {
		t.Fatalf("%d of %d issued", next, total)
	}
	if took := time.Since(start); took < dueAt(start, rate, total-1).Sub(start) {
		t.Fatalf("%d events issued in %v, before the last was due", total, took)
	}
}

func TestPublishTally(t *testing.T) {
	t.Parallel()
	var tally publishTally
	tally.add(202, 3*time.Millisecond, nil)
	tally.add(429, time.Millisecond, errors.New("status 429"))
	tally.add(429, time.Millisecond, errors.New("status 429 again"))
	tally.add(503, time.Millisecond, errors.New("status 503"))
	tally.add(0, time.Millisecond, errors.New("connection refused"))
	n, by := tally.refused()
	if tally.accepted != 1 || tally.failed != 1 || n != 3 || by["429"] != 2 || by["503"] != 1 || tally.firstErr != "status 429" || len(tally.answers) != 1 {
		t.Fatalf("tally accepted %d, failed %d, first %q, refused %d %v", tally.accepted, tally.failed, tally.firstErr, n, by)
	}
	if got := describeRefused(by); got != "429 x2, 503 x1" {
		t.Fatalf("describeRefused = %q", got)
	}
	var none publishTally
	if n, by := none.refused(); n != 0 || by != nil {
		t.Fatalf("empty tally refused %d %v", n, by)
	}
}

func TestNthExcept(t *testing.T) {
	t.Parallel()
	base := time.Unix(0, 0)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }
	arrived := []time.Time{at(1), at(2), at(3), at(4), at(5)}
	keys := []string{"/b a", "/b x", "/b c", "/b y", "/b e"}
	excluded := map[string]bool{"/b x": true, "/b y": true}
	if count, nth, ok := nthExcept(arrived, keys, excluded, 3, 0); !ok || count != 3 || !nth.Equal(at(5)) {
		t.Fatalf("3rd not excluded: %d %v %v", count, nth, ok)
	}
	if count, _, ok := nthExcept(arrived, keys, excluded, 4, 0); ok || count != 3 {
		t.Fatalf("4th not excluded found: %d %v", count, ok)
	}
	// Walked in two pieces, with the count carried over.
	count, _, ok := nthExcept(arrived[:2], keys[:2], excluded, 2, 0)
	if ok || count != 1 {
		t.Fatalf("first piece: %d %v", count, ok)
	}
	if count, nth, ok := nthExcept(arrived[2:], keys[2:], excluded, 2, count); !ok || count != 2 || !nth.Equal(at(3)) {
		t.Fatalf("second piece: %d %v %v", count, nth, ok)
	}
}

// TestReceiverWaitExcept: deliveries left out do not count, however
// many of them arrive.
func TestReceiverWaitExcept(t *testing.T) {
	t.Parallel()
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := startReceiverAt(time.Now, 0, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.close() })
	if rc.URL != "http://"+addr {
		t.Fatalf("receiver at %s, want %s", rc.URL, addr)
	}
	client := newLoadClient()
	for _, id := range []string{"evt_failed", "evt_1", "evt_failed", "evt_2"} {
		req, _ := http.NewRequest(http.MethodPost, rc.URL+"/backlog", strings.NewReader(`{}`))
		req.Header.Set("webhook-id", id)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = drain(resp)
	}
	excluded := map[string]bool{deliveryKey("/backlog", "evt_failed"): true}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	last, err := rc.waitExcept(ctx, excluded, 2)
	if err != nil {
		t.Fatal(err)
	}
	if at, _ := rc.firstArrival("/backlog", "evt_2"); !last.Equal(at) {
		t.Fatalf("2nd counted arrival %v, want evt_2's %v", last, at)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelShort()
	if _, err := rc.waitExcept(short, excluded, 3); err == nil {
		t.Fatal("waitExcept(3) returned with 2 counted deliveries")
	}
}

func TestBacklogRatioAndTimeout(t *testing.T) {
	t.Parallel()
	var none *backlogPhaseResult
	if none.ratio() != 0 || (&backlogPhaseResult{Backlog: &backlogResult{DrainPerSecond: 5}}).ratio() != 0 {
		t.Fatal("a ratio without both drains")
	}
	if got := backlog2(8000, 10000).ratio(); got != 0.8 {
		t.Fatalf("ratio %v", got)
	}
	if got := backlogTimeout(2*time.Minute, 1_020_000); got != 2*time.Minute+1020*time.Second {
		t.Fatalf("backlogTimeout = %v", got)
	}
}

func backlog2(rate, refRate float64) *backlogPhaseResult {
	return &backlogPhaseResult{Reference: &backlogResult{DrainPerSecond: refRate}, Backlog: &backlogResult{DrainPerSecond: rate}}
}

func TestRemoveSQLite(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/phase.db"
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.WriteFile(path+suffix, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := removeSQLite(path); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left: %v", path+suffix, err)
		}
	}
	if err := removeSQLite(path); err != nil {
		t.Fatalf("removing again: %v", err)
	}
}
