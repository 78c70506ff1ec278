package mailchimp

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/integrations/integrationstest"
)

const (
	apiKey = "0123456789abcdef0123456789abcdef-us6"
	list   = "a1b2c3d4e5"
	// johnHash is md5("john.doe@example.com"), computed outside Go.
	johnHash = "8eb1b522f60d11fa897de1dc6351b7e8"
)

// mailchimpFake answers as the Marketing API's add-or-update list member
// does: Basic auth with any user and the key as password (401 API Key
// Invalid otherwise), 404 for an unknown list, 400 Invalid Resource for a
// body without email_address or status_if_new, and 200 with the member.
func mailchimpFake(t *testing.T, override func(w http.ResponseWriter) bool) *integrationstest.Fake {
	return integrationstest.NewFake(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/problem+json")
		problem := func(status int, title, detail string) {
			w.WriteHeader(status)
			b, _ := json.Marshal(map[string]any{"type": "https://mailchimp.com/developer/marketing/docs/errors/",
				"title": title, "status": status, "detail": detail, "instance": "0c6f-4e1a"})
			_, _ = w.Write(b)
		}
		if override != nil && override(w) {
			return
		}
		_, pw, okAuth := r.BasicAuth()
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		var m struct {
			EmailAddress string            `json:"email_address"`
			StatusIfNew  string            `json:"status_if_new"`
			MergeFields  map[string]string `json:"merge_fields"`
		}
		switch {
		case !okAuth || pw != apiKey:
			problem(401, "API Key Invalid", "Your API key may be invalid, or you've attempted to access the wrong datacenter.")
		case r.Method != http.MethodPut || len(parts) != 5 || parts[0] != "3.0" || parts[1] != "lists" || parts[3] != "members":
			problem(405, "Method Not Allowed", "The requested method and resource are not compatible.")
		case parts[2] != list:
			problem(404, "Resource Not Found", "The requested resource could not be found.")
		case json.Unmarshal(body, &m) != nil || m.EmailAddress == "" || m.StatusIfNew == "":
			problem(400, "Invalid Resource", "The resource submitted could not be validated.")
		case parts[4] != SubscriberHash(m.EmailAddress):
			problem(400, "Invalid Resource", "The subscriber hash does not match the email address.")
		default:
			w.Header().Set("Content-Type", "application/json")
			b, _ := json.Marshal(map[string]any{"id": parts[4], "email_address": m.EmailAddress, "unique_email_id": "882e9bec19",
				"status": "subscribed", "merge_fields": m.MergeFields, "list_id": list})
			_, _ = w.Write(b)
		}
	})
}

func provider(t *testing.T, base string) *Provider {
	d := integrationstest.Deps(t)
	d.MailchimpAPIBase = base
	return New(d)
}

func config() *integrations.Config {
	return &integrations.Config{Fields: map[string]string{"api_key": apiKey, "list_id": list}}
}

