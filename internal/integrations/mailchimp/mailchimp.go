// Package mailchimp adds the customers of customer events to a Mailchimp
// audience: PUT {base}/3.0/lists/{list_id}/members/{md5(lower(email))}
// with Basic auth (any user, the API key as password) and
// {"email_address", "status_if_new": "subscribed", "merge_fields"}. The PUT
// adds a new member or updates an existing one, so a retry is harmless.
package mailchimp

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/template"
)

// Name is the integration's name in the API and the Kind of its rows.
const Name = "mailchimp"

// basicUser is the Basic auth user name; Mailchimp ignores it.
const basicUser = "hookd"

var (
	// datacenter is the suffix of an API key naming its data center ("…-us6").
	datacenter = regexp.MustCompile(`-([a-z]+[0-9]+)$`)
	// listID is what an audience id may contain (Mailchimp's are 10 hex digits).
	listID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// Provider is the Mailchimp integration.
type Provider struct {
	deps integrations.Deps
}

var _ integrations.Provider = (*Provider)(nil)

// New returns the Mailchimp provider sending with deps (whose
// MailchimpAPIBase, when set, replaces the key's data center).
func New(deps integrations.Deps) *Provider { return &Provider{deps: deps} }

// Info describes Mailchimp in the catalog.
func (p *Provider) Info() integrations.Info {
	return integrations.Info{
		ID: 6, Name: Name, DisplayName: "Mailchimp", Description: "Email marketing integration",
		Category: "marketing", Icon: "https://mailchimp.com/favicon.ico",
		Fields: []integrations.Field{
			{Name: "api_key", Type: "string", Required: true, Description: "Mailchimp API key", Mask: integrations.SecretKey},
			{Name: "list_id", Type: "string", Required: true, Description: "Audience list ID"},
		},
		EventCategories: []string{"customer"},
	}
}

// Validate checks the key (it must name its data center unless an API
// base is configured) and the audience id.
func (p *Provider) Validate(cfg *integrations.Config) []hookd.FieldError {
	var details []hookd.FieldError
	key := cfg.Field("api_key")
	if msg := integrations.CheckToken(key, 1, 200); msg != "" {
		details = append(details, hookd.FieldError{Field: "api_key", Message: msg})
	} else if p.deps.MailchimpAPIBase == "" && !datacenter.MatchString(key) {
		details = append(details, hookd.FieldError{Field: "api_key", Message: "must end with its data center, such as -us6"})
	}
	if !listID.MatchString(cfg.Field("list_id")) {
		details = append(details, hookd.FieldError{Field: "list_id", Message: "must be an audience id: 1-64 letters, digits, - or _"})
	}
	return details
}

// APIBase returns where requests for a key go: the configured base, or
// https://<dc>.api.mailchimp.com for a key ending in -<dc>.
func (p *Provider) APIBase(apiKey string) (string, error) {
	if p.deps.MailchimpAPIBase != "" {
		return strings.TrimRight(p.deps.MailchimpAPIBase, "/"), nil
	}
	m := datacenter.FindStringSubmatch(apiKey)
	if m == nil {
		return "", errors.New("the API key does not name its data center")
	}
	return "https://" + m[1] + ".api.mailchimp.com", nil
}

// SubscriberHash is Mailchimp's member id: the hex MD5 of the lower-cased
// email address.
func SubscriberHash(email string) string {
	sum := md5.Sum([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:])
}

// member is the body of the add-or-update request.
type member struct {
	EmailAddress string            `json:"email_address"`
	StatusIfNew  string            `json:"status_if_new"`
	MergeFields  map[string]string `json:"merge_fields,omitempty"`
}

// Send upserts the event's customer into the audience. An event without
// an email address succeeds with nothing sent, and says so. Names fill
// FNAME and LNAME when the payload has them; absent names are not sent,
// so an update never blanks a name Mailchimp already has.
func (p *Provider) Send(ctx context.Context, cfg *integrations.Config, m *integrations.Message) (integrations.Sent, error) {
	data, _ := template.DecodePayload(m.Event.Payload)
	c := customerOf(data)
	if c.email == "" {
		return integrations.Sent{Attempt: p.deps.NewAttempt(), Note: "no email address in the payload; nothing was sent to Mailchimp"}, nil
	}
	key := cfg.Field("api_key")
	base, err := p.APIBase(key)
	if err != nil {
		return integrations.Sent{Attempt: p.deps.NewAttempt()},
			&integrations.SendError{Type: hookd.ErrTypeConnection, Message: err.Error()}
	}
	body, err := integrations.JSON(member{EmailAddress: c.email, StatusIfNew: "subscribed", MergeFields: c.mergeFields()})
	if err != nil {
		return integrations.Sent{}, err
	}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(basicUser+":"+key))
	sent, err := p.deps.Do(ctx, integrations.Request{
		Method:  http.MethodPut,
		URL:     base + "/3.0/lists/" + url.PathEscape(cfg.Field("list_id")) + "/members/" + SubscriberHash(c.email),
		Header:  http.Header{"Authorization": {auth}},
		Body:    body,
		Secrets: []string{key, auth},
	})
	var se *integrations.SendError
	if errors.As(err, &se) {
		if detail := problemDetail(sent.Attempt.ResponseBody); detail != "" {
			se.Message = strings.SplitN(se.Message, ": ", 2)[0] + ": " + detail
		}
	}
	return sent, err
}

// problemDetail reads Mailchimp's error document ({"title", "detail"}).
func problemDetail(body string) string {
	var pd struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal([]byte(body), &pd) != nil || (pd.Title == "" && pd.Detail == "") {
		return ""
	}
	switch {
	case pd.Title == "":
		return pd.Detail
	case pd.Detail == "":
		return pd.Title
	}
	return pd.Title + ": " + pd.Detail
}

// Summary names the audience a send reached.
func (p *Provider) Summary(cfg *integrations.Config) string {
	return "subscriber added or updated in audience " + cfg.Field("list_id")
}

// customer is who an event is about.
type customer struct {
	email, first, last string
}

// customerOf finds the email address and names in a payload: top-level
// email, first_name and last_name (customer events), else the same under
// "customer", else a "name" split at its first space.
func customerOf(data any) customer {
	str := func(path ...string) string {
		v := data
		for _, p := range path {
			m, ok := v.(map[string]any)
			if !ok {
				return ""
			}
			v = m[p]
		}
		s, _ := v.(string)
		return strings.TrimSpace(s)
	}
	c := customer{email: str("email"), first: str("first_name"), last: str("last_name")}
	if c.email == "" {
		c.email = str("customer", "email")
	}
	if c.first == "" && c.last == "" {
		c.first, c.last = str("customer", "first_name"), str("customer", "last_name")
	}
	if c.first == "" && c.last == "" {
		name := str("name")
		if name == "" {
			name = str("customer", "name")
		}
		c.first, c.last, _ = strings.Cut(name, " ")
		c.last = strings.TrimSpace(c.last)
	}
	return c
}

func (c customer) mergeFields() map[string]string {
	mf := map[string]string{}
	if c.first != "" {
		mf["FNAME"] = c.first
	}
	if c.last != "" {
		mf["LNAME"] = c.last
	}
	return mf
}
