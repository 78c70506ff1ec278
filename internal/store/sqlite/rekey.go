package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/rowcodec"
)

// Rekey re-seals every sealed column (webhooks.headers, secret,
// previous_secret, config and auth: secrets, header values, integration
// credentials and endpoint authentication) with newCipher, in one write transaction, and returns the
// number of webhook rows re-sealed. A value the current cipher cannot
// open fails the whole change, so nothing is left half re-sealed.
//
// From then on the store seals and opens with newCipher. Run it while no
// other process uses the database (hookd rekey does, with the server
// stopped): a server still holding the old key could not read the rows.
func (s *Store) Rekey(ctx context.Context, newCipher hookd.Cipher) (int64, error) {
	defer s.rows.changed()
	if newCipher == nil {
		return 0, fmt.Errorf("sqlite: rekey: no new cipher")
	}
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT id, headers, secret, previous_secret, config, auth FROM webhooks ORDER BY id")
		if err != nil {
			return err
		}
		type sealedRow struct {
			id int64
			rowcodec.Webhook
		}
		var all []sealedRow
		for rows.Next() {
			var r sealedRow
			if err := rows.Scan(&r.id, &r.Headers, &r.Secret, &r.PreviousSecret, &r.Config, &r.Auth); err != nil {
				rows.Close()
				return err
			}
			all = append(all, r)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		update, err := tx.PrepareContext(ctx, "UPDATE webhooks SET headers = ?, secret = ?, previous_secret = ?, config = ?, auth = ? WHERE id = ?")
		if err != nil {
			return err
		}
		defer update.Close()
		for _, r := range all {
			if err := r.Reseal(s.cipher, newCipher); err != nil {
				return fmt.Errorf("sqlite: rekey: webhook %d %w", r.id, err)
			}
			if _, err := update.ExecContext(ctx, r.Headers, r.Secret, r.PreviousSecret, r.Config, r.Auth, r.id); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.cipher = newCipher
	return n, nil
}
