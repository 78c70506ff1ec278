package main

import (
	"context"
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
	cases := []struct {
		name string
		res  results
		want map[string]bool // bar name prefix → met
	}{
		{"all met", results{
			Ceiling:  ceiling,
			EndToEnd: &deliveryResult{PerSecond: 2000, Usage: usage{PeakRSSBytes: 90e6}},
			FanOut:   &deliveryResult{PerSecond: 2500},
			Latency:  &latencyResult{TargetRate: 500, P99Ms: 99.9},
		}, map[string]bool{"end-to-end": true, "fan-out": true, "p99": true, "hookd peak RSS": true}},
		{"all missed", results{
			Ceiling:  ceiling,
			EndToEnd: &deliveryResult{PerSecond: 1999},
			FanOut:   &deliveryResult{PerSecond: 100, Usage: usage{PeakRSSBytes: 151e6}},
			Latency:  &latencyResult{TargetRate: 500, P99Ms: 100},
		}, map[string]bool{"end-to-end": false, "fan-out": false, "p99": false, "hookd peak RSS": false}},
		{"no ceiling: no ratio bars", results{
			EndToEnd: &deliveryResult{PerSecond: 1999, Usage: usage{PeakRSSBytes: 10e6}},
		}, map[string]bool{"hookd peak RSS": true}},
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
		})
	}
}

func lookupPrefix(m map[string]bool, name string) (bool, bool) {
	for k, v := range m {
		if strings.HasPrefix(name, k) {
			return v, true
		}
	}
	return false, false
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
		{[]string{"--rate", "0"}, false},
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
