package client_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/auth"
)

// server is the URL of the hookd the examples talk to: a real hookd built
// from ./cmd/hookd and started with serve --dev on a temp database.
var server string

// jwtSecret is that server's development secret, from the file beside its
// database; tokenFor signs with it.
var jwtSecret string

func TestMain(m *testing.M) {
	code, err := runWithServer(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client tests:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func runWithServer(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "hookd-client-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	binary := filepath.Join(dir, "hookd")
	build := exec.Command("go", "build", "-o", binary, "../cmd/hookd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return 0, fmt.Errorf("build hookd: %w", err)
	}
	db := filepath.Join(dir, "hookd.db")
	cmd := exec.Command(binary, "serve", "--dev", "--addr", "127.0.0.1:0", "--database-url", "sqlite:"+db)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	logs, err := cmd.StderrPipe()
	if err != nil {
		return 0, err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	addr := make(chan string, 1)
	go func() {
		listening := regexp.MustCompile(`msg="hookd listening" addr=(\S+)`)
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		server = "http://" + a
	case <-time.After(60 * time.Second):
		return 0, fmt.Errorf("hookd did not start")
	}
	secret, err := os.ReadFile(db + ".jwt-secret")
	if err != nil {
		return 0, err
	}
	jwtSecret = strings.TrimSpace(string(secret))
	return m.Run(), nil
}

// tokenFor returns a token of user (tenant "default") with both scopes;
// each example has a user of its own, so their webhooks do not mix.
func tokenFor(user string) string {
	tok, err := auth.Issue([]byte(jwtSecret), auth.Principal{Tenant: "default", User: user,
		Scopes: []string{auth.ScopePublish, auth.ScopeAdmin}}, time.Hour, time.Now())
	if err != nil {
		panic(err)
	}
	return tok
}

// receiver is an endpoint on loopback that hands each delivery to got
// and answers 200.
func receiver(got func(r *http.Request, body []byte)) (url string, stop func()) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got(r, body)
	}))
	return srv.URL + "/webhooks", srv.Close
}
