package rowcodec

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

// keyCipher seals by prefixing its key to the base64 of the plaintext, so
// a value sealed under another key does not open.
type keyCipher string

func (k keyCipher) Seal(plain []byte) (string, error) {
	return string(k) + ":" + base64.StdEncoding.EncodeToString(plain), nil
}

func (k keyCipher) Open(sealed string) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, string(k)+":")
	if !ok {
		return nil, errors.New("sealed under another key")
	}
	return base64.StdEncoding.DecodeString(rest)
}

// fullWebhook has every encoded and sealed field set.
func fullWebhook() *hookd.Webhook {
	limit := 25
	return &hookd.Webhook{
		URL:              "https://hooks.example.com/in?token=q5ecr3t&team=ops#frag",
		SensitiveHeaders: []string{"X-Team"},
		Events:           []string{"order.*", "customer.created"},
		Headers:          map[string]string{"Authorization": "Bearer t0k3n", "X-Team": "ops"},
		Secret:           "whsec_current",
		PreviousSecret:   "whsec_previous",
		RetryConfig:      hookd.RetryConfig{MaxRetries: 5, RetryDelay: 1500, BackoffMultiplier: 1.5},
		Filters:          json.RawMessage(`{"data.total":{"$gt":10}}`),
		RateLimit:        &limit,
		Config:           json.RawMessage(`{"fields":{"api_key":"k"}}`),
	}
}

func TestWebhookRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   *hookd.Webhook
		want *hookd.Webhook // nil: the same as in
	}{
		{"every field", fullWebhook(), nil},
		{"nothing optional", &hookd.Webhook{Secret: "whsec_only"}, &hookd.Webhook{
			Secret: "whsec_only", Events: []string{}, Headers: map[string]string{}, Filters: json.RawMessage("{}"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := keyCipher("k1")
			r, err := SealWebhook(c, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var got hookd.Webhook
			if err := r.Open(c, &got); err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == nil {
				want = tt.in
			}
			if !reflect.DeepEqual(&got, want) {
				t.Errorf("round trip = %+v, want %+v", got, *want)
			}
		})
	}
}

func TestSealWebhookSealsSecrets(t *testing.T) {
	t.Parallel()
	w := fullWebhook()
	r, err := SealWebhook(keyCipher("k1"), w)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"headers": r.Headers, "secret": r.Secret,
		"previous secret": *r.PreviousSecret, "config": *r.Config} {
		if !strings.HasPrefix(v, "k1:") {
			t.Errorf("%s = %q, not sealed", name, v)
		}
	}
	for _, plain := range []string{"t0k3n", w.Secret, w.PreviousSecret, "api_key"} {
		for _, v := range []string{r.Headers, r.Secret, *r.PreviousSecret, *r.Config} {
			if strings.Contains(v, plain) {
				t.Errorf("sealed value %q shows %q", v, plain)
			}
		}
	}
	plain := &hookd.Webhook{Secret: "s"}
	if r, err = SealWebhook(keyCipher("k1"), plain); err != nil {
		t.Fatal(err)
	}
	if r.PreviousSecret != nil || r.Config != nil || r.RateLimit != nil {
		t.Errorf("absent values stored as %v, %v, %v; want NULLs", r.PreviousSecret, r.Config, r.RateLimit)
	}
}

func TestSealWebhookRefusesFiltersThatAreNotJSON(t *testing.T) {
	t.Parallel()
	w := fullWebhook()
	w.Filters = json.RawMessage(`{"data.total":`)
	if _, err := SealWebhook(keyCipher("k1"), w); err == nil {
		t.Fatal("filters that are not JSON were sealed")
	}
}

