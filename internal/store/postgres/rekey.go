package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hookd"
)

// sealedColumns is one webhook's sealed values.
type sealedColumns struct {
	id                     int64
	headers, secret        string
	previousSecret, config *string
}

// reseal opens each value with from and seals it with to.
func (c *sealedColumns) reseal(from, to hookd.Cipher) error {
	one := func(v *string) error {
		plain, err := from.Open(*v)
		if err != nil {
			return err
		}
		*v, err = to.Seal(plain)
		return err
	}
	for _, v := range []*string{&c.headers, &c.secret, c.previousSecret, c.config} {
		if v == nil {
			continue
		}
		if err := one(v); err != nil {
			return fmt.Errorf("postgres: rekey webhook %d: %w", c.id, err)
		}
	}
	return nil
}

// Rekey re-seals every sealed column (webhook headers, secret, previous
// secret and integration config) with newCipher in one transaction, and
// returns how many webhooks it re-sealed. From then on this store seals
// and opens with newCipher. The rows are locked against changes while it
// runs (publishing goes on); nodes still holding the old key cannot open
// the new values, so stop them first and start them with the new key.
func (s *Store) Rekey(ctx context.Context, newCipher hookd.Cipher) (int64, error) {
	if newCipher == nil {
		return 0, errors.New("postgres: Rekey needs a cipher")
	}
	old := s.cipher.Load().c
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, headers, secret, previous_secret, config
			FROM webhooks ORDER BY id FOR NO KEY UPDATE`)
		if err != nil {
			return err
		}
		var all []sealedColumns
		var c sealedColumns
		if _, err := pgx.ForEachRow(rows, []any{&c.id, &c.headers, &c.secret, &c.previousSecret, &c.config}, func() error {
			all = append(all, c)
			return nil
		}); err != nil {
			return err
		}
		if len(all) == 0 {
			return nil
		}
		ids, headers, secrets := make([]int64, len(all)), make([]string, len(all)), make([]string, len(all))
		previous, configs := make([]*string, len(all)), make([]*string, len(all))
		for i := range all {
			if err := all[i].reseal(old, newCipher); err != nil {
				return err
			}
			ids[i], headers[i], secrets[i] = all[i].id, all[i].headers, all[i].secret
			previous[i], configs[i] = all[i].previousSecret, all[i].config
		}
		tag, err := tx.Exec(ctx, `UPDATE webhooks w SET headers = r.headers, secret = r.secret,
			previous_secret = r.previous_secret, config = r.config
			FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])
				AS r(id, headers, secret, previous_secret, config)
			WHERE w.id = r.id`, ids, headers, secrets, previous, configs)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	s.cipher.Store(&cipherBox{newCipher})
	return n, nil
}
