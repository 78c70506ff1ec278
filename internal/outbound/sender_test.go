package outbound

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// TestSendStoresTheResponseBodyCut: an attempt keeps the answer's body as
// hookd.StoredResponseBody cuts it, however long it is.
func TestSendStoresTheResponseBodyCut(t *testing.T) {
	t.Parallel()
	bodies := []string{
		"",
		"ok",
		strings.Repeat("a", hookd.MaxStoredResponseBody),
		strings.Repeat("a", hookd.MaxStoredResponseBody-1) + "é", // a character across the cut
		strings.Repeat("é", hookd.MaxStoredResponseBody),
		strings.Repeat("b", 100<<10),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var i int
		for i = range bodies {
			if r.URL.Path == "/"+string(rune('a'+i)) {
				break
			}
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(bodies[i]))
	}))
	defer srv.Close()
	s := &Sender{Client: NewClient(NewTransport(&Guard{AllowPrivate: true}, 5*time.Second, 0), 5*time.Second), Now: time.Now}
	for i, body := range bodies {
		out := s.Send(t.Context(), Message{URL: srv.URL + "/" + string(rune('a'+i)), Secret: "s", EventID: "e", Body: []byte("{}")})
		if !out.Success || out.Status != http.StatusAccepted {
			t.Fatalf("body %d: %+v", i, out.Attempt)
		}
		if want := hookd.StoredResponseBody(body); out.Attempt.ResponseBody != want {
			t.Errorf("body %d: stored %d bytes, want %d", i, len(out.Attempt.ResponseBody), len(want))
		}
	}
}
