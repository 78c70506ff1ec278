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
	minE2EShare      = 0.30 // end-to-end deliveries/s as a share of the raw ceiling
	minSingleShare   = 0.15 // single-event publishes' deliveries/s, likewise
	minFanOutShare   = 0.35
	maxE2ERSSMB      = 64.0  // hookd's peak RSS during the end-to-end phase
	minBacklogRatio  = 0.8   // backlog drain rate over the empty-queue one
	maxBacklogRSSMB  = 128.0 // hookd's peak RSS while draining the backlog
	minPostgresRatio = 0.7   // PostgreSQL end to end over SQLite's
	maxStreamP99Ms   = 100.0
	bytesPerMB       = 1_000_000
)

// latencyBar is the p99 publish→arrival bar at a steady rate, counted
// from when each event was due: at most 15 ms at 500 events/s and 50 ms
// at 2,000. Other rates have no bar (ok false).
func latencyBar(rate float64) (maxMs float64, ok bool) {
	switch rate {
	case 500:
		return 15, true
	case 2000:
		return 50, true
	}
	return 0, false
}

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
	HookdSHA256 string              `json:"hookd_sha256"`
	Ceiling     *ceilingResult      `json:"raw_http_ceiling,omitempty"`
	Publish     *publishResult      `json:"publish,omitempty"`
	EndToEnd    *deliveryResult     `json:"end_to_end,omitempty"`
	Single      *singleResult       `json:"single_end_to_end,omitempty"`
	Latency     []latencyResult     `json:"latency,omitempty"` // one per rate
	Postgres    *postgresResult     `json:"postgres,omitempty"`
	Backlog     *backlogPhaseResult `json:"backlog,omitempty"`
	FanOut      *deliveryResult     `json:"fan_out,omitempty"`
	Streams     *streamResult       `json:"streams,omitempty"`
	Isolation   []isolationResult   `json:"isolation,omitempty"`
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

// share is deliveries/s as a fraction of the raw ceiling.
func (r *results) share(d *deliveryResult) float64 {
	if d == nil {
		return 0
	}
	return r.shareOf(d.PerSecond)
}

// shareOf is a rate as a fraction of the raw ceiling (0 without one).
func (r *results) shareOf(rate float64) float64 {
	if r.Ceiling == nil || r.Ceiling.PerSecond == 0 {
		return 0
	}
	return rate / r.Ceiling.PerSecond
}

