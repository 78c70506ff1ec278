package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// newLeaseToken returns 16 random bytes in hex.
func newLeaseToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// ClaimDeliveries leases up to limit pending deliveries due at now, oldest
// due first, until now+lease. All claims of one call share a lease token.
// Leases and the due queue live in memory (see leaseBook and dueQueue):
// claiming pops the queue and reads the popped rows, no write and no walk
// of an index.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration, exclude []int64) ([]hookd.Claim, error) {
	if limit <= 0 {
		return nil, nil
	}
	token, err := newLeaseToken()
	if err != nil {
		return nil, err
	}
	until := now.Add(lease).UTC().Truncate(time.Millisecond)
	var excluded map[int64]bool
	if len(exclude) > 0 {
		excluded = make(map[int64]bool, len(exclude))
		for _, id := range exclude {
			excluded[id] = true
		}
	}
	b := s.leases
	b.mu.Lock()
	s.expireLeases(now)
	var claims []hookd.Claim
	var seqs []int64
	for len(claims) < limit {
		picked := s.queue.popDue(ms(now), limit-len(claims), excluded)
		if len(picked) == 0 {
			break
		}
		got, gotSeqs, err := s.claimPicked(ctx, picked, token, until)
		if err != nil {
			for _, p := range picked { // back as they were; the claims made go below
				if _, held := b.held[p.id]; !held {
					s.queue.push(p.webhookID, p.id, p.due)
				}
			}
			b.mu.Unlock()
			s.releaseAll(claims)
			s.releaseAll(got)
			return nil, err
		}
		if claims == nil { // the first pick: most claims take one
			claims, seqs = got, gotSeqs
		} else {
			claims, seqs = append(claims, got...), append(seqs, gotSeqs...)
		}
	}
	b.mu.Unlock()
	if len(claims) == 0 {
		return nil, nil
	}
	events, err := s.eventsBySeq(ctx, seqs)
	if err != nil {
		s.releaseAll(claims)
		return nil, err
	}
	for i := range claims {
		ev, ok := events[seqs[i]]
		if !ok {
			s.releaseAll(claims)
			return nil, fmt.Errorf("sqlite: event %d of delivery %d is missing", seqs[i], claims[i].Delivery.ID)
		}
		claims[i].Event = *ev
		claims[i].Delivery.EventID = ev.ID
	}
	return claims, nil
}

// claimPicked reads the rows of popped queue entries and leases those
// still pending at the entry's due time on an active webhook. An entry of
// a switched-off webhook goes back, its webhook parked; stale entries
// (finished, cancelled, due again at another time, of a deleted webhook)
// are dropped. The caller holds leases.mu.
func (s *Store) claimPicked(ctx context.Context, picked []poppedEntry, token string, until time.Time) ([]hookd.Claim, []int64, error) {
	ids := make([]int64, len(picked))
	byID := make(map[int64][]poppedEntry, len(picked)) // a delivery may have stale entries beside its own
	for i, p := range picked {
		ids[i] = p.id
		byID[p.id] = append(byID[p.id], p)
	}
	// The webhook's is_active comes from a subquery, not a join: planned
	// from statistics taken when there were few webhooks, the join scanned
	// them all for each delivery; the subquery looks it up by id.
	st, err := s.readStmt(ctx, `SELECT d.id, d.tenant, d.webhook_id, d.event_seq, d.event_type, d.attempts,
		d.next_attempt_at, d.created_at, d.updated_at, d.state,
		(SELECT w.is_active FROM webhooks w WHERE w.id = d.webhook_id)
		FROM deliveries d
		WHERE d.id IN (SELECT value FROM json_each(?)) ORDER BY d.next_attempt_at, d.id`)
	if err != nil {
		return nil, nil, err
	}
	rows, err := st.QueryContext(ctx, jsonIDs(ids))
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	// Each row is scanned into the slice's next element, dropped again
	// unless leased: a Claim scanned on its own escapes to the heap, one
	// allocation a row.
	claims := make([]hookd.Claim, 0, len(picked))
	seqs := make([]int64, 0, len(picked))
	for rows.Next() {
		claims = append(claims, hookd.Claim{})
		c := &claims[len(claims)-1]
		var seq, createdAt, updatedAt int64
		var due sql.NullInt64
		var state string
		var active sql.NullBool
		if err := rows.Scan(&c.Delivery.ID, &c.Delivery.Tenant, &c.Delivery.WebhookID, &seq,
			&c.Delivery.EventType, &c.Delivery.Attempts, &due, &createdAt, &updatedAt, &state, &active); err != nil {
			return claims[:len(claims)-1], nil, err
		}
		entries := byID[c.Delivery.ID]
		p := entries[0]
		for _, e := range entries[1:] {
			if due.Valid && e.due == due.Int64 {
				p = e
			}
		}
		_, held := s.leases.held[p.id]
		switch {
		case held: // a second entry of a leased delivery: its lease puts it back when it ends
		case state != string(hookd.StatePending) || !due.Valid || due.Int64 != p.due || !active.Valid:
			// stale: dropped
		case !active.Bool:
			s.queue.push(p.webhookID, p.id, p.due)
			s.queue.park(p.webhookID)
		default:
			dueAt := fromMs(due.Int64)
			c.Delivery.State = hookd.StatePending
			c.Delivery.NextAttemptAt = &dueAt
			c.Delivery.CreatedAt, c.Delivery.UpdatedAt = fromMs(createdAt), fromMs(updatedAt)
			c.LeaseToken, c.LeaseUntil = token, until
			s.leases.held[c.Delivery.ID] = heldLease{token: token, until: until, due: due.Int64, webhookID: p.webhookID}
			seqs = append(seqs, seq)
			continue
		}
		claims = claims[:len(claims)-1]
	}
	return claims, seqs, rows.Err()
}

