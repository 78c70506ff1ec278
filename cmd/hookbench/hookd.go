package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// jwtSecret is the HS256 key every benchmark hookd runs with; tokens are
// issued in-process with it.
const jwtSecret = "hookbench-secret-0123456789abcdef"

// hookdConfig is how one hookd process is started.
type hookdConfig struct {
	Binary        string
	DatabaseURL   string
	EncryptionKey string   // "" leaves hookd's default (a key file beside SQLite)
	Workers       string   // "" leaves hookd's default
	Env           []string // more KEY=value settings
	// Addr is the loopback address to listen on ("": a free port), so
	// that a restarted node keeps its clients' URL.
	Addr string
	// DefaultLimits leaves hookd's own API rate limit in force rather
	// than switching it off, for the phases that check what a default
	// deployment answers.
	DefaultLimits bool
}

// hookdProcess is one running `hookd serve`.
type hookdProcess struct {
	URL  string
	cfg  hookdConfig // as started, for a restart
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{}
}

// buildHookd compiles ./cmd/hookd of the module the benchmark runs in
// into dir and returns the binary's path.
func buildHookd(ctx context.Context, dir string, stderr io.Writer) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if root == "." || strings.TrimSpace(string(gomod)) == os.DevNull {
		return "", errors.New("not inside the hookd module: run from the repository or pass --hookd")
	}
	bin := filepath.Join(dir, "hookd")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/hookd")
	build.Dir = root
	build.Stdout, build.Stderr = stderr, stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/hookd: %w", err)
	}
	return bin, nil
}

// binaryDigest returns the first 12 hex digits of a file's SHA-256: which
// hookd build the figures belong to.
func binaryDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// newEncryptionKey returns base64 of 32 random bytes, as
// HOOKD_ENCRYPTION_KEY wants.
func newEncryptionKey() (string, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(k), nil
}

// freeAddr returns a loopback address whose port is free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startHookd runs hookd serve on a free loopback port and waits until
// /healthz answers 200.
func startHookd(ctx context.Context, cfg hookdConfig) (*hookdProcess, error) {
	addr := cfg.Addr
	if addr == "" {
		var err error
		if addr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"HOOKD_ADDR=" + addr,
		"HOOKD_DATABASE_URL=" + cfg.DatabaseURL,
		"HOOKD_JWT_SECRET=" + jwtSecret,
		"HOOKD_ALLOW_PRIVATE_TARGETS=true",
		"HOOKD_SHUTDOWN_TIMEOUT=5s",
	}
	if !cfg.DefaultLimits {
		env = append(env, "HOOKD_RATE_LIMIT=0")
	}
	if cfg.EncryptionKey != "" {
		env = append(env, "HOOKD_ENCRYPTION_KEY="+cfg.EncryptionKey)
	}
	if cfg.Workers != "" {
		env = append(env, "HOOKD_WORKERS="+cfg.Workers)
	}
	env = append(env, cfg.Env...)
	p := &hookdProcess{URL: "http://" + addr, cfg: cfg, out: &tailBuffer{max: 32 << 10}, done: make(chan struct{})}
	p.cmd = exec.Command(cfg.Binary, "serve")
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = childAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start hookd: %w", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	if err := p.waitHealthy(ctx, 30*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// waitHealthy polls /healthz until it answers 200, the process exits or
// the time is up.
func (p *hookdProcess) waitHealthy(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/healthz", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("hookd exited before it was healthy:\n%s", p.out)
		case <-ctx.Done():
			return fmt.Errorf("hookd not healthy within %v:\n%s", within, p.out)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// pid is the process id of the running hookd.
func (p *hookdProcess) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *hookdProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to 20 s for a clean exit, then kills.
func (p *hookdProcess) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// tailBuffer keeps the last max bytes written to it: hookd's log, shown
// when something goes wrong.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