func TestSendUpsertsTheMember(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, event, payload, wantBody string
	}{
		{"customer event", "customer.created",
			`{"customer_id":1,"email":"John.Doe@Example.com","first_name":"John","last_name":"Doe"}`,
			`{"email_address":"John.Doe@Example.com","status_if_new":"subscribed","merge_fields":{"FNAME":"John","LNAME":"Doe"}}`},
		{"name split from customer.name", "customer.updated",
			`{"customer_id":1,"customer":{"email":"john.doe@example.com","name":"John Ronald Doe"}}`,
			`{"email_address":"john.doe@example.com","status_if_new":"subscribed","merge_fields":{"FNAME":"John","LNAME":"Ronald Doe"}}`},
		{"no names: none sent, none blanked", "customer.subscribed",
			`{"customer_id":1,"email":" john.doe@example.com "}`,
			`{"email_address":"john.doe@example.com","status_if_new":"subscribed"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fake := mailchimpFake(t, nil)
			sent, err := provider(t, fake.URL).Send(t.Context(), config(), integrationstest.Message(integrationstest.Event(c.event, c.payload)))
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			req := fake.Only(t)
			wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("hookd:"+apiKey))
			if req.Method != "PUT" || req.Path != "/3.0/lists/"+list+"/members/"+johnHash || req.Header.Get("Authorization") != wantAuth ||
				req.Header.Get("Content-Type") != "application/json" || string(req.Body) != c.wantBody {
				t.Fatalf("request %s %s %v %s\nwant body %s", req.Method, req.Path, req.Header, req.Body, c.wantBody)
			}
			if a := sent.Attempt; a.ResponseCode == nil || *a.ResponseCode != 200 || !strings.Contains(a.ResponseBody, `"status":"subscribed"`) ||
				a.RequestHeaders["Authorization"] != "********" || strings.Contains(a.ResponseBody, apiKey) {
				t.Fatalf("attempt %+v", a)
			}
		})
	}
}

func TestEventWithoutEmailSendsNothing(t *testing.T) {
	t.Parallel()
	fake := mailchimpFake(t, nil)
	sent, err := provider(t, fake.URL).Send(t.Context(), config(), integrationstest.Message(integrationstest.Event("customer.deleted", `{"customer_id":2}`)))
	if err != nil || !strings.Contains(sent.Note, "no email address") || len(fake.Requests()) != 0 {
		t.Fatalf("sent %+v, err %v, %d requests", sent, err, len(fake.Requests()))
	}
}

func TestSendFailures(t *testing.T) {
	t.Parallel()
	badKey := config()
	badKey.Fields["api_key"] = "ffffffffffffffffffffffffffffffff-us6"
	otherList := config()
	otherList.Fields["list_id"] = "nope"
	cases := []struct {
		name      string
		cfg       *integrations.Config
		override  func(w http.ResponseWriter) bool
		status    int
		retryable bool
		wait      time.Duration
		message   string
	}{
		{"bad key", badKey, nil, 401, false, 0, "API Key Invalid"},
		{"unknown list", otherList, nil, 404, false, 0, "Resource Not Found"},
		{"too many connections", config(), func(w http.ResponseWriter) bool {
			w.Header().Set("Retry-After", "12")
			w.WriteHeader(429)
			_, _ = w.Write([]byte(`{"title":"Too Many Requests","status":429,"detail":"You have exceeded the limit of 10 simultaneous connections."}`))
			return true
		}, 429, true, 12 * time.Second, "Too Many Requests"},
		{"outage", config(), func(w http.ResponseWriter) bool { w.WriteHeader(503); return true }, 503, true, 0, "HTTP 503"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fake := mailchimpFake(t, c.override)
			_, err := provider(t, fake.URL).Send(t.Context(), c.cfg, integrationstest.Message(integrationstest.Event("customer.created", `{"email":"john.doe@example.com"}`)))
			se := integrationstest.SendError(t, err)
			if se.Status != c.status || se.Retryable != c.retryable || se.RetryAfter != c.wait || !strings.Contains(se.Message, c.message) ||
				strings.Contains(se.Message, c.cfg.Fields["api_key"]) {
				t.Fatalf("error %+v", se)
			}
		})
	}
}

func TestAPIBase(t *testing.T) {
	t.Parallel()
	p := provider(t, "")
	if base, err := p.APIBase("abc-us6"); err != nil || base != "https://us6.api.mailchimp.com" {
		t.Errorf("APIBase(-us6) = %q, %v", base, err)
	}
	if base, err := p.APIBase("abc-us21"); err != nil || base != "https://us21.api.mailchimp.com" {
		t.Errorf("APIBase(-us21) = %q, %v", base, err)
	}
	if _, err := p.APIBase("no-datacenter"); err == nil {
		t.Error("a key without a data center got a base")
	}
	if base, _ := provider(t, "http://127.0.0.1:9/").APIBase("no-datacenter"); base != "http://127.0.0.1:9" {
		t.Errorf("configured base = %q", base)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		base, key, list string
		bad             string
	}{
		{"", apiKey, list, ""},
		{"", "keywithoutdc", list, "api_key"},
		{"http://127.0.0.1:9", "keywithoutdc", list, ""},
		{"", "", list, "api_key"},
		{"", apiKey, "a/b", "list_id"},
		{"", apiKey, "", "list_id"},
	}
	for _, c := range cases {
		var got []string
		for _, d := range provider(t, c.base).Validate(&integrations.Config{Fields: map[string]string{"api_key": c.key, "list_id": c.list}}) {
			got = append(got, d.Field)
		}
		if strings.Join(got, ",") != c.bad {
			t.Errorf("Validate(%+v) flagged %v", c, got)
		}
	}
}

func TestSubscriberHash(t *testing.T) {
	t.Parallel()
	for _, email := range []string{"john.doe@example.com", "John.Doe@EXAMPLE.com", " john.doe@example.com\t"} {
		if got := SubscriberHash(email); got != johnHash {
			t.Errorf("SubscriberHash(%q) = %s", email, got)
		}
	}
}
