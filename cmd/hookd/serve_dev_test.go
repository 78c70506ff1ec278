package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a server goroutine to write while
// the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	exportLine = regexp.MustCompile(`(?m)^\s*export (HOOKD_JWT_SECRET|HOOKD_TOKEN)=(\S+)$`)
	curlLine   = regexp.MustCompile(`curl -s (http://[^/\s]+)/`)
)

// startDev runs serve --dev on dbPath until the test ends and returns the
// exported variables its banner printed, and HOOKD_SERVER, its URL; stop
// ends it (and is called when the test ends).
func startDev(t *testing.T, dbPath string) (vars map[string]string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--dev", "--addr", "127.0.0.1:0", "--database-url", "sqlite:" + dbPath}, func(string) string { return "" }, &stdout, &stderr)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v\n%s", err, stderr.String())
			}
		})
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		m, u := exportLine.FindAllStringSubmatch(stdout.String(), -1), curlLine.FindStringSubmatch(stdout.String())
		if len(m) == 2 && u != nil {
			return map[string]string{m[0][1]: m[0][2], m[1][1]: m[1][2], "HOOKD_SERVER": u[1]}, stop
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no export lines in %q\n%s", stdout.String(), stderr.String())
	return nil, nil
}

func TestDevSecretOutlivesARestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hookd.db")
	first, stop := startDev(t, db)
	stop()
	second, _ := startDev(t, db)
	if first["HOOKD_JWT_SECRET"] == "" || first["HOOKD_JWT_SECRET"] != second["HOOKD_JWT_SECRET"] {
		t.Fatalf("secrets %q then %q", first["HOOKD_JWT_SECRET"], second["HOOKD_JWT_SECRET"])
	}
	fi, err := os.Stat(db + ".jwt-secret")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v", fi.Mode().Perm())
	}
	if data, _ := os.ReadFile(db + ".jwt-secret"); strings.TrimSpace(string(data)) != first["HOOKD_JWT_SECRET"] {
		t.Errorf("file holds %q, banner exported %q", data, first["HOOKD_JWT_SECRET"])
	}
}

func TestFailedStartLeavesNoFiles(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	_, _, err = runArgs(t, nil, "serve", "--dev", "--addr", taken.Addr().String(), "--database-url", "sqlite:"+filepath.Join(dir, "hookd.db"))
	if err == nil {
		t.Fatal("serve on a taken port succeeded")
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("a failed start left %v", left)
	}
}
