// Package statstally turns delivery counts grouped by hour, event type,
// state and error type into a webhook's stats report. Both stores use it,
// so labels, averages and orderings agree by construction.
package statstally

import (
	"sort"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// HourMs is an hour in milliseconds.
const HourMs = int64(time.Hour / time.Millisecond)

// New returns an empty tally for group_by hour, day, week or month ("" is
// day); other values answer EBadRequest.
func New(groupBy string) (*Tally, error) {
	switch groupBy {
	case "":
		groupBy = "day"
	case "hour", "day", "week", "month":
	default:
		return nil, hookd.Errorf(hookd.EBadRequest, "group_by must be hour, day, week or month")
	}
	return &Tally{groupBy: groupBy, byType: map[string]*statsAcc{},
		buckets: map[string]*statsAcc{}, errors: map[string]int64{}}, nil
}

// BucketLabel formats the label of the bucket holding t (UTC) per
// docs/api.md §7: hour 2024-01-15T10:00:00Z, day 2024-01-15, week its Monday,
// month 2024-01.
func BucketLabel(groupBy string, t time.Time) string {
	switch groupBy {
	case "hour":
		return t.Truncate(time.Hour).Format("2006-01-02T15:04:05Z")
	case "week":
		monday := t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
		return monday.Format("2006-01-02")
	case "month":
		return t.Format("2006-01")
	default:
		return t.Format("2006-01-02")
	}
}

// statsAcc accumulates counts and response times.
type statsAcc struct {
	total, successful, failed int64
	rtSum, attempts           int64
}

// add adds n deliveries in state with their attempts and response times.
func (a *statsAcc) add(state hookd.DeliveryState, n, attempts, rtSum int64) {
	a.total += n
	switch state {
	case hookd.StateSuccess:
		a.successful += n
	case hookd.StateFailed:
		a.failed += n
	}
	a.rtSum += rtSum
	a.attempts += attempts
}

// avg is the mean response time over attempts, in ms.
func (a *statsAcc) avg() float64 {
	if a.attempts == 0 {
		return 0
	}
	return float64(a.rtSum) / float64(a.attempts)
}

// Tally gathers grouped delivery counts into a stats report.
type Tally struct {
	groupBy string
	sum     statsAcc
	retries int64
	byType  map[string]*statsAcc
	buckets map[string]*statsAcc
	errors  map[string]int64
	// The label of the last hour seen: rows come grouped by hour.
	lastHour  int64
	lastLabel string
}

// Add takes one group of deliveries: n of them, created in the hour
// (unix ms / HourMs), with their attempts, the attempted ones among
// them and the sum of their attempts' response times.
func (t *Tally) Add(hour int64, eventType string, state hookd.DeliveryState, errorType string, n, attempts, attempted, rtSum int64) {
	t.sum.add(state, n, attempts, rtSum)
	t.retries += attempts - attempted // attempts after the first of each delivery
	if t.byType[eventType] == nil {
		t.byType[eventType] = &statsAcc{}
	}
	t.byType[eventType].add(state, n, attempts, rtSum)
	if t.lastLabel == "" || hour != t.lastHour {
		t.lastHour, t.lastLabel = hour, BucketLabel(t.groupBy, time.UnixMilli(hour*HourMs).UTC())
	}
	label := t.lastLabel
	if t.buckets[label] == nil {
		t.buckets[label] = &statsAcc{}
	}
	t.buckets[label].add(state, n, attempts, rtSum)
	if state == hookd.StateFailed {
		t.errors[errorType] += n
	}
}

// Report sorts the tally into the answer: event types by count then
// name, buckets by label, error types by count then name.
func (t *Tally) Report() *hookd.WebhookStatsReport {
	r := &hookd.WebhookStatsReport{
		TotalEvents:     t.sum.total,
		Successful:      t.sum.successful,
		Failed:          t.sum.failed,
		AvgResponseTime: t.sum.avg(),
		TotalRetries:    t.retries,
		EventsByType:    []hookd.EventTypeCount{},
		TimeSeries:      []hookd.TimeBucket{},
		ErrorBreakdown:  []hookd.ErrorCount{},
	}
	for name, a := range t.byType {
		r.EventsByType = append(r.EventsByType, hookd.EventTypeCount{
			Event: name, Count: a.total, Successful: a.successful, Failed: a.failed})
	}
	sort.Slice(r.EventsByType, func(i, j int) bool {
		a, b := r.EventsByType[i], r.EventsByType[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Event < b.Event
	})
	for label, a := range t.buckets {
		r.TimeSeries = append(r.TimeSeries, hookd.TimeBucket{
			Label: label, Total: a.total, Successful: a.successful, Failed: a.failed, AvgResponseTime: a.avg()})
	}
	sort.Slice(r.TimeSeries, func(i, j int) bool { return r.TimeSeries[i].Label < r.TimeSeries[j].Label })
	for errType, n := range t.errors {
		r.ErrorBreakdown = append(r.ErrorBreakdown, hookd.ErrorCount{ErrorType: errType, Count: n})
	}
	sort.Slice(r.ErrorBreakdown, func(i, j int) bool {
		a, b := r.ErrorBreakdown[i], r.ErrorBreakdown[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.ErrorType < b.ErrorType
	})
	return r
}

// StatusCount is how many of n deliveries in state, attempted of them at
// least once, have the logs' API status ("" any, "success", "failed",
// "pending"): a pending delivery that was attempted is failing, so it
// counts as failed until it succeeds.
func StatusCount(status string, state hookd.DeliveryState, n, attempted int64) int64 {
	switch status {
	case "":
		return n
	case "success":
		if state == hookd.StateSuccess {
			return n
		}
	case "failed":
		if state == hookd.StateFailed {
			return n
		}
		if state == hookd.StatePending {
			return attempted
		}
	case "pending":
		if state == hookd.StatePending {
			return n - attempted
		}
	}
	return 0
}
