package sqlite

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// versionSeed keys the row fingerprints; they are compared within this
// process only.
var versionSeed = maphash.MakeSeed()

// RecheckWebhooks answers which of these webhooks are active, each with a
// fingerprint of its stored columns as they are read; only rows whose
// fingerprint is not the one known are opened (decrypted and decoded).
func (s *Store) RecheckWebhooks(ctx context.Context, ids []int64, known map[int64]uint64) (map[int64]hookd.WebhookVersion, error) {
	out := make(map[int64]hookd.WebhookVersion, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	st, err := s.readStmt(ctx, "SELECT "+webhookColumns+
		" FROM webhooks w WHERE w.id IN (SELECT value FROM json_each(?)) AND w.is_active = 1")
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, jsonIDs(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var id int64
	var h maphash.Hash
	h.SetSeed(versionSeed)
	dest := make([]any, strings.Count(webhookColumns, ",")+1)
	dest[0] = &id
	for i := 1; i < len(dest); i++ {
		dest[i] = hashColumn{&h}
	}
	for rows.Next() {
		h.Reset()
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		v := hookd.WebhookVersion{Version: h.Sum64()}
		if k, ok := known[id]; !ok || k != v.Version {
			// The same row scanned again, into the columns' types.
			if v.Webhook, err = s.scanWebhook(rows); err != nil {
				return nil, err
			}
		}
		out[id] = v
	}
	return out, rows.Err()
}

// hashColumn adds each column it scans to a row's fingerprint, as the
// driver answers it, without copying it.
type hashColumn struct{ h *maphash.Hash }

func (c hashColumn) Scan(src any) error {
	// A tag and a length before each value keep values of different
	// types, NULL and the empty string, and adjacent columns apart.
	var b [9]byte
	switch v := src.(type) {
	case nil:
		b[0] = 1
	case int64:
		b[0] = 2
		binary.LittleEndian.PutUint64(b[1:], uint64(v))
	case float64:
		b[0] = 3
		binary.LittleEndian.PutUint64(b[1:], math.Float64bits(v))
	case bool:
		b[0] = 4
		if v {
			b[1] = 1
		}
	case []byte:
		b[0] = 5
		binary.LittleEndian.PutUint64(b[1:], uint64(len(v)))
		_, _ = c.h.Write(b[:])
		_, _ = c.h.Write(v)
		return nil
	case string:
		b[0] = 6
		binary.LittleEndian.PutUint64(b[1:], uint64(len(v)))
		_, _ = c.h.Write(b[:])
		_, _ = c.h.WriteString(v)
		return nil
	case time.Time:
		b[0] = 7
		binary.LittleEndian.PutUint64(b[1:], uint64(v.UnixNano()))
	default:
		return fmt.Errorf("sqlite: fingerprint a column of type %T", src)
	}
	_, _ = c.h.Write(b[:])
	return nil
}
