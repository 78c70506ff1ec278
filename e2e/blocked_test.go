package e2e

import (
	"strings"
	"testing"
	"time"
)

// A target whose name resolves to a blocked address fails as
// blocked_target without telling the user the address; the server log
// has it (docs/api.md §6).
func TestBlockedTargetHidesResolution(t *testing.T) {
	t.Parallel()
	s := startServer(t, "HOOKD_ALLOW_PRIVATE_TARGETS=false")
	tok := token(t, "acme", "alice", "events:publish")
	id, _ := createHook(t, s, tok, `{"name":"x","url":"http://`+loopbackName(t)+`:9/h","events":["order.created"],"retry_config":{"max_retries":0}}`)
	r := s.do("POST", "/api/webhooks/"+id+"/test/", tok, nil).must(t, 200)
	res := r.data()["test_result"].(map[string]any)
	msg, _ := res["error_message"].(string)
	if res["error_type"] != "blocked_target" || !strings.Contains(msg, "not allowed") || revealsLoopback(string(r.Raw)) {
		t.Fatalf("test send: %s", r.Raw)
	}
	publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	var logs *response
	eventually(t, 10*time.Second, "the delivery fails as blocked_target", func() bool {
		logs = s.do("GET", "/api/webhooks/"+id+"/logs/", tok, nil)
		l, _ := logs.data()["logs"].([]any)
		for _, e := range l {
			if e.(map[string]any)["test"] != true && e.(map[string]any)["error_type"] == "blocked_target" {
				return true
			}
		}
		return false
	})
	if revealsLoopback(string(logs.Raw)) {
		t.Fatalf("logs reveal the address: %s", logs.Raw)
	}
	if out := s.out.String(); !revealsLoopback(out) {
		t.Fatalf("the server log lacks the address:\n%s", out)
	}

	// A target written as an address is refused when saved, and named:
	// that tells nothing new.
	r = s.do("POST", "/api/webhooks/", tok, `{"name":"y","url":"http://127.0.0.1:9/h","events":["order.created"]}`).must(t, 422)
	if f := r.detailFields(); len(f) != 1 || f[0] != "url" || !strings.Contains(string(r.Raw), "target address 127.0.0.1 is blocked (loopback)") {
		t.Fatalf("literal: %s", r.Raw)
	}
}

func revealsLoopback(s string) bool {
	return strings.Contains(s, "127.0.0.1") || strings.Contains(s, "::1") || strings.Contains(s, "loopback")
}
