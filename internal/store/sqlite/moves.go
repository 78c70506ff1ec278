package sqlite

import "context"

// MovedWebhookID implements hookd.Store.
func (s *Store) MovedWebhookID(ctx context.Context, oldID int64) (int64, error) {
	var id int64
	err := s.reader.QueryRowContext(ctx, "SELECT new_id FROM webhook_id_moves WHERE old_id = ?", oldID).Scan(&id)
	return id, notFound(err, "moved webhook")
}
