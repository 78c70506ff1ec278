package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestEndpointAuth drives a webhook's auth through a real hookd: secrets
// are answered masked and kept by a PUT that sends the mask back,
// deliveries and test sends carry the credentials, a refusing token
// endpoint fails the send as auth_error without calling the endpoint,
// and no secret is in the raw database or the log.
func TestEndpointAuth(t *testing.T) {
	t.Parallel()
	const password, clientSecret = "E2E-BASIC-PASSWORD-7f3a", "E2E-CLIENT-SECRET-9c1d"
	db := freshDatabase(t)
	s := startServerOn(t, db)
	tok := token(t, "acme", "alice", "events:publish")
	basic := func(user string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	}
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != basic("hookd") && got != basic("hookd2") {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})

	r := s.do("POST", "/api/webhooks/", tok, `{"name":"a","url":"`+rc.URL+`","events":["order.created"],
		"auth":{"type":"basic","username":"hookd","password":"`+password+`"}}`).must(t, 201)
	id := webhookID(t, r)
	wantAuth := func(r *response, want string) {
		t.Helper()
		got, _ := json.Marshal(r.data()["webhook"].(map[string]any)["auth"])
		if string(got) != want {
			t.Fatalf("auth answered %s, want %s", got, want)
		}
	}
	wantAuth(r, `{"password":"********","type":"basic","username":"hookd"}`)
	wantAuth(s.do("GET", "/api/webhooks/"+id+"/", tok, nil).must(t, 200), `{"password":"********","type":"basic","username":"hookd"}`)
	if list := s.do("GET", "/api/webhooks/", tok, nil).must(t, 200); bytes.Contains(list.Raw, []byte(`"auth"`)) {
		t.Fatalf("the list shows auth: %s", list.Raw)
	}
	bad := s.do("PUT", "/api/webhooks/"+id+"/", tok, `{"auth":{"type":"oauth2","token_url":"ftp://x","client_id":"c"}}`).must(t, 422)
	if got := strings.Join(bad.detailFields(), ","); got != "auth.client_secret,auth.token_url" {
		t.Fatalf("details %s", bad.Raw)
	}

	// The mask sent back keeps the password; the test send and a delivery
	// carry it.
	wantAuth(s.do("PUT", "/api/webhooks/"+id+"/", tok, `{"auth":{"type":"basic","username":"hookd2","password":"********"}}`).must(t, 200),
		`{"password":"********","type":"basic","username":"hookd2"}`)
	res := s.do("POST", "/api/webhooks/"+id+"/test/", tok, nil).must(t, 200).data()["test_result"].(map[string]any)
	if res["status"] != "success" || res["headers_sent"].(map[string]any)["Authorization"] != "********" {
		t.Fatalf("test send: %v", res)
	}
	publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	for _, req := range rc.waitFor(t, 2, 10*time.Second) {
		if req.Header.Get("Authorization") != basic("hookd2") {
			t.Fatalf("delivered with Authorization %q", req.Header.Get("Authorization"))
		}
	}

	// A token endpoint that refuses: auth_error, the endpoint never called.
	var tokenRequests atomic.Int64
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokenRequests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client"}`)
	}))
	defer refusing.Close()
	endpoint := newReceiver(t, nil)
	r = s.do("POST", "/api/webhooks/", tok, `{"name":"auth-e2e-oauth","url":"`+endpoint.URL+`","events":["customer.created"],"retry_config":{"max_retries":0},
		"auth":{"type":"oauth2","token_url":"`+refusing.URL+`/token","client_id":"hookd","client_secret":"`+clientSecret+`"}}`).must(t, 201)
	wantAuth(r, `{"client_id":"hookd","client_secret":"********","token_url":"`+refusing.URL+`/token","type":"oauth2"}`)
	res = s.do("POST", "/api/webhooks/"+webhookID(t, r)+"/test/", tok, nil).must(t, 200).data()["test_result"].(map[string]any)
	if res["status"] != "failed" || res["error_type"] != "auth_error" || !strings.Contains(res["error_message"].(string), "invalid_client") {
		t.Fatalf("test send with a refused token: %v", res)
	}
	if tokenRequests.Load() != 1 || len(endpoint.requests()) != 0 {
		t.Fatalf("%d token requests, %d calls to the endpoint", tokenRequests.Load(), len(endpoint.requests()))
	}

	readRaw := func() []byte {
		if isPostgresURL(db) {
			return postgresRaw(t, db)
		}
		var raw []byte
		for _, p := range []string{db, db + "-wal"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			raw = append(raw, b...)
		}
		return raw
	}
	raw := readRaw()
	if !bytes.Contains(raw, []byte("auth-e2e-oauth")) {
		t.Fatal("the raw database does not hold the webhook rows at all: the check would prove nothing")
	}
	for _, secret := range []string{password, clientSecret, base64.StdEncoding.EncodeToString([]byte("hookd2:" + password))} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the database holds %q in clear text", secret)
		}
		if strings.Contains(s.out.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
	s.Stop()
	raw = readRaw() // after the checkpoint at shutdown too
	for _, secret := range []string{password, clientSecret} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("after shutdown the database holds %q in clear text", secret)
		}
	}
}
