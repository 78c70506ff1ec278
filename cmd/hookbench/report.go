package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Bars the benchmark checks.
const (
	minE2EShare  = 0.20 // end-to-end and fan-out deliveries/s as a share of the raw ceiling
	maxP99Ms     = 100.0
	maxPeakRSSMB = 150.0
	bytesPerMB   = 1_000_000
)

// results is everything one run measured.
type results struct {
	Date      string `json:"date"`
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
	Database  string `json:"database"`
	Nodes     int    `json:"nodes"` // hookd processes per phase
	Workers   string `json:"workers"`
	// ReceiverDelayMs is how long the receiver took to answer each delivery.
	ReceiverDelayMs float64 `json:"receiver_delay_ms"`
	// DatabaseCPUMeasured says the PostgreSQL server's CPU has a column
	// of its own (it runs on this machine) rather than counting as other.
	DatabaseCPUMeasured bool `json:"database_cpu_measured"`
	// HookdSHA256 starts the SHA-256 of the hookd binary measured.
	HookdSHA256 string            `json:"hookd_sha256"`
	Ceiling     *ceilingResult    `json:"raw_http_ceiling,omitempty"`
	Publish     *publishResult    `json:"publish,omitempty"`
	EndToEnd    *deliveryResult   `json:"end_to_end,omitempty"`
	Latency     *latencyResult    `json:"latency,omitempty"`
	FanOut      *deliveryResult   `json:"fan_out,omitempty"`
	Streams     *streamResult     `json:"streams,omitempty"`
	Isolation   []isolationResult `json:"isolation,omitempty"`
	// Brokers are the broker phases that ran, in order.
	Brokers []brokerResult `json:"brokers,omitempty"`
	Bars    []bar          `json:"bars"`
}

// bar is one target and whether the run met it.
type bar struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target string  `json:"target"`
	Met    bool    `json:"met"`
}

// peakRSS is the highest peak RSS over every hookd the run started.
func (r *results) peakRSS() int64 {
	var peak int64
	if r.Publish != nil {
		peak = max(peak, r.Publish.Usage.PeakRSSBytes)
	}
	for _, d := range []*deliveryResult{r.EndToEnd, r.FanOut} {
		if d != nil {
			peak = max(peak, d.Usage.PeakRSSBytes)
		}
	}
	if r.Latency != nil {
		peak = max(peak, r.Latency.Usage.PeakRSSBytes)
	}
	if r.Streams != nil {
		peak = max(peak, r.Streams.Usage.PeakRSSBytes)
	}
	for _, br := range r.Brokers {
		peak = max(peak, br.Usage.PeakRSSBytes)
	}
	return peak
}

// share is deliveries/s as a fraction of the raw ceiling.
func (r *results) share(d *deliveryResult) float64 {
	if d == nil || r.Ceiling == nil || r.Ceiling.PerSecond == 0 {
		return 0
	}
	return d.PerSecond / r.Ceiling.PerSecond
}

// judge fills Bars from what was measured; a phase that did not run
// leaves its bar out.
func (r *results) judge() {
	r.Bars = nil
	if r.EndToEnd != nil && r.Ceiling != nil {
		v := r.share(r.EndToEnd)
		r.Bars = append(r.Bars, bar{"end-to-end deliveries/s vs raw ceiling", 100 * v, ">= 20%", v >= minE2EShare})
	}
	if r.FanOut != nil && r.Ceiling != nil {
		v := r.share(r.FanOut)
		r.Bars = append(r.Bars, bar{"fan-out deliveries/s vs raw ceiling", 100 * v, ">= 20%", v >= minE2EShare})
	}
	if r.Latency != nil {
		r.Bars = append(r.Bars, bar{fmt.Sprintf("p99 publish->arrival at %.0f events/s (ms)", r.Latency.TargetRate), r.Latency.P99Ms, "< 100 ms", r.Latency.P99Ms < maxP99Ms})
	}
	if st := r.Streams; st != nil {
		r.Bars = append(r.Bars,
			bar{fmt.Sprintf("p99 publish->stream latency at %s events/s with %d subscribers (ms)", num(st.TargetRate), st.Subscribers), st.P99Ms, "< 100 ms", st.P99Ms < maxP99Ms},
			bar{"stream events missing + subscribers dropped", float64(st.Missing) + float64(st.Dropped), "0", st.Missing == 0 && st.Dropped == 0 && st.Published > 0})
	}
	if peak := r.peakRSS(); peak > 0 {
		v := float64(peak) / bytesPerMB
		r.Bars = append(r.Bars, bar{"hookd peak RSS (MB)", v, "< 150 MB", v < maxPeakRSSMB})
	}
}

