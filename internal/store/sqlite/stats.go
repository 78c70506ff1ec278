package sqlite

import (
	"context"
	"database/sql"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/statstally"
)

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
	t, err := statstally.New(q.GroupBy)
	if err != nil {
		return nil, err
	}
	start, end := ms(q.Start), ms(q.End)
	err = s.read(ctx, func(tx *sql.Tx) error {
		if err := ownWebhook(ctx, tx, owner, webhookID); err != nil {
			return err
		}
		groups, err := readGroups(ctx, tx, webhookID, &start, &end, "", nil)
		for _, g := range groups {
			if hookd.DeliveryState(g.state) != hookd.StateCancelled {
				t.Add(g.hour, g.eventType, hookd.DeliveryState(g.state), g.errorType,
					g.deliveries, g.attempts, g.attempted, g.rt)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return t.Report(), nil
}
