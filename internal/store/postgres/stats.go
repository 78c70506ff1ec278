package postgres

import (
	"context"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hookd"
)

// hourMs is an hour in milliseconds.
const hourMs = int64(time.Hour / time.Millisecond)

// bucketLabel formats the label of the bucket holding t (UTC) per
// CONTRACT §7: hour 2024-01-15T10:00:00Z, day 2024-01-15, week its Monday,
// month 2024-01.
func bucketLabel(groupBy string, t time.Time) string {
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

// statsTally gathers the groups statsQuery answers into a report.
type statsTally struct {
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

// add takes one group of deliveries.
func (t *statsTally) add(hour int64, eventType string, state hookd.DeliveryState, errorType string, n, attempts, attempted, rtSum int64) {
	t.sum.add(state, n, attempts, rtSum)
	t.retries += attempts - attempted // attempts after the first of each delivery
	if t.byType[eventType] == nil {
		t.byType[eventType] = &statsAcc{}
	}
	t.byType[eventType].add(state, n, attempts, rtSum)
	if t.lastLabel == "" || hour != t.lastHour {
		t.lastHour, t.lastLabel = hour, bucketLabel(t.groupBy, time.UnixMilli(hour*hourMs).UTC())
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

// Stats reports a webhook's non-test deliveries created in [q.Start,
// q.End]: totals (Failed counts deliveries failed for good), events by
// type (count descending, then name), the time series by q.GroupBy (label
// order, empty buckets left out) and the last error types of deliveries
// that failed for good (count descending, then name). Response times are
// means over attempts, in ms. GroupBy "" means day; values other than
// hour, day, week and month answer EBadRequest. Whole hours are read from
// delivery_stats, the partial hours at the window's edges counted from
// deliveries (see readGroups), so the cost follows the window's hours,
// not its deliveries.
func (s *Store) Stats(ctx context.Context, owner hookd.Owner, webhookID int64, q hookd.StatsQuery) (*hookd.WebhookStatsReport, error) {
	groupBy := q.GroupBy
	switch groupBy {
	case "":
		groupBy = "day"
	case "hour", "day", "week", "month":
	default:
		return nil, hookd.Errorf(hookd.EBadRequest, "group_by must be hour, day, week or month")
	}
	t := &statsTally{groupBy: groupBy, byType: map[string]*statsAcc{},
		buckets: map[string]*statsAcc{}, errors: map[string]int64{}}
	err := s.snapshot(ctx, func(tx pgx.Tx) error {
		if err := ownWebhook(ctx, tx, owner, webhookID); err != nil {
			return err
		}
		groups, err := readGroups(ctx, tx, webhookID, &q.Start, &q.End, "", nil)
		for _, g := range groups {
			t.add(g.hour.UnixMilli()/hourMs, g.eventType, hookd.DeliveryState(g.state), g.errorType,
				g.deliveries, g.attempts, g.attempted, g.rt)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return t.report(), nil
}

// report sorts the tally into the answer.
func (t *statsTally) report() *hookd.WebhookStatsReport {
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