// writeTable prints the results as an aligned table, the details of
// each phase and the bars.
func (r *results) writeTable(w io.Writer) error {
	fmt.Fprintf(w, "\nhookd end-to-end benchmark, %s\nmachine: %d CPUs, %s; hookd binary sha256 %s…\ndatabase: %s; hookd nodes: %d; hookd workers: %s; receiver answers after %g ms\n\n",
		r.Date, r.CPUs, r.GoVersion, r.HookdSHA256, r.Database, max(1, r.Nodes), r.Workers, r.ReceiverDelayMs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tresult\tunit\tvs ceiling\tCPU hookd\tbench\tdb\tother\thookd RSS\t")
	var details []string
	if c := r.Ceiling; c != nil {
		row(tw, "raw HTTP ceiling (Go client, 32 conns, ~1 KB)", c.PerSecond, "req/s", "100%", c.Usage, false)
		runs := make([]string, len(c.Runs))
		for i, v := range c.Runs {
			runs[i] = num(v)
		}
		details = append(details, fmt.Sprintf("raw ceiling: measured before and after the hookd phases (%s req/s), the better one shown: %d requests in %.1fs, %d errors",
			strings.Join(runs, " and "), c.Count, c.Seconds, c.Errors))
	}
	if p := r.Publish; p != nil {
		row(tw, fmt.Sprintf("publish, single events, %d publishers", p.Single.Concurrency), p.Single.PerSecond, "events/s", "", p.Usage, true)
		row(tw, fmt.Sprintf("publish, batches of %d, %d publishers", publishBatchSize, p.Batch.Concurrency), p.Batch.PerSecond, "events/s", "", p.Usage, true)
		details = append(details, fmt.Sprintf("publish: single %d events in %.1fs, %d errors%s; batch %d events in %.1fs, %d errors%s; CPU and RSS over both",
			p.Single.Count, p.Single.Seconds, p.Single.Errors, firstErr(p.Single), p.Batch.Count, p.Batch.Seconds, p.Batch.Errors, firstErr(p.Batch)))
	}
	if d := r.EndToEnd; d != nil {
		row(tw, fmt.Sprintf("end to end, %d events -> 1 webhook", d.Events), d.PerSecond, "deliveries/s", pct(r.share(d)), d.Usage, true)
		details = append(details, "end to end: "+deliveryDetail(d))
	}
	if l := r.Latency; l != nil {
		fmt.Fprintf(tw, "latency at %.0f events/s, publish->arrival\tp50 %.1f  p90 %.1f  p99 %.1f  max %.1f\tms\t\t%s\t", l.TargetRate, l.P50Ms, l.P90Ms, l.P99Ms, l.MaxMs, usageCells(l.Usage, true))
		fmt.Fprintln(tw)
		details = append(details, fmt.Sprintf("latency: %d events at %.1f/s, %d errors; the generator was late by <= %.1f ms (p99 counted from the schedule: %.1f ms); 202 answer p50 %.1f ms, p99 %.1f ms",
			l.Events, l.AchievedRate, l.Errors, l.MaxSendLagMs, l.P99FromScheduleMs, l.PublishP50Ms, l.PublishP99Ms))
	}
	if d := r.FanOut; d != nil {
		row(tw, fmt.Sprintf("fan-out, %d webhooks x %d events", d.Webhooks, d.Events), d.PerSecond, "deliveries/s", pct(r.share(d)), d.Usage, true)
		details = append(details, "fan-out: "+deliveryDetail(d))
	}
	if st := r.Streams; st != nil {
		row(tw, fmt.Sprintf("streams, %d SSE subscribers at %s events/s, delivered", st.Subscribers, num(st.TargetRate)), st.PerSecond, "events/s", "", st.Usage, true)
		fmt.Fprintf(tw, "streams, publish->stream latency\tp50 %.1f  p99 %.1f  max %.1f\tms\t\t%s\t", st.P50Ms, st.P99Ms, st.MaxMs, usageCells(st.Usage, true))
		fmt.Fprintln(tw)
		details = append(details, streamDetail(st))
	}
	for _, br := range r.Brokers {
		if br.Skipped != "" {
			details = append(details, fmt.Sprintf("to %s: skipped, %s", br.Broker, br.Skipped))
			continue
		}
		row(tw, fmt.Sprintf("to %s, %d events -> 1 webhook", br.Broker, br.Events), br.PerSecond, "deliveries/s", "", br.Usage, true)
		details = append(details, fmt.Sprintf("to %s (%s): %d events read back by the broker's client in %.2fs; publishing took %.2fs; %d duplicates",
			br.Broker, br.URL, br.Events, br.Seconds, br.PublishSeconds, br.Duplicates))
	}
	details = append(details, isolationRows(tw, r.Isolation)...)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nCPU in %% of one core (%d cores = %d%%)%s; other = the rest of the machine meanwhile%s\n", r.CPUs, 100*r.CPUs, r.nodesNote(), r.databaseNote())
	for _, d := range details {
		fmt.Fprintln(w, "  "+d)
	}
	for _, d := range r.disturbed() {
		fmt.Fprintf(w, "warning: %s\n", d)
	}
	fmt.Fprintln(w, "\nbars")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, b := range r.Bars {
		verdict := "met"
		if !b.Met {
			verdict = "NOT MET"
		}
		fmt.Fprintf(tw, "  %s\t%.1f\t%s\t%s\n", b.Name, b.Value, b.Target, verdict)
	}
	return tw.Flush()
}

// nodesNote says how CPU and RSS combine over several nodes.
func (r *results) nodesNote() string {
	if r.Nodes <= 1 {
		return ""
	}
	return fmt.Sprintf("; CPU hookd sums the %d nodes, hookd RSS is the highest node's", r.Nodes)
}

// databaseNote says where the database's CPU is counted.
func (r *results) databaseNote() string {
	switch {
	case r.DatabaseCPUMeasured:
		return "; db = the PostgreSQL server and its backends"
	case strings.HasPrefix(r.Database, "PostgreSQL"):
		return " (the PostgreSQL server's CPU included, if it runs here)"
	}
	return ""
}

// row prints one throughput row of the table.
func row(w io.Writer, measure string, rate float64, unit, share string, u usage, hookd bool) {
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t\n", measure, num(rate), unit, share, usageCells(u, hookd))
}

// usageCells renders the CPU and RSS cells of a row.
func usageCells(u usage, hookd bool) string {
	h, rss := "-", "-"
	if hookd {
		h, rss = fmt.Sprintf("%.0f%%", u.HookdCPUPercent), fmt.Sprintf("%.0f MB", float64(u.PeakRSSBytes)/bytesPerMB)
	}
	db := "-"
	if u.DatabaseMeasured {
		db = fmt.Sprintf("%.0f%%", u.DatabaseCPUPercent)
	}
	return fmt.Sprintf("%s\t%.0f%%\t%s\t%.0f%%\t%s", h, u.BenchCPUPercent, db, u.OtherCPUPercent, rss)
}

// pct renders a fraction as a percentage.
func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

// maxOtherCPU is how much CPU (percent of one core) the rest of the
// machine may use during a phase before its figures are flagged.
const maxOtherCPU = 20.0

// disturbed lists the phases during which other processes used much CPU.
func (r *results) disturbed() []string {
	var out []string
	check := func(phase string, u usage) {
		if u.OtherCPUPercent > maxOtherCPU || u.StealPercent > maxOtherCPU {
			out = append(out, fmt.Sprintf("other processes used %.0f%% CPU (steal %.0f%%) during %s; its figures are likely low",
				u.OtherCPUPercent, u.StealPercent, phase))
		}
	}
	if r.Ceiling != nil {
		check("the raw ceiling", r.Ceiling.Usage)
	}
	if r.Publish != nil {
		check("publish", r.Publish.Usage)
	}
	if r.EndToEnd != nil {
		check("end to end", r.EndToEnd.Usage)
	}
	if r.Latency != nil {
		check("latency", r.Latency.Usage)
	}
	if r.FanOut != nil {
		check("fan-out", r.FanOut.Usage)
	}
	if r.Streams != nil {
		check("streams", r.Streams.Usage)
	}
	return out
}

// deliveryDetail describes a delivery phase's figures.
func deliveryDetail(d *deliveryResult) string {
	return fmt.Sprintf("%d deliveries in %.2fs; publishing took %.2fs with %d delivered meanwhile, then %s deliveries/s; %d duplicates; body ~%d B%s",
		d.Deliveries, d.Seconds, d.PublishSeconds, d.DeliveredWhilePublishing, num(d.DrainPerSecond), d.Duplicates, d.AvgBodyBytes, nodeDetail(d.Usage))
}

// nodeDetail lists each node's CPU and peak RSS when there are several.
func nodeDetail(u usage) string {
	if len(u.NodeCPUPercent) < 2 {
		return ""
	}
	parts := make([]string, len(u.NodeCPUPercent))
	for i, c := range u.NodeCPUPercent {
		parts[i] = fmt.Sprintf("%.0f%%", c)
		if i < len(u.NodePeakRSSBytes) {
			parts[i] += fmt.Sprintf(" %.0f MB", float64(u.NodePeakRSSBytes[i])/bytesPerMB)
		}
	}
	return "; per node CPU, RSS: " + strings.Join(parts, ", ")
}

// streamDetail describes the stream phase's figures.
func streamDetail(st *streamResult) string {
	s := fmt.Sprintf("streams: %d events published at %.1f/s (%d errors, generator late by <= %.1f ms); %d of %d (events x subscribers) read in %.2fs; %d missing, %d duplicates, %d subscribers dropped",
		st.Published, st.AchievedRate, st.PublishErrors, st.MaxSendLagMs, st.Received, st.Expected, st.Seconds, st.Missing, st.Duplicates, st.Dropped)
	if len(st.DropReasons) > 0 {
		s += " (" + strings.Join(st.DropReasons, "; ") + ")"
	}
	return s
}

// writeJSON prints the results as indented JSON.
func (r *results) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// firstErr shows a rate's first error, if any.
func firstErr(r rateResult) string {
	if r.FirstError == "" {
		return ""
	}
	return " (first: " + r.FirstError + ")"
}

// num formats a rate with thousands separators and no decimals.
func num(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
