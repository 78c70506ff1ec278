package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
)

// flaky answers the given statuses in turn (with Retry-After: 1 on 429),
// then 200 with an empty webhook list.
func flaky(t *testing.T, statuses ...int) (*client.Client, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1))
		if n <= len(statuses) {
			if statuses[n-1] == 429 {
				w.Header().Set("Retry-After", "1")
			}
			w.WriteHeader(statuses[n-1])
			_, _ = w.Write([]byte(`{"success":false,"error":{"code":"rate_limited","message":"slow down"}}`))
			return
		}
		_, _ = w.Write([]byte(`{"success":true,"data":{"webhooks":[],"total":0,"event":{"id":"evt_1","event":"order.created"}}}`))
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, "tok", client.WithRetries(3, 1500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c, &calls
}

func TestRetriesHonourRetryAfter(t *testing.T) {
	t.Parallel()
	c, calls := flaky(t, 429, 503)
	start := time.Now()
	if _, err := c.ListWebhooks(context.Background(), client.ListWebhooksOptions{}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 || time.Since(start) < time.Second {
		t.Fatalf("%d calls in %s", calls.Load(), time.Since(start))
	}
}

func TestRetriesAreBounded(t *testing.T) {
	t.Parallel()
	c, calls := flaky(t, 500, 500, 500, 500, 500)
	_, err := c.ListWebhooks(context.Background(), client.ListWebhooksOptions{})
	if e, ok := err.(*client.Error); !ok || e.Status != 500 || calls.Load() != 4 {
		t.Fatalf("%v after %d calls", err, calls.Load())
	}
}

func TestPublishRetriesA5xxOnlyWithAKey(t *testing.T) {
	t.Parallel()
	c, calls := flaky(t, 502)
	if _, err := c.Publish(context.Background(), "order.created", map[string]any{}); client.ErrorCode(err) != "rate_limited" || calls.Load() != 1 {
		t.Fatalf("without a key: %v after %d calls", err, calls.Load())
	}
	c, calls = flaky(t, 502)
	if _, err := c.Publish(context.Background(), "order.created", map[string]any{}, client.IdempotencyKey("k")); err != nil || calls.Load() != 2 {
		t.Fatalf("with a key: %v after %d calls", err, calls.Load())
	}
}
