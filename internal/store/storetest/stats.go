package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// statsTests cover Stats.
var statsTests = []test{
	{"StatsBuckets", testStatsBuckets},
	{"StatsTotals", testStatsTotals},
}

// at parses an RFC 3339 time.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func testStatsBuckets(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	start, end := at(t, "2024-01-14T23:30:00Z"), at(t, "2024-02-01T00:00:00Z")
	type delivery struct {
		created string
		o       outcome
	}
	inWindow := []delivery{
		{"2024-01-14T23:30:00Z", succeeded(100)}, // a Sunday, exactly at Start
		{"2024-01-15T10:15:00Z", succeeded(200)}, // the Monday after
		{"2024-01-15T10:45:00Z", failed("timeout", 400)},
		{"2024-01-31T23:59:59.999Z", succeeded(10)},
		{"2024-02-01T00:00:00Z", succeeded(20)}, // exactly at End
	}
	outside := []string{"2024-01-14T23:29:59.999Z", "2024-02-01T00:00:00.001Z"}
	outcomes := map[string]outcome{}
	for _, d := range inWindow {
		ev := f.publish(alice.Tenant, "order.created", at(t, d.created), w.ID)
		outcomes[ev.ID] = d.o
	}
	for _, s := range outside {
		ev := f.publish(alice.Tenant, "order.created", at(t, s), w.ID)
		outcomes[ev.ID] = succeeded(1)
	}
	f.deliver(at(t, "2024-02-02T00:00:00Z"), 0, func(c hookd.Claim) outcome { return outcomes[c.Event.ID] })

	tests := []struct {
		groupBy string
		want    []hookd.TimeBucket
	}{
		{"hour", []hookd.TimeBucket{
			{Label: "2024-01-14T23:00:00Z", Total: 1, Successful: 1, AvgResponseTime: 100},
			{Label: "2024-01-15T10:00:00Z", Total: 2, Successful: 1, Failed: 1, AvgResponseTime: 300},
			{Label: "2024-01-31T23:00:00Z", Total: 1, Successful: 1, AvgResponseTime: 10},
			{Label: "2024-02-01T00:00:00Z", Total: 1, Successful: 1, AvgResponseTime: 20},
		}},
		{"day", []hookd.TimeBucket{
			{Label: "2024-01-14", Total: 1, Successful: 1, AvgResponseTime: 100},
			{Label: "2024-01-15", Total: 2, Successful: 1, Failed: 1, AvgResponseTime: 300},
			{Label: "2024-01-31", Total: 1, Successful: 1, AvgResponseTime: 10},
			{Label: "2024-02-01", Total: 1, Successful: 1, AvgResponseTime: 20},
		}},
		{"", []hookd.TimeBucket{ // day by default
			{Label: "2024-01-14", Total: 1, Successful: 1, AvgResponseTime: 100},
			{Label: "2024-01-15", Total: 2, Successful: 1, Failed: 1, AvgResponseTime: 300},
			{Label: "2024-01-31", Total: 1, Successful: 1, AvgResponseTime: 10},
			{Label: "2024-02-01", Total: 1, Successful: 1, AvgResponseTime: 20},
		}},
		{"week", []hookd.TimeBucket{
			{Label: "2024-01-08", Total: 1, Successful: 1, AvgResponseTime: 100}, // Sunday 14th: week of Monday 8th
			{Label: "2024-01-15", Total: 2, Successful: 1, Failed: 1, AvgResponseTime: 300},
			{Label: "2024-01-29", Total: 2, Successful: 2, AvgResponseTime: 15}, // Wed 31st and Thu 1st
		}},
		{"month", []hookd.TimeBucket{
			{Label: "2024-01", Total: 4, Successful: 3, Failed: 1, AvgResponseTime: 177.5},
			{Label: "2024-02", Total: 1, Successful: 1, AvgResponseTime: 20},
		}},
	}
	for _, tc := range tests {
		t.Run("group_by="+tc.groupBy, func(t *testing.T) {
			r, err := f.s.Stats(f.ctx, alice, w.ID, hookd.StatsQuery{Start: start, End: end, GroupBy: tc.groupBy})
			if err != nil {
				t.Fatal(err)
			}
			if !sameBuckets(r.TimeSeries, tc.want) {
				t.Errorf("time series =\n%+v\nwant\n%+v", r.TimeSeries, tc.want)
			}
			if r.TotalEvents != 5 || r.Successful != 4 || r.Failed != 1 {
				t.Errorf("totals = %d/%d/%d, want 5/4/1", r.TotalEvents, r.Successful, r.Failed)
			}
		})
	}
	_, err := f.s.Stats(f.ctx, alice, w.ID, hookd.StatsQuery{Start: start, End: end, GroupBy: "minute"})
	wantCode(t, "Stats group_by minute", err, hookd.EBadRequest)
	_, err = f.s.Stats(f.ctx, alice, 999999, hookd.StatsQuery{Start: start, End: end, GroupBy: "day"})
	wantCode(t, "Stats missing webhook", err, hookd.ENotFound)
	r, err := f.s.Stats(f.ctx, alice, w.ID, hookd.StatsQuery{Start: end.Add(time.Hour), End: end.Add(2 * time.Hour), GroupBy: "day"})
	if err != nil || r.TotalEvents != 0 || len(r.TimeSeries) != 0 || len(r.EventsByType) != 0 || len(r.ErrorBreakdown) != 0 || r.AvgResponseTime != 0 {
		t.Errorf("empty window = %+v, %v", r, err)
	}
}

