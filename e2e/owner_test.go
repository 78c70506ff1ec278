package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSecondServeOnTheSameFileRefuses: one process serves a SQLite file.
// A second hookd serve on it exits at once saying the file is in use; once
// the first is killed (-9: the kernel drops its lock) a new one starts.
func TestSecondServeOnTheSameFileRefuses(t *testing.T) {
	t.Parallel()
	skipOnPostgres(t, "one process owns a SQLite file")
	db := filepath.Join(t.TempDir(), "hookd.db")
	first := startServerOn(t, db)
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(append([]string{}, first.Env...), "HOOKD_ADDR="+freeAddr(t))
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("a second serve on %s kept running:\n%s", db, out)
	}
	if err == nil || !strings.Contains(string(out), "in use by process") {
		t.Fatalf("second serve: %v\n%s", err, out)
	}
	first.do("GET", "/healthz", "", nil).must(t, 200)
	first.Kill()
	startServerOn(t, db).do("GET", "/healthz", "", nil).must(t, 200)
}
