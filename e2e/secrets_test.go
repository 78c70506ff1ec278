package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"
)

// Header values the widened rule or the webhook's own sensitive_headers
// cover, and the URL's query, are masked in every answer and stored only
// sealed; deliveries carry the real values (docs/api.md §4).
func TestSecretsInHeadersAndURLQuery(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tok := token(t, "acme", "alice", "events:publish")
	var mu sync.Mutex
	var got []*http.Request
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	arrived := func(n int) []*http.Request {
		t.Helper()
		eventually(t, 10*time.Second, "deliveries arrive", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= n })
		mu.Lock()
		defer mu.Unlock()
		return got
	}
	const (
		query   = "q5ecr3tQuery"
		hmac    = "hmacS3cretValue"
		mine    = "myOwnS3cretValue"
		visible = "visible-value"
	)
	created := s.do("POST", "/api/webhooks/", tok, `{"name":"s","url":"`+rc.URL+`/in?token=`+query+`&team=ops","events":["order.created"],
		"headers":{"X-Signature-Hmac":"`+hmac+`","X-My-Header":"`+mine+`","X-Plain":"`+visible+`"},"sensitive_headers":["x-my-header"]}`).must(t, 201)
	wh := created.data()["webhook"].(map[string]any)
	if wh["url"] != rc.URL+"/in?token=********&team=********" {
		t.Fatalf("url: %s", created.Raw)
	}
	headers := wh["headers"].(map[string]any)
	if headers["X-Signature-Hmac"] != "********" || headers["X-My-Header"] != "********" || headers["X-Plain"] != visible {
		t.Fatalf("headers: %s", created.Raw)
	}
	if sh, _ := wh["sensitive_headers"].([]any); len(sh) != 1 || sh[0] != "x-my-header" {
		t.Fatalf("sensitive_headers: %s", created.Raw)
	}
	id := webhookID(t, created)
	for _, path := range []string{"/api/webhooks/", "/api/webhooks/" + id + "/"} {
		r := s.do("GET", path, tok, nil).must(t, 200)
		for _, secret := range []string{query, hmac, mine} {
			if bytes.Contains(r.Raw, []byte(secret)) {
				t.Fatalf("GET %s shows %q: %s", path, secret, r.Raw)
			}
		}
	}

	// Deliveries carry the real values; the logged request masks them.
	publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	req := arrived(1)[0]
	if req.URL.Query().Get("token") != query || req.Header.Get("X-Signature-Hmac") != hmac || req.Header.Get("X-My-Header") != mine {
		t.Fatalf("delivered %s %v", req.URL, req.Header)
	}
	var logs *response
	eventually(t, 10*time.Second, "the attempt is logged", func() bool {
		logs = s.do("GET", "/api/webhooks/"+id+"/logs/", tok, nil)
		l, _ := logs.data()["logs"].([]any)
		return len(l) == 1 && l[0].(map[string]any)["status"] == "success"
	})
	logID := logs.data()["logs"].([]any)[0].(map[string]any)["id"]
	detail := s.do("GET", "/api/webhooks/"+id+"/logs/"+jsonNumber(logID)+"/", tok, nil).must(t, 200)
	for _, secret := range []string{query, hmac, mine} {
		if bytes.Contains(detail.Raw, []byte(secret)) {
			t.Fatalf("log shows %q: %s", secret, detail.Raw)
		}
	}

	// Sending the masked values back keeps the real ones.
	s.do("PUT", "/api/webhooks/"+id+"/", tok, `{"url":"`+rc.URL+`/in?token=********&team=********",
		"headers":{"X-Signature-Hmac":"********","X-My-Header":"********","X-Plain":"changed"}}`).must(t, 200)
	publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	req = arrived(2)[1]
	if req.URL.Query().Get("token") != query || req.Header.Get("X-Signature-Hmac") != hmac || req.Header.Get("X-My-Header") != mine || req.Header.Get("X-Plain") != "changed" {
		t.Fatalf("after the update delivered %s %v", req.URL, req.Header)
	}

	// The database holds none of them in clear.
	s.Stop()
	var raw []byte
	if isPostgresURL(s.DB) {
		raw = postgresRaw(t, s.DB)
	} else {
		for _, p := range []string{s.DB, s.DB + "-wal"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			raw = append(raw, b...)
		}
	}
	for _, secret := range []string{query, hmac, mine} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the database holds %q in clear", secret)
		}
	}
}

func jsonNumber(v any) string {
	f, _ := v.(float64)
	return fmt.Sprint(int64(f))
}