// judge fills Bars from what was measured; a phase that did not run
// leaves its bar out.
func (r *results) judge() {
	r.Bars = nil
	add := func(name string, value float64, target string, met bool) {
		r.Bars = append(r.Bars, bar{name, value, target, met})
	}
	if r.EndToEnd != nil && r.Ceiling != nil {
		v := r.share(r.EndToEnd)
		add("end-to-end deliveries/s vs raw ceiling (%)", 100*v, ">= 30%", v >= minE2EShare)
	}
	if sg := r.Single; sg != nil {
		if r.Ceiling != nil {
			v := r.shareOf(sg.PerSecond)
			add("single-event publishes, end-to-end deliveries/s vs raw ceiling (%)", 100*v, ">= 15%", v >= minSingleShare)
		}
		add("single-event publishes refused or unanswered", float64(sg.Refused+sg.Failed), "0", sg.Refused+sg.Failed == 0)
	}
	if r.FanOut != nil && r.Ceiling != nil {
		v := r.share(r.FanOut)
		add("fan-out deliveries/s vs raw ceiling (%)", 100*v, ">= 35%", v >= minFanOutShare)
	}
	for _, l := range r.Latency {
		if limit, ok := latencyBar(l.TargetRate); ok {
			add(fmt.Sprintf("p99 publish->arrival at %s events/s, from the schedule (ms)", num(l.TargetRate)), l.P99FromScheduleMs,
				fmt.Sprintf("<= %.0f ms", limit), l.P99FromScheduleMs <= limit && l.Events > 0)
		}
		add(fmt.Sprintf("publishes refused or unanswered at %s events/s", num(l.TargetRate)), float64(l.Errors), "0", l.Errors == 0)
	}
	if r.EndToEnd != nil && r.EndToEnd.Usage.PeakRSSBytes > 0 {
		v := float64(r.EndToEnd.Usage.PeakRSSBytes) / bytesPerMB
		add("hookd peak RSS during the end-to-end phase (MB)", v, "<= 64 MB", v <= maxE2ERSSMB)
	}
	if bl := r.Backlog; bl != nil && bl.Backlog != nil && bl.Reference != nil {
		v := bl.ratio()
		add(fmt.Sprintf("backlog of %s drain rate vs the empty-queue drain (%%)", num(float64(bl.Backlog.Events))), 100*v, ">= 80%", v >= minBacklogRatio)
		rss := float64(bl.Backlog.Usage.PeakRSSBytes) / bytesPerMB
		add("hookd peak RSS draining the backlog (MB)", rss, "<= 128 MB", rss <= maxBacklogRSSMB)
	}
	if pg := r.Postgres; pg != nil && pg.EndToEnd != nil && r.EndToEnd != nil && r.EndToEnd.PerSecond > 0 {
		v := pg.EndToEnd.PerSecond / r.EndToEnd.PerSecond
		add("PostgreSQL end-to-end deliveries/s vs SQLite's (%)", 100*v, ">= 70%", v >= minPostgresRatio)
	}
	if st := r.Streams; st != nil {
		add(fmt.Sprintf("p99 publish->stream latency at %s events/s with %d subscribers (ms)", num(st.TargetRate), st.Subscribers), st.P99Ms, "< 100 ms", st.P99Ms < maxStreamP99Ms)
		add("stream events missing + subscribers dropped", float64(st.Missing)+float64(st.Dropped), "0", st.Missing == 0 && st.Dropped == 0 && st.Published > 0)
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
	if sg := r.Single; sg != nil {
		row(tw, fmt.Sprintf("end to end, %d single-event publishes, %d publishers", sg.Events, sg.Publishers), sg.PerSecond, "deliveries/s", pct(r.shareOf(sg.PerSecond)), sg.Usage, true)
		details = append(details, singleDetail(sg))
	}
	for _, l := range r.Latency {
		fmt.Fprintf(tw, "latency at %s events/s, publish->arrival\tp50 %.1f  p90 %.1f  p99 %.1f  max %.1f\tms\t\t%s\t", num(l.TargetRate), l.P50Ms, l.P90Ms, l.P99Ms, l.MaxMs, usageCells(l.Usage, true))
		fmt.Fprintln(tw)
		details = append(details, latencyDetail(&l))
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
	if pg := r.Postgres; pg != nil {
		if pg.Skipped != "" {
			details = append(details, "PostgreSQL end to end: skipped, "+pg.Skipped)
		} else if d := pg.EndToEnd; d != nil {
			row(tw, fmt.Sprintf("PostgreSQL end to end, %d events -> 1 webhook", d.Events), d.PerSecond, "deliveries/s", pct(r.share(d)), d.Usage, true)
			vs := ""
			if r.EndToEnd != nil && r.EndToEnd.PerSecond > 0 {
				vs = fmt.Sprintf(" = %.2f x SQLite's", d.PerSecond/r.EndToEnd.PerSecond)
			}
			details = append(details, fmt.Sprintf("PostgreSQL end to end (%s, one node)%s: %s", pg.Database, vs, deliveryDetail(d)))
		}
	}
	if bl := r.Backlog; bl != nil {
		details = append(details, backlogRows(tw, bl, r.EndToEnd)...)
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
	if r.Single != nil {
		check("single-event publishes", r.Single.Usage)
	}
	for _, l := range r.Latency {
		check("latency at "+num(l.TargetRate)+" events/s", l.Usage)
	}
	if r.Postgres != nil && r.Postgres.EndToEnd != nil {
		check("PostgreSQL end to end", r.Postgres.EndToEnd.Usage)
	}
	if bl := r.Backlog; bl != nil {
		for _, b := range []*backlogResult{bl.Reference, bl.Backlog} {
			if b != nil {
				check(fmt.Sprintf("the drain of %s", num(float64(b.Events))), b.Usage)
			}
		}
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

// singleDetail describes the single-event phase's figures.
func singleDetail(sg *singleResult) string {
	refused := "none refused"
	if sg.Refused > 0 {
		refused = fmt.Sprintf("%d REFUSED (%s)", sg.Refused, describeRefused(sg.RefusedBy))
	}
	s := fmt.Sprintf("single-event publishes (hookd's default limits): %d publishes from %d publishers answered in %.2fs (%s accepted/s), %s, %d unanswered%s; 202 answer p50 %.1f ms, p99 %.1f ms; %d deliveries in %.2fs from the first publish; %d duplicates",
		sg.Events, sg.Publishers, sg.PublishSeconds, num(sg.PublishRate), refused, sg.Failed, firstErrOf(sg.FirstError), sg.PublishP50Ms, sg.PublishP99Ms, sg.Accepted, sg.Seconds, sg.Duplicates)
	return s
}

// latencyDetail describes one latency measure's figures.
func latencyDetail(l *latencyResult) string {
	refused := "none refused"
	if l.Refused > 0 {
		refused = fmt.Sprintf("%d REFUSED (%s)", l.Refused, describeRefused(l.RefusedBy))
	}
	return fmt.Sprintf("latency at %s/s (hookd's default limits, %d publishers): %d events at %.1f/s, %d not accepted, %s; the generator was late by <= %.1f ms; p99 counted from the schedule: %.1f ms; 202 answer p50 %.1f ms, p99 %.1f ms",
		num(l.TargetRate), l.Publishers, l.Events, l.AchievedRate, l.Errors, refused, l.MaxSendLagMs, l.P99FromScheduleMs, l.PublishP50Ms, l.PublishP99Ms)
}

// backlogRows prints the backlog phase's rows and returns its details;
// e2e (nil when that phase did not run) is compared with, for context.
func backlogRows(w io.Writer, bl *backlogPhaseResult, e2e *deliveryResult) []string {
	details := []string{fmt.Sprintf("backlog: each backlog published in batches of %d while the endpoint's port refused connections (hookd also given %s; the circuit breaker holds the deliveries pending), then hookd stopped (SIGTERM), the endpoint started on that port, hookd started again on the same database; drain = from that start to the last arrival, leaving out the deliveries that failed before the circuit opened (from the logs API), whose retries wait for their backoff; the empty-queue rate is a backlog of %s drained the same way",
		e2eBatchSize, strings.Join(bl.Env, " "), referenceEvents(bl))}
	for _, b := range []*backlogResult{bl.Reference, bl.Backlog} {
		if b == nil {
			continue
		}
		row(w, fmt.Sprintf("backlog of %s pending, drain after restart", num(float64(b.Events))), b.DrainPerSecond, "deliveries/s", "", b.Usage, true)
		d := fmt.Sprintf("backlog of %s: built in %.1fs (%s events/s, hookd peak RSS %.0f MB), circuit %s, webhook active %v; at rest with the backlog loaded hookd RSS %.0f MB",
			num(float64(b.Events)), b.BuildSeconds, num(b.BuildPerSecond), float64(b.BuildPeakRSS)/bytesPerMB, b.CircuitAtRest, b.Active, float64(b.RestRSS)/bytesPerMB)
		if b.DatabaseBytes > 0 {
			d += fmt.Sprintf(", SQLite file %.0f MB", float64(b.DatabaseBytes)/bytesPerMB)
		}
		d += fmt.Sprintf("; restart: healthy after %.2fs, first arrival after %.2fs, %s drained in %.2fs (%d failed before the circuit opened left out, %d of them arrived anyway); %d duplicates; peak RSS while draining %.0f MB",
			b.StartSeconds, b.FirstArrivalSeconds, num(float64(b.Drained)), b.DrainSeconds, b.Excluded, b.ExcludedArrived, b.Duplicates, float64(b.Usage.PeakRSSBytes)/bytesPerMB)
		if b == bl.Backlog && bl.Reference != nil {
			d += fmt.Sprintf("; drain rate %.2f x the empty-queue drain's", bl.ratio())
		}
		if b == bl.Backlog && e2e != nil && e2e.PerSecond > 0 {
			d += fmt.Sprintf(", %.2f x the end-to-end phase's rate", b.DrainPerSecond/e2e.PerSecond)
		}
		details = append(details, d)
	}
	return details
}

// referenceEvents names the size of the backlog phase's reference.
func referenceEvents(bl *backlogPhaseResult) string {
	if bl.Reference == nil {
		return "(not measured)"
	}
	return num(float64(bl.Reference.Events))
}

// firstErrOf shows a first error, if any.
func firstErrOf(e string) string {
	if e == "" {
		return ""
	}
	return " (first: " + e + ")"
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