// expireLeases queues again the deliveries whose lease ended by now. The
// caller holds leases.mu.
func (s *Store) expireLeases(now time.Time) {
	for id, l := range s.leases.held {
		if !now.Before(l.until) {
			delete(s.leases.held, id)
			s.queue.push(l.webhookID, id, l.due)
		}
	}
}

// requeueLease ends a lease and queues its delivery again at the time it was
// due. The caller holds leases.mu.
func (s *Store) requeueLease(id int64) {
	if l, ok := s.leases.held[id]; ok {
		delete(s.leases.held, id)
		s.queue.push(l.webhookID, id, l.due)
	}
}

// releaseAll ends the leases of claims still held, their deliveries due
// again as before.
func (s *Store) releaseAll(claims []hookd.Claim) {
	s.leases.mu.Lock()
	defer s.leases.mu.Unlock()
	for _, c := range claims {
		if s.leases.owns(c.Delivery.ID, c.LeaseToken) {
			s.requeueLease(c.Delivery.ID)
		}
	}
}

// eventsBySeq loads events by their seq.
func (s *Store) eventsBySeq(ctx context.Context, seqs []int64) (map[int64]*hookd.Event, error) {
	unique := make([]int64, 0, len(seqs))
	seen := make(map[int64]bool, len(seqs))
	for _, q := range seqs {
		if !seen[q] {
			seen[q] = true
			unique = append(unique, q)
		}
	}
	out := make(map[int64]*hookd.Event, len(unique))
	st, err := s.readStmt(ctx, "SELECT "+eventColumns+" FROM events e WHERE e.seq IN (SELECT value FROM json_each(?))")
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, jsonIDs(unique))
	if err != nil {
		return nil, err
	}
	evs, err := scanRows(rows, scanEvent)
	for _, ev := range evs {
		out[ev.Seq] = ev
	}
	return out, err
}

// jsonIDs renders ids as a JSON array, for "IN (SELECT value FROM
// json_each(?))": one statement text whatever the number of ids, so it is
// prepared once.
func jsonIDs(ids []int64) string {
	b := make([]byte, 0, 2+len(ids)*8)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// CompleteAttempts records attempts in one transaction: the attempt row,
// the delivery's new state (success; pending again at NextAttemptAt; or
// failed for good), the webhook's counters, and auto-disable. A result
// whose lease token is no longer the delivery's is skipped entirely.
func (s *Store) CompleteAttempts(ctx context.Context, results []hookd.AttemptResult, rules hookd.DeliveryRules) error {
	if len(results) == 0 {
		return nil
	}
	// Take the results whose lease is still theirs, and keep those leases
	// from expiring while the transaction runs.
	b := s.leases
	b.mu.Lock()
	owned := make([]int, 0, len(results))
	saved := make(map[int64]heldLease, len(results))
	for i, r := range results {
		if !b.owns(r.DeliveryID, r.LeaseToken) {
			continue // lease lost: another sender owns the delivery now
		}
		l := b.held[r.DeliveryID]
		saved[r.DeliveryID] = l
		l.until = time.Unix(1<<40, 0)
		b.held[r.DeliveryID] = l
		owned = append(owned, i)
	}
	b.mu.Unlock()
	var created []createdDelivery // operational events' deliveries
	var disabled bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		operational, off, err := completeBatch(ctx, tx, s.w, results, owned, rules)
		if err != nil {
			return err
		}
		disabled = off
		created, err = insertOperational(ctx, tx, s.w, operational)
		return err
	})
	if disabled {
		s.rows.changed()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, l := range saved {
		if err != nil {
			b.held[id] = l // not recorded: the lease runs on as before
		} else {
			b.drop(id)
		}
	}
	if err == nil {
		for _, i := range owned { // retries are due again
			if r := &results[i]; r.State() == hookd.StatePending {
				s.queue.push(saved[r.DeliveryID].webhookID, r.DeliveryID, ms(*r.NextAttemptAt))
			}
		}
		for _, c := range created {
			s.queue.push(c.webhookID, c.id, c.due)
		}
	}
	return err
}

// ReleaseClaims frees the leases of claims still held; their deliveries
// are due again at the time they were due before the claim.
func (s *Store) ReleaseClaims(ctx context.Context, claims []hookd.Claim) error {
	s.releaseAll(claims)
	return nil
}

// NextDue returns when the earliest pending delivery of an active webhook
// is due (for a leased one: when its lease ends), or nil when none is.
// Both come from memory.
func (s *Store) NextDue(ctx context.Context) (*time.Time, error) {
	s.leases.mu.Lock()
	end := s.leases.earliestEnd()
	first, ok := s.queue.first()
	s.leases.mu.Unlock()
	due := end
	if ok && (due == 0 || first.due < due) {
		due = first.due
	}
	if due == 0 {
		return nil, nil
	}
	t := fromMs(due)
	return &t, nil
}

// QueueDepth counts pending deliveries (leased ones included) and returns
// the due time of the oldest unclaimed one that is due at now. The count
// is the webhooks' pending counters' sum (test sends are never pending;
// a deleted webhook's deliveries are cancelled), so a backlog of millions
// costs a row per webhook, not an index walk.
func (s *Store) QueueDepth(ctx context.Context, now time.Time) (int64, *time.Time, error) {
	var n int64
	if err := s.reader.QueryRowContext(ctx, "SELECT COALESCE(SUM(pending_count), 0) FROM webhook_counters").Scan(&n); err != nil {
		return 0, nil, err
	}
	s.leases.mu.Lock()
	first, ok := s.queue.first()
	s.leases.mu.Unlock()
	if !ok || first.due > ms(now) {
		return n, nil, nil
	}
	t := fromMs(first.due)
	return n, &t, nil
}
