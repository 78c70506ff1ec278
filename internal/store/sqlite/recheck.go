package sqlite

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// versionSeed keys the row fingerprints; they are compared within this
// process only.
var versionSeed = maphash.MakeSeed()

// rowVersions remembers the webhooks' fingerprints as last read. This
// process is the only writer of the file (lockDatabase), and every write
// to the webhooks table calls changed once it committed; until then a
// re-check of rows already read is answered from here, without a query.
type rowVersions struct {
	mu    sync.Mutex
	gen   uint64           // changes committed so far
	seen  uint64           // the gen the versions were read at
	rows  map[int64]uint64 // active webhook → fingerprint
	gone  map[int64]bool   // deleted or switched off when read
	limit int              // rows kept at most (0: maxRememberedRows)
}

// maxRememberedRows bounds rowVersions; past it rows are read each time.
const maxRememberedRows = 10000

// changed says a write to the webhooks table committed: every row is read
// again at its next re-check.
func (v *rowVersions) changed() {
	v.mu.Lock()
	v.gen++
	v.mu.Unlock()
}

// answer answers from memory when every id was read since the last
// change and known holds the same fingerprint for each active one.
func (v *rowVersions) answer(ids []int64, known map[int64]uint64) (map[int64]hookd.WebhookVersion, uint64, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen != v.gen || v.rows == nil {
		return nil, v.gen, false
	}
	out := make(map[int64]hookd.WebhookVersion, len(ids))
	for _, id := range ids {
		if v.gone[id] {
			continue
		}
		version, ok := v.rows[id]
		if !ok || known[id] != version {
			return nil, v.gen, false
		}
		out[id] = hookd.WebhookVersion{Version: version}
	}
	return out, v.gen, true
}

// remember keeps what a read begun at gen found for ids.
func (v *rowVersions) remember(gen uint64, ids []int64, found map[int64]hookd.WebhookVersion) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if gen != v.gen {
		return // changed meanwhile: the read may be older than the change
	}
	limit := v.limit
	if limit == 0 {
		limit = maxRememberedRows
	}
	if v.seen != gen || v.rows == nil || len(v.rows)+len(v.gone)+len(ids) > limit {
		v.seen, v.rows, v.gone = gen, map[int64]uint64{}, map[int64]bool{}
	}
	for _, id := range ids {
		if f, ok := found[id]; ok {
			v.rows[id] = f.Version
			delete(v.gone, id)
		} else {
			v.gone[id] = true
			delete(v.rows, id)
		}
	}
}

// RecheckWebhooks answers which of these webhooks are active, each with a
// fingerprint of its stored columns as they are read; only rows whose
// fingerprint is not the one known are opened (decrypted and decoded).
// Rows read since the last write to the webhooks table are not read again
// (rowVersions).
func (s *Store) RecheckWebhooks(ctx context.Context, ids []int64, known map[int64]uint64) (map[int64]hookd.WebhookVersion, error) {
	if len(ids) == 0 {
		return map[int64]hookd.WebhookVersion{}, nil
	}
	out, gen, ok := s.rows.answer(ids, known)
	if ok {
		return out, nil
	}
	out, err := s.readVersions(ctx, ids, known)
	if err == nil {
		s.rows.remember(gen, ids, out)
	}
	return out, err
}

// readVersions is RecheckWebhooks' query.
func (s *Store) readVersions(ctx context.Context, ids []int64, known map[int64]uint64) (map[int64]hookd.WebhookVersion, error) {
	out := make(map[int64]hookd.WebhookVersion, len(ids))
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