// sameBuckets compares time series, averages to 1e-6.
func sameBuckets(got, want []hookd.TimeBucket) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if !near(g.AvgResponseTime, w.AvgResponseTime) {
			return false
		}
		g.AvgResponseTime, w.AvgResponseTime = 0, 0
		if g != w {
			return false
		}
	}
	return true
}

func testStatsTotals(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	other := f.hook(alice, "other")
	now1, now2 := base.Add(10*time.Minute), base.Add(20*time.Minute)
	far := base.Add(100 * time.Hour)
	first := map[string]outcome{}
	second := map[string]outcome{}
	add := func(minute int, eventType string, o1 outcome, o2 *outcome) {
		ev := f.publish(alice.Tenant, eventType, base.Add(time.Duration(minute)*time.Minute), w.ID)
		first[ev.ID] = o1
		if o2 != nil {
			second[ev.ID] = *o2
		}
	}
	add(0, "order.created", succeeded(100), nil)
	add(1, "order.created", retried(failed("timeout", 1000), now2), ptr(succeeded(200)))
	add(2, "order.updated", retried(failed("timeout", 400), now2), ptr(httpFailed(500, 30)))
	add(3, "order.updated", failed("timeout", 50), nil)
	add(4, "payment.received", failed("timeout", 50), nil)
	add(6, "order.created", retried(failed("connection_error", 10), far), nil)
	// Not counted: another webhook's, one outside the window.
	ev := f.publish(alice.Tenant, "order.created", base, other.ID)
	first[ev.ID] = failed("dns_error", 5)
	ev = f.publish(alice.Tenant, "order.created", base.Add(-2*time.Hour), w.ID)
	first[ev.ID] = failed("dns_error", 5)
	f.deliver(now1, 0, func(c hookd.Claim) outcome { return first[c.Event.ID] })
	f.deliver(now2, 0, func(c hookd.Claim) outcome { return second[c.Event.ID] })
	f.publish(alice.Tenant, "payment.received", base.Add(5*time.Minute), w.ID) // never attempted
	testEv := f.event(alice.Tenant, "order.created", base.Add(7*time.Minute))
	if err := recordTestSend(f, &testEv, &hookd.Delivery{WebhookID: w.ID},
		&hookd.Attempt{StartedAt: testEv.CreatedAt, ResponseTimeMs: 9999, ErrorType: "tls_error"}); err != nil {
		t.Fatal(err)
	}

	r, err := f.s.Stats(f.ctx, alice, w.ID, hookd.StatsQuery{Start: base.Add(-time.Hour), End: base.Add(time.Hour), GroupBy: "day"})
	if err != nil {
		t.Fatal(err)
	}
	if r.TotalEvents != 7 || r.Successful != 2 || r.Failed != 3 || r.TotalRetries != 2 || !near(r.AvgResponseTime, 230) {
		t.Errorf("totals = events %d ok %d failed %d retries %d avg %v; want 7 2 3 2 230",
			r.TotalEvents, r.Successful, r.Failed, r.TotalRetries, r.AvgResponseTime)
	}
	wantTypes := []hookd.EventTypeCount{
		{Event: "order.created", Count: 3, Successful: 2},
		{Event: "order.updated", Count: 2, Failed: 2},
		{Event: "payment.received", Count: 2, Failed: 1},
	}
	if !reflect.DeepEqual(r.EventsByType, wantTypes) {
		t.Errorf("events by type = %+v, want %+v", r.EventsByType, wantTypes)
	}
	wantErrors := []hookd.ErrorCount{{ErrorType: "timeout", Count: 2}, {ErrorType: "http_500", Count: 1}}
	if !reflect.DeepEqual(r.ErrorBreakdown, wantErrors) {
		t.Errorf("error breakdown = %+v, want %+v", r.ErrorBreakdown, wantErrors)
	}
	wantSeries := []hookd.TimeBucket{{Label: "2024-01-15", Total: 7, Successful: 2, Failed: 3, AvgResponseTime: 230}}
	if !sameBuckets(r.TimeSeries, wantSeries) {
		t.Errorf("time series = %+v, want %+v", r.TimeSeries, wantSeries)
	}
}
