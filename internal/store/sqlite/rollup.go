package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/store/statstally"
)

// deliveryGroup is a count of a webhook's non-test deliveries created in
// one hour (unix ms / statstally.HourMs) with one event type, state and
// error type.
type deliveryGroup struct {
	hour                                int64
	eventType, state, errorType         string
	deliveries, attempts, attempted, rt int64
}

// msRange is [from, to] in unix ms, or [from, to) unless closed.
type msRange struct {
	from, to int64
	closed   bool
}

// windowPlan splits a window into whole hours read from delivery_stats
// and partial hours counted from deliveries.
type windowPlan struct {
	empty              bool
	noWhole            bool
	wholeFrom, wholeTo *int64 // hours in [wholeFrom, wholeTo); nil: unbounded
	partial            []msRange
}

// planWindow splits [start, end] (unix ms; either may be nil: unbounded).
func planWindow(start, end *int64) windowPlan {
	const h = statstally.HourMs
	var p windowPlan
	if start != nil && end != nil {
		if *end < *start {
			return windowPlan{empty: true}
		}
		if *start/h == *end/h {
			return windowPlan{noWhole: true, partial: []msRange{{*start, *end, true}}}
		}
	}
	if start != nil {
		from := *start / h
		if *start%h != 0 {
			p.partial = append(p.partial, msRange{from: *start, to: (from + 1) * h})
			from++
		}
		p.wholeFrom = &from
	}
	if end != nil {
		to := *end / h
		p.partial = append(p.partial, msRange{from: to * h, to: *end, closed: true})
		p.wholeTo = &to
	}
	return p
}

// readGroups returns the groups of a webhook's non-test deliveries
// (cancelled ones included) created in [start, end] (unix ms, nil:
// unbounded), with event types matching cond (a condition on d.event_type
// with its arguments condArgs). Whole hours come from delivery_stats, the
// partial hours at the window's edges are counted from deliveries, so the
// cost follows the window's hours, not its deliveries.
func readGroups(ctx context.Context, q querier, webhookID int64, start, end *int64, cond string, condArgs []any) ([]deliveryGroup, error) {
	plan := planWindow(start, end)
	if plan.empty {
		return nil, nil
	}
	var parts []string
	var args []any
	if !plan.noWhole {
		where := " WHERE d.webhook_id = ? AND d.deliveries <> 0" + cond
		args = append(append(args, webhookID), condArgs...)
		if plan.wholeFrom != nil {
			where += " AND d.hour >= ?"
			args = append(args, *plan.wholeFrom)
		}
		if plan.wholeTo != nil {
			where += " AND d.hour < ?"
			args = append(args, *plan.wholeTo)
		}
		parts = append(parts, `SELECT d.hour, d.event_type, d.state, d.error_type, d.deliveries, d.attempts,
			d.attempted, d.response_time_sum_ms FROM delivery_stats d`+where)
	}
	if len(plan.partial) > 0 {
		args = append(append(args, webhookID), condArgs...)
		var ranges []string
		for _, r := range plan.partial {
			op := "<"
			if r.closed {
				op = "<="
			}
			ranges = append(ranges, "(d.created_at >= ? AND d.created_at "+op+" ?)")
			args = append(args, r.from, r.to)
		}
		parts = append(parts, `SELECT d.created_at / 3600000, d.event_type, d.state, d.error_type,
			COUNT(*), SUM(d.attempts), SUM(d.attempts > 0), SUM(d.response_time_sum_ms)
			FROM deliveries d WHERE d.webhook_id = ? AND d.test = 0`+cond+`
			AND (`+strings.Join(ranges, " OR ")+`) GROUP BY 1, 2, 3, 4`)
	}
	rows, err := q.QueryContext(ctx, strings.Join(parts, " UNION ALL "), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []deliveryGroup
	for rows.Next() {
		var g deliveryGroup
		if err := rows.Scan(&g.hour, &g.eventType, &g.state, &g.errorType,
			&g.deliveries, &g.attempts, &g.attempted, &g.rt); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// msOpt converts an optional time to unix ms.
func msOpt(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := ms(*t)
	return &v
}
