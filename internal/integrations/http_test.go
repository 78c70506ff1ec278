package integrations

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

func testDeps() Deps {
	return Deps{
		Client:    outbound.NewClient(outbound.NewTransport(&outbound.Guard{AllowPrivate: true}, 2*time.Second, 0), 2*time.Second),
		UserAgent: "hookd/test",
		Now:       func() time.Time { return time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC) },
	}
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		typ    string
		status int
		want   bool
	}{
		{hookd.ErrTypeTimeout, 0, true}, {hookd.ErrTypeConnection, 0, true}, {hookd.ErrTypeDNS, 0, true},
		{hookd.ErrTypeBlocked, 0, false}, {hookd.ErrTypeTLS, 0, false},
		{"http_400", 400, false}, {"http_401", 401, false}, {"http_404", 404, false}, {"http_410", 410, false},
		{"http_408", 408, true}, {"http_425", 425, true}, {"http_429", 429, true}, {"http_500", 500, true},
		{"http_503", 503, true}, {"http_302", 302, false},
	}
	for _, c := range cases {
		if got := Retryable(c.typ, c.status); got != c.want {
			t.Errorf("Retryable(%s, %d) = %v", c.typ, c.status, got)
		}
	}
}

func TestDoRecordsWithoutCredentials(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "KEY-SECRET-123456" || r.Header.Get("Authorization") != "Bearer TOKEN-abcdef" {
			w.WriteHeader(401)
			return
		}
		w.WriteHeader(400)
		// A service that echoes everything it got.
		_, _ = w.Write([]byte("bad request to " + r.URL.String() + " with key KEY-SECRET-123456\n\tand\n\nmore"))
	}))
	defer srv.Close()
	target := srv.URL + "/hooks/TOKEN-PATH-SEGMENT-0001?sig=QUERYSIG-99"
	sent, err := testDeps().Do(t.Context(), Request{URL: target, Body: []byte(`{}`),
		Header:  http.Header{"X-Api-Key": {"KEY-SECRET-123456"}, "Authorization": {"Bearer TOKEN-abcdef"}},
		Secrets: []string{"KEY-SECRET-123456"}})
	var se *SendError
	if e, ok := err.(*SendError); ok {
		se = e
	} else {
		t.Fatalf("err = %v", err)
	}
	recorded := se.Message + sent.Attempt.ResponseBody
	for k, v := range sent.Attempt.RequestHeaders {
		recorded += k + v
	}
	for _, secret := range []string{"KEY-SECRET-123456", "TOKEN-abcdef", "TOKEN-PATH-SEGMENT-0001", "QUERYSIG-99"} {
		if strings.Contains(recorded, secret) {
			t.Errorf("%q is recorded: %s", secret, recorded)
		}
	}
	if !strings.HasPrefix(se.Message, "HTTP 400 Bad Request: bad request to ") || strings.Contains(se.Message, "\n") || se.Retryable {
		t.Errorf("message %q", se.Message)
	}
	if sent.Attempt.RequestHeaders["User-Agent"] != "hookd/test" || sent.Attempt.RequestHeaders["Content-Type"] != "application/json" {
		t.Errorf("headers %v", sent.Attempt.RequestHeaders)
	}
}

func TestDoDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	}))
	defer srv.Close()
	_, err := testDeps().Do(t.Context(), Request{URL: srv.URL, Body: []byte(`{}`)})
	if se, ok := err.(*SendError); !ok || se.Type != "http_302" || se.Retryable {
		t.Fatalf("err = %v", err)
	}
}

func TestDoRetryAfter(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "Mon, 15 Jan 2024 10:00:45 GMT") // 45 s after testDeps' clock
		w.WriteHeader(503)
	}))
	defer srv.Close()
	_, err := testDeps().Do(t.Context(), Request{URL: srv.URL, Body: []byte(`{}`)})
	if se, ok := err.(*SendError); !ok || se.RetryAfter != 45*time.Second || !se.Retryable {
		t.Fatalf("err = %+v", err)
	}
}

func TestDoConnectionFailure(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	sent, err := testDeps().Do(t.Context(), Request{URL: url + "/x", Body: []byte(`{}`)})
	se, ok := err.(*SendError)
	if !ok || se.Type != hookd.ErrTypeConnection || !se.Retryable || sent.Attempt.ResponseCode != nil {
		t.Fatalf("err = %+v, attempt %+v", err, sent.Attempt)
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	ev := &hookd.Event{Type: "order.created", Payload: []byte(`{"order_id":"A","amount":150.00,"status":"new"}`)}
	cases := []struct{ tmpl, want string }{
		{"", "New order A for 150 (new)"},
		{"{{order_id}}!", "A!"},
		{"{{nothing}}", "New order A for 150 (new)"},
		{"{{broken", "New order A for 150 (new)"},
	}
	for _, c := range cases {
		if got := Text(&Config{MessageTemplate: c.tmpl}, ev, nil); got != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.tmpl, got, c.want)
		}
	}
	custom := &hookd.Event{Type: "shipment.lost", Payload: []byte(`{}`)}
	if got := Text(&Config{MessageTemplate: "{{x}}"}, custom, nil); got != "New shipment.lost event" {
		t.Errorf("fallback = %q", got)
	}
}

func TestCheckURLAndToken(t *testing.T) {
	t.Parallel()
	for raw, ok := range map[string]bool{
		"https://hooks.slack.com/x": true, "http://127.0.0.1:1/x": true, "": false, "/relative": false,
		"mailto:a@b.c": false, "https://a b.test/": false, "https://u:p@x.test/": false, "https://x.test/" + strings.Repeat("a", 2048): false,
	} {
		if (CheckURL(raw) == "") != ok {
			t.Errorf("CheckURL(%q) = %q", raw, CheckURL(raw))
		}
	}
	if CheckToken("abc", 1, 5) != "" || CheckToken("abcdef", 1, 5) == "" || CheckToken("a b", 1, 5) == "" || CheckToken("", 1, 5) == "" {
		t.Error("CheckToken")
	}
}

func TestJSONKeepsMarkup(t *testing.T) {
	t.Parallel()
	b, err := JSON(map[string]string{"text": "<a> & b"})
	if err != nil || string(b) != `{"text":"<a> & b"}` {
		t.Fatalf("JSON = %s, %v", b, err)
	}
}
