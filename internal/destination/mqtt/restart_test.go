package mqtt

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/destination/broker"
	"github.com/hookd/hookd/internal/destination/broker/brokertest"
)

// mosquittoServer runs a mosquitto of the test's own on a loopback port.
func mosquittoServer(t *testing.T, port int) *exec.Cmd {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "mosquitto.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\n", port)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("mosquitto", "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for range 100 {
		if c, err := net.Dial("tcp", fmt.Sprint("127.0.0.1:", port)); err == nil {
			_ = c.Close()
			return cmd
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("mosquitto did not start")
	return nil
}

// TestBrokerRestart kills the test's own mosquitto: the publish while it is
// down fails as connection_error, and after it is back the next publishes
// reconnect and reach a subscriber.
func TestBrokerRestart(t *testing.T) {
	if _, err := exec.LookPath("mosquitto"); err != nil {
		t.Skip("mosquitto not installed")
	}
	port := brokertest.FreePort(t)
	srv := mosquittoServer(t, port)
	a := fmt.Sprint("127.0.0.1:", port)
	p := New(Options{Timeout: 2 * time.Second})
	defer p.Close()
	url := "mqtt://" + a + "/hookd/restart"
	if res := p.Publish(context.Background(), message(url, "evt_before")); !res.Success {
		t.Fatalf("before the restart: %s %s", res.ErrorType, res.ErrorMessage)
	}
	if err := srv.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = srv.Wait()
	if res := p.Publish(context.Background(), message(url, "evt_down")); res.Success || res.ErrorType != broker.ErrTypeConnection {
		t.Fatalf("broker down: success=%v %s %q, want connection_error", res.Success, res.ErrorType, res.ErrorMessage)
	}

	mosquittoServer(t, port)
	sub := subscribeTo(t, a, "hookd/restart")
	for i := range 3 {
		if res := p.Publish(context.Background(), message(url, fmt.Sprint("evt_after_", i))); !res.Success {
			t.Fatalf("after the restart: %s %s", res.ErrorType, res.ErrorMessage)
		}
	}
	for i := range 3 {
		if got := sub.next(t).headers["webhook-id"]; got != fmt.Sprint("evt_after_", i) {
			t.Errorf("message %d: webhook-id %q", i, got)
		}
	}
}
