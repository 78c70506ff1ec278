package postgres

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// hourOf is the delivery_stats hour holding t: the UTC hour it falls in,
// as date_bin('1 hour', t, '2000-01-01 00:00:00+00') gives it in SQL.
func hourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// sqlHour is hourOf in SQL, for a timestamptz column or expression.
func sqlHour(col string) string {
	return "date_bin('1 hour', " + col + ", timestamptz '2000-01-01 00:00:00+00')"
}

// statsKey names one delivery_stats row.
type statsKey struct {
	webhookID                   int64
	hour                        time.Time
	eventType, state, errorType string
}

// statsDelta is a change to one delivery_stats row.
type statsDelta struct {
	deliveries, attempts, attempted, rt int64
}

// statsDeltas gathers a transaction's changes to delivery_stats.
type statsDeltas map[statsKey]*statsDelta

// add adds a delivery (n = 1) or takes one away (n = -1) from a row, with
// its attempts and summed response time.
func (m statsDeltas) add(k statsKey, n, attempts, rt int64) {
	d := m[k]
	if d == nil {
		d = &statsDelta{}
		m[k] = d
	}
	d.deliveries += n
	d.attempts += n * attempts
	if attempts > 0 {
		d.attempted += n
	}
	d.rt += n * rt
}

// move records a delivery leaving one row for another.
func (m statsDeltas) move(from, to statsKey, fromAttempts, fromRt, toAttempts, toRt int64) {
	m.add(from, -1, fromAttempts, fromRt)
	m.add(to, 1, toAttempts, toRt)
}

// addStats applies statsDeltas' arrays ($1..$9) to delivery_stats, rows
// taken in key order. Every caller holds the webhooks' counter rows, so
// two writers never wait for each other's rows here.
const addStats = `INSERT INTO delivery_stats AS s (webhook_id, hour, event_type, state, error_type,
		deliveries, attempts, attempted, response_time_sum_ms)
	SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
		$6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
	ORDER BY 1, 2, 3, 4, 5
	ON CONFLICT (webhook_id, hour, event_type, state, error_type) DO UPDATE SET
		deliveries = s.deliveries + excluded.deliveries, attempts = s.attempts + excluded.attempts,
		attempted = s.attempted + excluded.attempted,
		response_time_sum_ms = s.response_time_sum_ms + excluded.response_time_sum_ms`

