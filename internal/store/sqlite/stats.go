package sqlite

import (
	"context"
	"database/sql"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/statstally"
)

// statstally.HourMs is an hour in milliseconds: the grain Stats reads in SQL.

// statsQuery groups a webhook's non-test deliveries in a window by hour,
// event type, state and error type. It walks deliveries_stats in index
// order, so SQLite needs no sort: "created_at / 3600000" must stay spelled
// as in the index.
const statsQuery = `SELECT created_at / 3600000, event_type, state, error_type,
	COUNT(*), SUM(attempts), SUM(attempts > 0), SUM(response_time_sum_ms)
	FROM deliveries
	WHERE webhook_id = ?1 AND created_at / 3600000 BETWEEN ?2 AND ?3
	AND created_at >= ?4 AND created_at <= ?5 AND test = 0 AND state <> 'cancelled'
	GROUP BY created_at / 3600000, event_type, state, error_type`

// Stats reports a webhook's non-test deliveries created in [q.Start,
// q.End]: totals (Failed counts deliveries failed for good), events by
// type (count descending, then name), the time series by q.GroupBy (label
// order, empty buckets left out) and the last error types of deliveries
// that failed for good (count descending, then name). Response times are
// means over attempts, in ms. GroupBy "" means day; values other than
// hour, day, week and month answer EBadRequest.
func (s *Store) Stats(ctx context.Context, owner hookd.Owner, webhookID int64, q hookd.StatsQuery) (*hookd.WebhookStatsReport, error) {
	t, err := statstally.New(q.GroupBy)
	if err != nil {
		return nil, err
	}
	start, end := ms(q.Start), ms(q.End)
	err = s.read(ctx, func(tx *sql.Tx) error {
		if err := ownWebhook(ctx, tx, owner, webhookID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, statsQuery, webhookID, start/statstally.HourMs, end/statstally.HourMs, start, end)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var hour, n, attempts, attempted, rtSum int64
			var eventType, state, errorType string
			if err := rows.Scan(&hour, &eventType, &state, &errorType, &n, &attempts, &attempted, &rtSum); err != nil {
				return err
			}
			t.Add(hour, eventType, hookd.DeliveryState(state), errorType, n, attempts, attempted, rtSum)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return t.Report(), nil
}
