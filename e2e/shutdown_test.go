package e2e

import (
	"bytes"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// TestGracefulShutdown sends SIGTERM while deliveries are in flight: they
// finish and are recorded, the process exits 0, and after a restart the
// rest are delivered.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		time.Sleep(700 * time.Millisecond)
		w.WriteHeader(200)
	})
	db := freshDatabase(t)
	s := startServerOn(t, db, "HOOKD_WORKERS=2")
	tok := token(t, "acme", "alice", "events:publish")
	id, _ := createHook(t, s, tok, `{"name":"n","url":"`+rc.URL+`","events":["order.created"]}`)
	for i := 0; i < 6; i++ {
		publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	}
	rc.waitFor(t, 1, 10*time.Second) // a send is in flight
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatal("hookd did not exit within 30s of SIGTERM")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	t.Logf("exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	inFlight := len(rc.requests())

	s2 := startServerOn(t, db, "HOOKD_WORKERS=2")
	// What was in flight at SIGTERM was recorded as delivered, not sent again.
	logs := s2.do("GET", "/api/webhooks/"+id+"/logs/?status=success", tok, nil).must(t, 200)
	if n := logs.data()["total"].(float64); int(n) < inFlight {
		t.Fatalf("%d deliveries recorded as success, %d reached the receiver before the stop", int(n), inFlight)
	}
	rc.waitFor(t, 6, 20*time.Second)
	time.Sleep(300 * time.Millisecond)
	if n := len(rc.requests()); n != 6 {
		t.Fatalf("%d requests for 6 events: a finished delivery was sent again", n)
	}
}

// TestLogRetentionPrunes starts hookd with a tiny retention: finished
// delivery logs are pruned at start.
func TestLogRetentionPrunes(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	db := freshDatabase(t)
	s := startServerOn(t, db)
	tok := token(t, "acme", "alice", "events:publish")
	id, _ := createHook(t, s, tok, `{"name":"n","url":"`+rc.URL+`","events":["order.created"]}`)
	publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	rc.waitFor(t, 1, 10*time.Second)
	eventually(t, 5*time.Second, "delivery logged", func() bool {
		return s.do("GET", "/api/webhooks/"+id+"/logs/", tok, nil).data()["total"] == 1.0
	})
	s.Stop()
	time.Sleep(20 * time.Millisecond)
	s2 := startServerOn(t, db, "HOOKD_LOG_RETENTION=1ms")
	eventually(t, 5*time.Second, "log pruned", func() bool {
		return s2.do("GET", "/api/webhooks/"+id+"/logs/", tok, nil).data()["total"] == 0.0
	})
}

// TestDeliveryMetrics checks the delivery engine's Prometheus metrics.
func TestDeliveryMetrics(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	s := startServer(t)
	tok := token(t, "acme", "alice", "events:publish")
	createHook(t, s, tok, `{"name":"n","url":"`+rc.URL+`","events":["order.created"]}`)
	publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	rc.waitFor(t, 1, 10*time.Second)
	var body []byte
	eventually(t, 5*time.Second, "success counted", func() bool {
		resp, err := http.Get(s.URL + "/metrics")
		if err != nil {
			return false
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return bytes.Contains(body, []byte(`hookd_delivery_attempts_total{outcome="success"} 1`))
	})
	for _, m := range []string{"hookd_delivery_attempt_duration_seconds_bucket", "hookd_queue_depth", "hookd_queue_oldest_due_age_seconds"} {
		if !bytes.Contains(body, []byte(m)) {
			t.Errorf("metrics lack %s", m)
		}
	}
}
