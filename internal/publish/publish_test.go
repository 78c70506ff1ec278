package publish

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

// countingStore is the real store, counting its publish transactions.
type countingStore struct {
	hookd.Store
	txs atomic.Int64
}

func (s *countingStore) PublishEvents(ctx context.Context, reqs []hookd.PublishRequest) ([]hookd.PublishResult, error) {
	s.txs.Add(1)
	return s.Store.PublishEvents(ctx, reqs)
}

// Concurrent publishes, some refused by validation, each get their own
// result, and exactly the valid ones are stored, whichever transactions
// they shared.
func TestConcurrentPublishesShareCommits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, cat := openStore(t)
	store := &countingStore{Store: st}
	p := New(store, NewCache(st, cat, nil), nil, nil, rand.Reader)
	t.Cleanup(p.Close)

	const publishers, each = 16, 20
	var wg sync.WaitGroup
	errs := make(chan error, publishers*each)
	for g := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				order := fmt.Sprintf("ORD-%d-%d", g, i)
				in := Input{Event: "order.created", Payload: json.RawMessage(`{"order_id":"` + order + `","status":"confirmed","amount":1}`)}
				invalid := (g+i)%3 == 0
				if invalid {
					in.Event = "no.such.type"
				}
				res, err := p.Publish(ctx, "t", "u", []Input{in})
				switch {
				case err != nil:
					errs <- err
				case invalid && res[0].Err == nil:
					errs <- fmt.Errorf("%s: unknown type accepted", order)
				case invalid:
				case res[0].Err != nil:
					errs <- fmt.Errorf("%s: %v", order, res[0].Err)
				default:
					ev, _, err := st.GetEvent(ctx, "t", res[0].Event.ID)
					if err != nil {
						errs <- fmt.Errorf("%s: stored event: %v", order, err)
					} else if want := `"order_id":"` + order + `"`; !json.Valid(ev.Payload) || !strings.Contains(string(ev.Payload), want) {
						errs <- fmt.Errorf("%s: stored payload %s", order, ev.Payload)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := store.txs.Load(); n == 0 || n > publishers*each {
		t.Errorf("%d publish transactions for %d publishes", n, publishers*each)
	}
}

// compact gives what json.Compact gives for every valid payload.
func TestCompact(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{}`,
		`{"a":1}`,
		`{ "a" : 1 }`,
		"{\n\t\"a\": [1, 2,\r\n 3]\n}",
		`{"s":"with spaces, \"quoted\" and \\ back"}`,
		`{"s":"ends in a backslash \\","t": 1}`,
		`{"s":"\\\"","t":[ ]}`,
		`{"s":"tab\tinside"}`,
		`{"é":"ü","n":-1.5e3,"b":true,"z":null}`,
	} {
		want := hookd.CompactJSON(json.RawMessage(in))
		if got := compact(json.RawMessage(in)); string(got) != string(want) {
			t.Errorf("compact(%q) = %q, want %q", in, got, want)
		}
	}
}

// A publish that fans out to many webhooks fills a transaction alone;
// small ones queued behind each other share one.
func TestGatherBoundsRows(t *testing.T) {
	t.Parallel()
	batch := func(webhooks int) *commitBatch {
		return &commitBatch{reqs: []hookd.PublishRequest{{WebhookIDs: make([]int64, webhooks)}}}
	}
	p := &Publisher{commits: make(chan *commitBatch, 8), left: make(chan struct{}, 1)}
	p.commits <- batch(10)
	p.commits <- batch(10)
	if group, n := p.gather(batch(10), false); len(group) != 3 || n != 3 {
		t.Fatalf("small publishes: a group of %d batches and %d events, want 3 and 3", len(group), n)
	}
	p.commits <- batch(10)
	if group, _ := p.gather(batch(maxGroupRows-1), false); len(group) != 1 {
		t.Fatalf("a publish of %d rows was grouped with %d more", maxGroupRows, len(group)-1)
	}
	if group, _ := p.gather(<-p.commits, false); len(group) != 1 {
		t.Fatalf("the publish left behind came in a group of %d", len(group))
	}
}

// FuzzCompact: for every valid JSON payload, compact gives what
// json.Compact gives.
func FuzzCompact(f *testing.F) {
	for _, s := range []string{`{}`, `{ "a" : [1, 2] }`, `{"s":"\\\" x","t":"\u00e9"}`, "{\n\"a\":\t\"b c\"\r\n}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !json.Valid([]byte(in)) {
			t.Skip()
		}
		want := hookd.CompactJSON(json.RawMessage(in))
		if got := compact(json.RawMessage(in)); string(got) != string(want) {
			t.Fatalf("compact(%q) = %q, want %q", in, got, want)
		}
	})
}
