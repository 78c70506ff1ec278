package postgres

import "context"

// MovedWebhookID implements hookd.Store.
func (s *Store) MovedWebhookID(ctx context.Context, oldID int64) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, "SELECT new_id FROM webhook_id_moves WHERE old_id = $1", oldID).Scan(&id)
	return id, notFound(err, "moved webhook")
}