func TestOpenNamesTheColumnAtFault(t *testing.T) {
	t.Parallel()
	r, err := SealWebhook(keyCipher("k1"), fullWebhook())
	if err != nil {
		t.Fatal(err)
	}
	other, err := keyCipher("k2").Seal([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		column string
		spoil  func(r *Webhook)
	}{
		{"headers", func(r *Webhook) { r.Headers = other }},
		{"secret", func(r *Webhook) { r.Secret = other }},
		{"previous secret", func(r *Webhook) { r.PreviousSecret = &other }},
		{"config", func(r *Webhook) { r.Config = &other }},
		{"retry_config", func(r *Webhook) { r.RetryConfig = "[" }},
	}
	for _, tt := range tests {
		bad := r
		tt.spoil(&bad)
		err := bad.Open(keyCipher("k1"), &hookd.Webhook{})
		if err == nil || !strings.HasPrefix(err.Error(), tt.column+": ") {
			t.Errorf("spoilt %s: err = %v, want one naming it", tt.column, err)
		}
	}
}

func TestReseal(t *testing.T) {
	t.Parallel()
	for _, in := range []*hookd.Webhook{fullWebhook(), {Secret: "whsec_only"}} {
		r, err := SealWebhook(keyCipher("old"), in)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Reseal(keyCipher("old"), keyCipher("new")); err != nil {
			t.Fatal(err)
		}
		var got hookd.Webhook
		if err := r.Open(keyCipher("new"), &got); err != nil {
			t.Fatalf("open with the new key: %v", err)
		}
		if got.Secret != in.Secret || got.PreviousSecret != in.PreviousSecret || !reflect.DeepEqual(got.Config, in.Config) {
			t.Errorf("resealed = %+v, want the values of %+v", got, *in)
		}
		if err := r.Open(keyCipher("old"), &got); err == nil {
			t.Error("the old key still opens resealed values")
		}
	}
	r, err := SealWebhook(keyCipher("old"), fullWebhook())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Reseal(keyCipher("wrong"), keyCipher("new")); err == nil || !strings.HasPrefix(err.Error(), "headers: ") {
		t.Errorf("reseal from the wrong key: err = %v, want one naming headers", err)
	}
}

// A URL's query is sealed with the headers: the url column shows it
// masked, and opening gives the real URL back.
func TestSealWebhookSealsURLQuery(t *testing.T) {
	t.Parallel()
	r, err := SealWebhook(keyCipher("k1"), fullWebhook())
	if err != nil {
		t.Fatal(err)
	}
	if r.URL != "https://hooks.example.com/in?token=********&team=********#********" {
		t.Errorf("url column = %q", r.URL)
	}
	if strings.Contains(r.Headers, "q5ecr3t") || strings.Contains(r.URL, "q5ecr3t") {
		t.Errorf("query in clear: %q %q", r.URL, r.Headers)
	}
	plain := &hookd.Webhook{URL: "https://hooks.example.com/in", Secret: "s"}
	if r, err = SealWebhook(keyCipher("k1"), plain); err != nil || r.URL != plain.URL {
		t.Errorf("url without a query stored as %q, %v", r.URL, err)
	}
}

// Rows written before the query was sealed hold the header object alone
// and their URL in clear; they open as they were.
func TestOpenHeadersOfEarlierRows(t *testing.T) {
	t.Parallel()
	c := keyCipher("k1")
	sealed, err := c.Seal([]byte(`{"X-Team":"ops","v":"2"}`))
	if err != nil {
		t.Fatal(err)
	}
	r := Webhook{URL: "https://e.com/h?token=old", Headers: sealed, Secret: mustSeal(t, c, "s"), RetryConfig: "{}", Filters: "{}"}
	var got hookd.Webhook
	if err := r.Open(c, &got); err != nil {
		t.Fatal(err)
	}
	if got.URL != "https://e.com/h?token=old" || !reflect.DeepEqual(got.Headers, map[string]string{"X-Team": "ops", "v": "2"}) || got.SensitiveHeaders != nil {
		t.Errorf("opened %+v", got)
	}
}

func mustSeal(t *testing.T, c keyCipher, plain string) string {
	t.Helper()
	s, err := c.Seal([]byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
