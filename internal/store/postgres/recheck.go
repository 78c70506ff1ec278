package postgres

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"strconv"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hookd/hookd/internal/hookd"
)

// versionSeed keys the row fingerprints; they are compared within this
// process only.
var versionSeed = maphash.MakeSeed()

// RecheckWebhooks answers which of these webhooks are active, each with a
// fingerprint of its columns as the server sent them; only rows whose
// fingerprint is not the one known are opened (decrypted and decoded).
func (s *Store) RecheckWebhooks(ctx context.Context, ids []int64, known map[int64]uint64) (map[int64]hookd.WebhookVersion, error) {
	out := make(map[int64]hookd.WebhookVersion, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, "SELECT "+webhookColumns+
		" FROM webhooks w WHERE w.id = ANY($1) AND w.is_active", uniqueIDs(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var h maphash.Hash
	h.SetSeed(versionSeed)
	for rows.Next() {
		raw := rows.RawValues()
		id, err := rawID(raw[0], rows.FieldDescriptions()[0].Format)
		if err != nil {
			return nil, err
		}
		h.Reset()
		for _, col := range raw[1:] {
			// A length before each value (NULL apart from empty) keeps
			// the columns from running into each other.
			var n [9]byte
			l := len(col)
			if col == nil {
				n[0] = 1
			}
			for i := 1; i < 9; i++ {
				n[i] = byte(l >> (8 * (i - 1)))
			}
			_, _ = h.Write(n[:])
			_, _ = h.Write(col)
		}
		v := hookd.WebhookVersion{Version: h.Sum64()}
		if k, ok := known[id]; !ok || k != v.Version {
			if v.Webhook, err = s.scanWebhook(rows); err != nil {
				return nil, err
			}
		}
		out[id] = v
	}
	return out, rows.Err()
}

// rawID reads a bigint as the server sent it, in binary or text.
func rawID(b []byte, format int16) (int64, error) {
	if format == pgtype.BinaryFormatCode {
		if len(b) != 8 {
			return 0, fmt.Errorf("postgres: webhook id of %d bytes", len(b))
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	}
	return strconv.ParseInt(string(b), 10, 64)
}
