package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// walkthroughBlocks returns the README's shell blocks marked with a
// "<!-- walkthrough" comment on the line before, in order.
func walkthroughBlocks(t *testing.T) []string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- walkthrough[^\n]*-->\n```sh\n(.*?)\n```")
	var blocks []string
	for _, m := range re.FindAllStringSubmatch(string(readme), -1) {
		blocks = append(blocks, m[1])
	}
	if len(blocks) < 3 {
		t.Fatalf("README has %d walkthrough blocks, want 3 or more", len(blocks))
	}
	return blocks
}

// devServer is hookd serve --dev run as a user would, with the variables
// its banner exports.
type devServer struct {
	*server
	exports map[string]string
}

var bannerExport = regexp.MustCompile(`(?m)^\s*export (HOOKD_JWT_SECRET|HOOKD_TOKEN)=(\S+)$`)

// startDevServer runs hookd serve --dev on addr and the SQLite file db.
func startDevServer(t *testing.T, addr, db string) *devServer {
	t.Helper()
	s := &server{t: t, URL: "http://" + addr, DB: db, out: &syncBuffer{}, done: make(chan struct{})}
	s.Env = []string{"PATH=" + os.Getenv("PATH")}
	s.cmd = exec.Command(binary, "serve", "--dev", "--addr", addr, "--database-url", "sqlite:"+db)
	s.cmd.Env = s.Env
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := bannerExport.FindAllStringSubmatch(s.out.String(), -1); len(m) == 2 {
			return &devServer{server: s, exports: map[string]string{m[0][1]: m[0][2], m[1][1]: m[1][2]}}
		}
		select {
		case <-s.done:
			t.Fatalf("hookd serve --dev exited:\n%s", s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no export lines after 30s:\n%s", s.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReadmeWalkthrough runs the README's walkthrough blocks with bash
// against hookd serve --dev, twice on one database, the second time
// after a restart and with the first start's exported token and secret:
// ids come from answers and the development secret outlives a restart.
// Every curl must succeed (a 4xx or 5xx answer fails the run).
func TestReadmeWalkthrough(t *testing.T) {
	skipOnPostgres(t, "serve --dev keeps its secret beside the SQLite file")
	for _, tool := range []string{"bash", "curl", "jq", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the walkthrough needs %s", tool)
		}
	}
	blocks := walkthroughBlocks(t)
	db := filepath.Join(t.TempDir(), "hookd.db")
	addr, receiverPort := freeAddr(t), freeAddr(t)
	receiverPort = receiverPort[strings.LastIndex(receiverPort, ":")+1:]
	// The walkthrough's ports (8080 for hookd, 3000 for the receiver)
	// become free ones.
	script := strings.NewReplacer("localhost:8080", addr, "localhost:3000", "localhost:"+receiverPort,
		`("127.0.0.1", 3000)`, `("127.0.0.1", `+receiverPort+`)`).Replace(strings.Join(blocks, "\n"))
	// curl fails on an error answer; each answer ends its line.
	// The receiver started in the background ends with the script.
	prelude := "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" +
		"curl() { command curl --fail-with-body \"$@\"; echo; }\n"

	var exports map[string]string
	for run := 1; run <= 2; run++ {
		dev := startDevServer(t, addr, db)
		if exports == nil {
			exports = dev.exports
		} else if dev.exports["HOOKD_JWT_SECRET"] != exports["HOOKD_JWT_SECRET"] {
			t.Fatalf("run %d: the development secret changed across a restart", run)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-c", prelude+script)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"),
			"HOOKD_TOKEN="+exports["HOOKD_TOKEN"], "HOOKD_JWT_SECRET="+exports["HOOKD_JWT_SECRET"])
		// Its own process group, so that the receiver it starts in the
		// background ends with it.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.WaitDelay = 5 * time.Second
		out, err := cmd.CombinedOutput()
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		cancel()
		if err != nil {
			t.Fatalf("run %d: %v\n%s\nhookd:\n%s", run, err, out, dev.out.String())
		}
		if !regexp.MustCompile(`webhook [0-9]+\n`).Match(out) || !strings.Contains(string(out), `"event":"order.created"`) {
			t.Fatalf("run %d printed:\n%s", run, out)
		}
		dev.Stop()
	}
}
