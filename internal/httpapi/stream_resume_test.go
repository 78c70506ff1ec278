package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/stream"
)

// TestStreamResumeUnderConcurrentPublishing connects clients with
// Last-Event-ID while goroutines publish without pause, and checks each
// gets exactly the tenant's events after its resume point, in order: no
// gap and no duplicate across the switch from replay to live. Buffers
// are small so that live overflows happen too; a dropped client resumes
// as a real one would.
func TestStreamResumeUnderConcurrentPublishing(t *testing.T) {
	t.Parallel()
	env := setupStream(t, stream.Options{ReplayPage: 5, Buffer: 8})
	tok := streamToken(t, "acme")
	var mu sync.Mutex
	var published []hookd.Event
	record := func(evs []hookd.Event) {
		mu.Lock()
		published = append(published, evs...)
		mu.Unlock()
	}
	record(env.publish(t, "acme", "order.created", "order.created"))

	const publishers, perPublisher, clients = 4, 120, 8
	var pubs sync.WaitGroup
	for p := range publishers {
		pubs.Go(func() {
			for i := range perPublisher {
				types := []string{"order.created"}
				if i%7 == 0 {
					types = append(types, "customer.created", "order.shipped") // a batch
				}
				record(env.publish(t, "acme", types...))
				if i%10 == p {
					env.publish(t, "other", "order.created")
				}
			}
		})
	}

	type result struct {
		after   hookd.Event
		got     []string
		resumes int
		err     error
	}
	results := make([]result, clients)
	stop := make(chan string) // the sentinel's id, once publishing is over
	var readers sync.WaitGroup
	for c := range clients {
		time.Sleep(15 * time.Millisecond) // connect at different moments of publishing
		mu.Lock()
		results[c].after = published[(len(published)*c)/clients]
		mu.Unlock()
		readers.Go(func() {
			r := &results[c]
			r.got, r.resumes, r.err = readResuming(env, tok, r.after.ID, c, stop)
		})
	}
	pubs.Wait()
	sentinel := env.publish(t, "acme", "order.created")[0]
	for range clients {
		stop <- sentinel.ID
	}
	readers.Wait()

	totalResumes := 0
	for c, r := range results {
		if r.err != nil {
			t.Fatalf("client %d: %v", c, r.err)
		}
		want, err := env.store.EventsAfter(t.Context(), "acme", r.after.Seq, 100000)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.got) != len(want) {
			t.Fatalf("client %d (after seq %d): %d events, want %d", c, r.after.Seq, len(r.got), len(want))
		}
		for i := range want {
			if r.got[i] != want[i].ID {
				t.Fatalf("client %d: event %d is %s, want %s", c, i, r.got[i], want[i].ID)
			}
		}
		totalResumes += r.resumes
	}
	t.Logf("%d clients, %d events published, %d reconnections after drops (too_slow drops: %v)",
		clients, len(published)+1, totalResumes, env.metric(t, `hookd_stream_dropped_total{reason="too_slow"}`))
}

// readResuming reads a stream from after, reconnecting with the last id
// it saw whenever the server ends it, until it has read the id sent on
// stop. Clients alternate formats and the header and query forms.
func readResuming(env *streamEnv, tok, after string, c int, stop <-chan string) (got []string, resumes int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	last, sentinel := after, ""
	lines := make(chan string)
	ended := make(chan error, 1)
	connect := func() error {
		q := url.Values{}
		format := "json"
		if c%2 == 1 {
			format = "sse"
		}
		q.Set("format", format)
		req, _ := http.NewRequestWithContext(ctx, "GET", env.srv.URL+"/api/events/stream/", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if c%4 < 2 {
			req.Header.Set("Last-Event-ID", last)
		} else {
			q.Set("last_event_id", last)
		}
		req.URL.RawQuery = q.Encode()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 {
			resp.Body.Close()
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		go func() {
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				line := sc.Text()
				id := ""
				if format == "sse" {
					id, _ = strings.CutPrefix(line, "id: ")
					if id == line {
						id = ""
					}
				} else if line != "" {
					var e struct{ ID string }
					if err := json.Unmarshal([]byte(line), &e); err != nil {
						ended <- err
						return
					}
					id = e.ID
				}
				if id != "" {
					select {
					case lines <- id:
					case <-ctx.Done():
						return
					}
				}
			}
			ended <- sc.Err()
		}()
		return nil
	}
	if err := connect(); err != nil {
		return nil, 0, err
	}
	for {
		select {
		case id := <-lines:
			got = append(got, id)
			last = id
			if id == sentinel {
				return got, resumes, nil
			}
		case sentinel = <-stop:
			if last == sentinel {
				return got, resumes, nil
			}
			stop = nil
		case err := <-ended:
			if err != nil && ctx.Err() == nil {
				return got, resumes, err
			}
			resumes++
			if err := connect(); err != nil {
				return got, resumes, err
			}
		case <-ctx.Done():
			return got, resumes, fmt.Errorf("timed out after %d events", len(got))
		}
	}
}