// args returns addStats' arrays, leaving out changes that cancel out.
func (m statsDeltas) args() []any {
	keys := make([]statsKey, 0, len(m))
	for k, d := range m {
		if *d != (statsDelta{}) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	n := len(keys)
	ids, hours := make([]int64, n), make([]time.Time, n)
	types, states, errs := make([]string, n), make([]string, n), make([]string, n)
	ds, as, ats, rts := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, k := range keys {
		d := m[k]
		ids[i], hours[i], types[i], states[i], errs[i] = k.webhookID, k.hour, k.eventType, k.state, k.errorType
		ds[i], as[i], ats[i], rts[i] = d.deliveries, d.attempts, d.attempted, d.rt
	}
	return []any{ids, hours, types, states, errs, ds, as, ats, rts}
}

// less orders keys as the table's primary key does (text in byte order).
func (k statsKey) less(o statsKey) bool {
	switch {
	case k.webhookID != o.webhookID:
		return k.webhookID < o.webhookID
	case !k.hour.Equal(o.hour):
		return k.hour.Before(o.hour)
	case k.eventType != o.eventType:
		return k.eventType < o.eventType
	case k.state != o.state:
		return k.state < o.state
	default:
		return k.errorType < o.errorType
	}
}

// empty reports whether there is nothing to write.
func (m statsDeltas) empty() bool {
	for _, d := range m {
		if *d != (statsDelta{}) {
			return false
		}
	}
	return true
}

// deliveryGroup is a count of a webhook's non-test deliveries created in
// one hour with one event type, state and error type.
type deliveryGroup struct {
	hour                                time.Time
	eventType, state, errorType         string
	deliveries, attempts, attempted, rt int64
}

// timeRange is [from, to), or [from, to] when closed.
type timeRange struct {
	from, to time.Time
	closed   bool
}

// windowPlan splits a window into whole hours read from delivery_stats
// and partial hours counted from deliveries.
type windowPlan struct {
	empty              bool
	noWhole            bool
	wholeFrom, wholeTo *time.Time // hours in [wholeFrom, wholeTo); nil: unbounded
	partial            []timeRange
}

// planWindow splits [start, end] (either may be nil: unbounded).
func planWindow(start, end *time.Time) windowPlan {
	var p windowPlan
	if start != nil && end != nil {
		if end.Before(*start) {
			return windowPlan{empty: true}
		}
		if hourOf(*start).Equal(hourOf(*end)) {
			return windowPlan{noWhole: true, partial: []timeRange{{*start, *end, true}}}
		}
	}
	if start != nil {
		from := hourOf(*start)
		if !from.Equal(*start) {
			next := from.Add(time.Hour)
			p.partial = append(p.partial, timeRange{from: *start, to: next})
			from = next
		}
		p.wholeFrom = &from
	}
	if end != nil {
		to := hourOf(*end)
		p.partial = append(p.partial, timeRange{from: to, to: *end, closed: true})
		p.wholeTo = &to
	}
	return p
}

// readGroups returns the groups of a webhook's non-test deliveries
// created in [start, end], with event types matching the condition cond
// (on d.event_type, its arguments numbered from $2). Whole hours come
// from delivery_stats, partial ones are counted from deliveries.
func readGroups(ctx context.Context, q querier, webhookID int64, start, end *time.Time, cond string, condArgs []any) ([]deliveryGroup, error) {
	plan := planWindow(start, end)
	if plan.empty {
		return nil, nil
	}
	args := append([]any{webhookID}, condArgs...)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	var parts []string
	if !plan.noWhole {
		where := " WHERE d.webhook_id = $1 AND d.deliveries <> 0" + cond
		if plan.wholeFrom != nil {
			where += " AND d.hour >= " + arg(*plan.wholeFrom)
		}
		if plan.wholeTo != nil {
			where += " AND d.hour < " + arg(*plan.wholeTo)
		}
		parts = append(parts, `SELECT d.hour, d.event_type, d.state, d.error_type, d.deliveries, d.attempts,
			d.attempted, d.response_time_sum_ms FROM delivery_stats d`+where)
	}
	if len(plan.partial) > 0 {
		var ranges []string
		for _, r := range plan.partial {
			op := "<"
			if r.closed {
				op = "<="
			}
			ranges = append(ranges, "(d.created_at >= "+arg(r.from)+" AND d.created_at "+op+" "+arg(r.to)+")")
		}
		parts = append(parts, `SELECT `+sqlHour("d.created_at")+`, d.event_type, d.state, d.error_type,
			count(*), sum(d.attempts), count(*) FILTER (WHERE d.attempts > 0), sum(d.response_time_sum_ms)
			FROM deliveries d WHERE d.webhook_id = $1 AND NOT d.test AND d.state <> 'cancelled'`+cond+`
			AND (`+strings.Join(ranges, " OR ")+`) GROUP BY 1, 2, 3, 4`)
	}
	rows, err := q.Query(ctx, strings.Join(parts, " UNION ALL ")+" ORDER BY 1", args...)
	if err != nil {
		return nil, err
	}
	var out []deliveryGroup
	var g deliveryGroup
	_, err = pgx.ForEachRow(rows, []any{&g.hour, &g.eventType, &g.state, &g.errorType,
		&g.deliveries, &g.attempts, &g.attempted, &g.rt}, func() error {
		g.hour = utc(g.hour)
		out = append(out, g)
		return nil
	})
	return out, err
}
