package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/rowcodec"
)

// sealedColumns is one webhook's sealed values.
type sealedColumns struct {
	id int64
	rowcodec.Webhook
}

// Rekey re-seals every sealed column (webhook headers, secret, previous
// secret, integration config and endpoint auth) with newCipher in one
// transaction, and returns how many webhooks it re-sealed. From then on this store seals
// and opens with newCipher. The rows are locked against changes while it
// runs (publishing goes on); nodes still holding the old key cannot open
// the new values, so stop them first and start them with the new key.
func (s *Store) Rekey(ctx context.Context, newCipher hookd.Cipher) (int64, error) {
	if newCipher == nil {
		return 0, errors.New("postgres: Rekey needs a cipher")
	}
	old := s.currentCipher()
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, headers, secret, previous_secret, config, auth
			FROM webhooks ORDER BY id FOR NO KEY UPDATE`)
		if err != nil {
			return err
		}
		var all []sealedColumns
		var c sealedColumns
		if _, err := pgx.ForEachRow(rows, []any{&c.id, &c.Headers, &c.Secret, &c.PreviousSecret, &c.Config, &c.Auth}, func() error {
			all = append(all, c)
			return nil
		}); err != nil {
			return err
		}
		if len(all) == 0 {
			return nil
		}
		ids, headers, secrets := make([]int64, len(all)), make([]string, len(all)), make([]string, len(all))
		previous, configs, auths := make([]*string, len(all)), make([]*string, len(all)), make([]*string, len(all))
		for i := range all {
			if err := all[i].Reseal(old, newCipher); err != nil {
				return fmt.Errorf("postgres: rekey webhook %d: %w", all[i].id, err)
			}
			ids[i], headers[i], secrets[i] = all[i].id, all[i].Headers, all[i].Secret
			previous[i], configs[i], auths[i] = all[i].PreviousSecret, all[i].Config, all[i].Auth
		}
		tag, err := tx.Exec(ctx, `UPDATE webhooks w SET headers = r.headers, secret = r.secret,
			previous_secret = r.previous_secret, config = r.config, auth = r.auth
			FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
				AS r(id, headers, secret, previous_secret, config, auth)
			WHERE w.id = r.id`, ids, headers, secrets, previous, configs, auths)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	s.cipher.Store(&cipherBox{newCipher})
	return n, nil
}
