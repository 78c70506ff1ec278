package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// isolationResult is the healthy endpoint's publish→arrival latency
// while Hanging other endpoints never answer.
type isolationResult struct {
	Hanging          int     `json:"hanging"`
	RatePerEndpoint  float64 `json:"rate_per_endpoint"`
	Seconds          float64 `json:"seconds"`
	HealthyEvents    int     `json:"healthy_events"`
	P50Ms            float64 `json:"p50_ms"`
	P95Ms            float64 `json:"p95_ms"`
	P99Ms            float64 `json:"p99_ms"`
	MaxMs            float64 `json:"max_ms"`
	HangingRequests  int64   `json:"hanging_requests"`  // requests the hanging endpoints received
	CircuitsOpened   float64 `json:"circuits_opened"`   // hookd_circuit_openings_total at the end
	PublishErrors    int64   `json:"publish_errors"`    // publishes not answered 202
	DeliveryTimeout  string  `json:"delivery_timeout"`  // HOOKD_DELIVERY_TIMEOUT
	HealthyDelivered int     `json:"healthy_delivered"` // distinct healthy deliveries that arrived
	Usage            usage   `json:"usage"`
}

// parseCounts reads a comma-separated list of counts such as "0,1,10,100".
func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a count", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// hangingServer is a loopback endpoint that never answers: it reads each
// request and holds it until the client gives up or the server closes.
type hangingServer struct {
	URL      string
	srv      *http.Server
	requests atomic.Int64
}

func startHanging() (*hangingServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hangingServer{URL: "http://" + ln.Addr().String()}
	h.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h.requests.Add(1)
		<-r.Context().Done()
	})}
	go func() { _ = h.srv.Serve(ln) }()
	return h, nil
}

func (h *hangingServer) close() { _ = h.srv.Close() }

// measureIsolation runs the isolation phase once per count of hanging
// endpoints.
func (b *bench) measureIsolation(ctx context.Context) ([]isolationResult, error) {
	var out []isolationResult
	for _, n := range b.opts.IsolationHanging {
		fmt.Fprintf(b.progress, "  %d hanging endpoints\n", n)
		r, err := b.measureIsolationOnce(ctx, n)
		if err != nil {
			return out, fmt.Errorf("%d hanging: %w", n, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// measureIsolationOnce starts a hookd with a short delivery timeout, gives
// two tenants n webhooks (split between them) to an endpoint that never
// answers and a third tenant one webhook to the receiver, publishes to
// every tenant at the same steady rate (each hanging webhook gets that
// rate too: a tenant's events fan out to all its webhooks), and measures
// the healthy endpoint's publish→arrival latency.
func (b *bench) measureIsolationOnce(ctx context.Context, n int) (isolationResult, error) {
	res := isolationResult{Hanging: n, RatePerEndpoint: b.opts.IsolationRate, DeliveryTimeout: b.opts.IsolationTimeout.String()}
	s, err := b.openSessionWith(ctx, "isolation"+strconv.Itoa(n), func(c *hookdConfig) {
		c.Env = append(c.Env, "HOOKD_DELIVERY_TIMEOUT="+b.opts.IsolationTimeout.String())
	})
	if err != nil {
		return res, err
	}
	defer s.close()
	hang, err := startHanging()
	if err != nil {
		return res, err
	}
	defer hang.close()
	if err := s.addWebhook(ctx, "/healthy"); err != nil {
		return res, err
	}
	var others []*apiClient
	for t := range 2 {
		api, err := newAPIClient(s.nodes[0].URL, fmt.Sprintf("bench-%s-isolation-other%d", b.runID, t), b.now())
		if err != nil {
			return res, err
		}
		defer api.close()
		others = append(others, api)
	}
	var publishers []*apiClient // the other tenants that have webhooks
	for i := range n {
		api := others[i%2]
		if _, err := api.createWebhook(ctx, "hanging "+strconv.Itoa(i), hang.URL+"/hang/"+strconv.Itoa(i)); err != nil {
			return res, err
		}
		if i < 2 {
			publishers = append(publishers, api)
		}
	}

	s.mark()
	start := b.now()
	total := int(b.opts.IsolationRate * b.opts.IsolationFor.Seconds())
	var (
		mu      sync.Mutex
		healthy []sent
		wg      sync.WaitGroup
		errs    atomic.Int64
	)
	publish := func(api *apiClient, record bool) {
		defer wg.Done()
		jobs := make(chan int, total)
		go pace(ctx, b.now, start, b.opts.IsolationRate, total, jobs)
		var inner sync.WaitGroup
		for range 4 {
			inner.Add(1)
			go func() {
				defer inner.Done()
				for seq := range jobs {
					t0 := b.now()
					id, err := api.publish(ctx, eventBody(seq))
					if err != nil {
						errs.Add(1)
						continue
					}
					if record {
						mu.Lock()
						healthy = append(healthy, sent{id: id, start: t0})
						mu.Unlock()
					}
				}
			}()
		}
		inner.Wait()
	}
	wg.Add(1 + len(publishers))
	go publish(s.apis[0], true)
	for _, api := range publishers {
		go publish(api, false)
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return res, err
	}
	res.PublishErrors = errs.Load()
	res.HealthyEvents = len(healthy)
	// Every healthy event must arrive; the hanging endpoints' deliveries
	// are not waited for.
	if err := s.rc.waitUnique(ctx, len(healthy)); err != nil {
		return res, errors.Join(err, s.checkAlive())
	}
	res.Seconds = b.now().Sub(start).Seconds()
	res.Usage = s.usage()
	res.HealthyDelivered = s.rc.unique()
	lat := make([]time.Duration, 0, len(healthy))
	for _, h := range healthy {
		at, ok := s.rc.firstArrival("/healthy", h.id)
		if !ok {
			return res, fmt.Errorf("healthy event %s never arrived", h.id)
		}
		lat = append(lat, at.Sub(h.start))
	}
	res.P50Ms, res.P95Ms, res.P99Ms = ms(percentile(lat, 50)), ms(percentile(lat, 95)), ms(percentile(lat, 99))
	res.MaxMs = ms(percentile(lat, 100))
	res.HangingRequests = hang.requests.Load()
	res.CircuitsOpened = scrapeCounter(ctx, s.nodes[0].URL, "hookd_circuit_openings_total")
	return res, s.checkAlive()
}

// scrapeCounter reads one unlabelled metric from hookd's /metrics; -1
// when it cannot.
func scrapeCounter(ctx context.Context, base, name string) float64 {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return -1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				return f
			}
		}
	}
	return -1
}

// isolationRows prints the isolation phase's rows and details.
func isolationRows(w io.Writer, rs []isolationResult) []string {
	var details []string
	for _, r := range rs {
		fmt.Fprintf(w, "healthy endpoint beside %d hanging, publish->arrival\tp50 %.1f  p95 %.1f  p99 %.1f  max %.1f\tms\t\t%s\t\n",
			r.Hanging, r.P50Ms, r.P95Ms, r.P99Ms, r.MaxMs, usageCells(r.Usage, true))
		details = append(details, fmt.Sprintf("isolation, %d hanging: %d healthy events at %s/s per endpoint over %.1fs (delivery timeout %s), %d publish errors; the hanging endpoints received %d requests; circuit openings %s",
			r.Hanging, r.HealthyEvents, num(r.RatePerEndpoint), r.Seconds, r.DeliveryTimeout, r.PublishErrors, r.HangingRequests, num(r.CircuitsOpened)))
	}
	return details
}
