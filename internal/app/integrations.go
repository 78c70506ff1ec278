package app

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/template"
)

// maxNotifications bounds the notifications map of one integration.
const maxNotifications = 200

// IntegrationService implements hookd.IntegrationService.
type IntegrationService struct {
	*core
	// configuring serializes configure and delete per (owner, integration),
	// so two concurrent requests cannot create two settings rows.
	configuring keyedMutex
}

// keyedMutex is one mutex per key, forgotten when no one holds it.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	waiters int
}

// lock locks key and returns the unlock function.
func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.waiters++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.waiters--; l.waiters == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

// lockSettings serializes changes to an owner's rows of one kind.
func (s *IntegrationService) lockSettings(owner hookd.Owner, kind string) func() {
	return s.configuring.lock(owner.Tenant + "\x00" + owner.User + "\x00" + kind)
}

// integration describes a provider as the catalog shows it.
func integration(info integrations.Info, configured bool) hookd.Integration {
	fields := make([]hookd.IntegrationField, len(info.Fields))
	for i, f := range info.Fields {
		fields[i] = hookd.IntegrationField{Name: f.Name, Type: f.Type, Required: f.Required, Description: f.Description}
	}
	return hookd.Integration{ID: info.ID, Name: info.Name, DisplayName: info.DisplayName, Description: info.Description,
		Category: info.Category, Icon: info.Icon, Fields: fields, IsConfigured: configured}
}

// FindIntegrations lists the integrations offered with whether the owner
// configured each, and their categories.
func (s *IntegrationService) FindIntegrations(ctx context.Context, owner hookd.Owner) ([]hookd.Integration, []hookd.Category, error) {
	list := []hookd.Integration{}
	for _, p := range s.Integrations.Providers() {
		info := p.Info()
		_, n, err := s.Store.ListWebhooks(ctx, owner, hookd.WebhookQuery{Kind: info.Name, Limit: 1})
		if err != nil {
			return nil, nil, err
		}
		list = append(list, integration(info, n > 0))
	}
	categories := []hookd.Category{}
	for _, c := range s.Integrations.Categories() {
		categories = append(categories, hookd.Category{Name: c.Name, DisplayName: c.DisplayName, Count: c.IntegrationCount})
	}
	return list, categories, nil
}

// FindIntegration returns the integration called name with whether the
// owner configured it.
func (s *IntegrationService) FindIntegration(ctx context.Context, owner hookd.Owner, name string) (*hookd.Integration, error) {
	p, err := s.provider(name)
	if err != nil {
		return nil, err
	}
	info := p.Info()
	_, n, err := s.Store.ListWebhooks(ctx, owner, hookd.WebhookQuery{Kind: info.Name, Limit: 1})
	if err != nil {
		return nil, err
	}
	it := integration(info, n > 0)
	return &it, nil
}

// provider finds the integration called name.
func (s *IntegrationService) provider(name string) (integrations.Provider, error) {
	p, found := s.Integrations.Get(name)
	if !found {
		return nil, hookd.Errorf(hookd.ENotFound, "no integration called %s", strconv.Quote(name))
	}
	return p, nil
}

// settingsRows returns the owner's rows of a kind, oldest first (one
// settings row, unless a concurrent configure on another node raced).
func (s *IntegrationService) settingsRows(ctx context.Context, owner hookd.Owner, kind string) ([]*hookd.Webhook, error) {
	rows, _, err := s.Store.ListWebhooks(ctx, owner, hookd.WebhookQuery{Kind: kind})
	return rows, err
}

// settingsRow returns the owner's settings row of an integration, or
// not_found when the owner has not configured it.
func (s *IntegrationService) settingsRow(ctx context.Context, owner hookd.Owner, info integrations.Info) (*hookd.Webhook, error) {
	rows, err := s.settingsRows(ctx, owner, info.Name)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, hookd.Errorf(hookd.ENotFound, "%s is not configured", info.DisplayName)
	}
	return rows[0], nil
}

// configured returns the provider called name and the owner's settings
// row of it.
func (s *IntegrationService) configured(ctx context.Context, owner hookd.Owner, name string) (integrations.Provider, *hookd.Webhook, error) {
	p, err := s.provider(name)
	if err != nil {
		return nil, nil, err
	}
	row, err := s.settingsRow(ctx, owner, p.Info())
	if err != nil {
		return nil, nil, err
	}
	return p, row, nil
}

// ConfigureIntegration merges fields into the owner's settings (creating
// them) and switches the integration on again: a configure re-enables
// what a 410 or repeated failures switched off.
func (s *IntegrationService) ConfigureIntegration(ctx context.Context, owner hookd.Owner, name string, in map[string]json.RawMessage) (*hookd.IntegrationStatus, error) {
	p, err := s.provider(name)
	if err != nil {
		return nil, err
	}
	info := p.Info()
	defer s.lockSettings(owner, info.Name)()
	row, err := s.settingsRow(ctx, owner, info)
	if err != nil && !hookd.IsNotFound(err) {
		return nil, err
	}
	stored := &integrations.Config{}
	if row != nil {
		if stored, err = integrations.ParseConfig(row.Config); err != nil {
			return nil, err
		}
	}
	known, err := s.knownTypes(ctx, owner.Tenant)
	if err != nil {
		return nil, err
	}
	generated, err := s.generateZapierKey(info, stored, in)
	if err != nil {
		return nil, err
	}
	if generated != "" {
		in = maps.Clone(in)
		in["api_key"], _ = json.Marshal(generated)
	}
	cfg, details := applyConfigure(info, stored, in, known)
	details = append(details, providerDetails(p, cfg, details)...)
	details = append(details, s.integrationTargetDetails(info, cfg, in, details)...)
	if info.LookupField != "" && cfg.Field(info.LookupField) != "" && !hasDetail(details, info.LookupField) {
		taken, err := s.credentialTaken(ctx, info, cfg, row)
		if err != nil {
			return nil, err
		}
		if taken {
			details = append(details, hookd.FieldError{Field: info.LookupField, Message: "is already in use; choose another"})
		}
	}
	if len(details) > 0 {
		return nil, hookd.Invalid(details...)
	}
	if row == nil {
		row = settingsFor(nil, owner, info, cfg, s.now())
		err = s.createRow(ctx, row)
	} else {
		wasActive := row.IsActive
		err = s.updateRow(ctx, settingsFor(row, owner, info, cfg, s.now()), wasActive)
	}
	if err != nil {
		return nil, err
	}
	rows, err := s.destinationRows(ctx, owner, info, row)
	if err != nil {
		return nil, err
	}
	st, err := s.counters(ctx, owner, rows)
	if err != nil {
		return nil, err
	}
	st.Integration = integration(info, true)
	st.Active, st.Config = row.IsActive, integrations.MaskedConfig(info, cfg)
	if generated != "" {
		st.Config["api_key"] = generated // answered this once; masked from now on
	}
	return &st, nil
}

// credentialTaken reports whether another settings row than row already
// holds cfg's lookup credential (such as a Zapier key).
func (s *IntegrationService) credentialTaken(ctx context.Context, info integrations.Info, cfg *integrations.Config, row *hookd.Webhook) (bool, error) {
	other, err := s.Store.FindWebhookByLookupKey(ctx, info.Name, integrations.LookupKey(cfg.Field(info.LookupField)))
	switch {
	case hookd.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return row == nil || other.ID != row.ID, nil
}

// settingsFor returns the settings row for cfg: row updated, or a new one
// when row is nil. It is active again.
func settingsFor(row *hookd.Webhook, owner hookd.Owner, info integrations.Info, cfg *integrations.Config, now time.Time) *hookd.Webhook {
	if row == nil {
		row = &hookd.Webhook{Owner: owner, Kind: info.Name, Name: info.DisplayName, Headers: map[string]string{},
			RetryConfig: hookd.DefaultRetryConfig, Filters: json.RawMessage("{}"), CreatedAt: now}
	}
	row.URL = displayURL(info, cfg)
	row.Events = cfg.Events()
	if info.HookKind != "" { // its subscriptions receive the events, not the settings row
		row.Events = []string{}
	}
	row.Config = cfg.Raw()
	row.LookupKey = ""
	if info.LookupField != "" {
		row.LookupKey = integrations.LookupKey(cfg.Field(info.LookupField))
	}
	row.IsActive, row.DisabledReason, row.UpdatedAt = true, "", now
	return row
}

// applyConfigure merges a configure body into the stored settings: fields
// named replace stored ones (null clears one; a secret sent back masked,
// as answers show it, keeps the stored value), notifications replace the
// stored map, message_template replaces the stored template (null or ""
// clears it). Unknown keys are refused.
func applyConfigure(info integrations.Info, stored *integrations.Config, in map[string]json.RawMessage, known map[string]hookd.EventType) (*integrations.Config, []hookd.FieldError) {
	cfg := &integrations.Config{Fields: map[string]string{}, Notifications: stored.Notifications, MessageTemplate: stored.MessageTemplate}
	for k, v := range stored.Fields {
		cfg.Fields[k] = v
	}
	fields := map[string]integrations.Field{}
	for _, f := range info.Fields {
		fields[f.Name] = f
	}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var details []hookd.FieldError
	bad := func(field, msg string) { details = append(details, hookd.FieldError{Field: field, Message: msg}) }
	for _, k := range keys {
		raw := in[k]
		isNull := strings.TrimSpace(string(raw)) == "null"
		switch f, isField := fields[k]; {
		case isField:
			var v string
			switch {
			case isNull:
				delete(cfg.Fields, k)
			case json.Unmarshal(raw, &v) != nil:
				bad(k, "must be a string")
			case f.Mask != integrations.Plain && stored.Fields[k] != "" && v == integrations.MaskValue(f, stored.Fields[k]):
				// the masked value an answer showed: keep the stored one
			case v == "":
				delete(cfg.Fields, k)
			default:
				if msg := hookd.CheckText(v); msg != "" {
					bad(k, msg)
				}
				cfg.Fields[k] = v
			}
		case k == "notifications":
			if isNull {
				cfg.Notifications = nil
				continue
			}
			n, nd := decodeNotifications(info, raw, known)
			details = append(details, nd...)
			cfg.Notifications = n
		case k == "message_template":
			var v string
			switch {
			case isNull:
				cfg.MessageTemplate = ""
			case json.Unmarshal(raw, &v) != nil:
				bad(k, "must be a string")
			case hookd.CheckMultilineText(v) != "":
				bad(k, hookd.CheckMultilineText(v))
			default:
				if _, err := template.Parse(v); err != nil {
					bad(k, strings.TrimPrefix(err.Error(), "template: "))
				}
				cfg.MessageTemplate = v
			}
		default:
			bad(k, "unknown field")
		}
	}
	for _, f := range info.Fields {
		if f.Required && cfg.Fields[f.Name] == "" && !hasDetail(details, f.Name) {
			bad(f.Name, "is required")
		}
	}
	return cfg, details
}

// decodeNotifications checks the notifications object: each key a known
// event type, category wildcard or "*" (within the provider's event
// categories when it has any), each value true or false.
func decodeNotifications(info integrations.Info, raw json.RawMessage, known map[string]hookd.EventType) (map[string]bool, []hookd.FieldError) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil || in == nil {
		return nil, []hookd.FieldError{{Field: "notifications", Message: "must be an object of event names to true or false"}}
	}
	if len(in) > maxNotifications {
		return nil, []hookd.FieldError{{Field: "notifications", Message: fmt.Sprintf("must name at most %d events", maxNotifications)}}
	}
	out := make(map[string]bool, len(in))
	var details []hookd.FieldError
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, ev := range keys {
		field := "notifications." + ev
		var on bool
		if err := json.Unmarshal(in[ev], &on); err != nil {
			details = append(details, hookd.FieldError{Field: field, Message: "must be true or false"})
			continue
		}
		if !validPattern(ev, known) {
			details = append(details, hookd.FieldError{Field: field, Message: "is not a known event type, a category wildcard such as order.*, or *"})
			continue
		}
		if on && len(info.EventCategories) > 0 && !withinCategories(ev, info.EventCategories, known) {
			details = append(details, hookd.FieldError{Field: field, Message: fmt.Sprintf("%s handles only %s events",
				info.DisplayName, strings.Join(info.EventCategories, ", "))})
			continue
		}
		out[ev] = on
	}
	return out, details
}

// withinCategories reports whether every known event a pattern covers
// belongs to one of the categories.
func withinCategories(pattern string, categories []string, known map[string]hookd.EventType) bool {
	for name, et := range known {
		if hookd.MatchesPattern(pattern, name) && !slices.Contains(categories, et.Category) {
			return false
		}
	}
	return true
}

// providerDetails runs the provider's checks, leaving out fields that
// already have a problem reported.
func providerDetails(p integrations.Provider, cfg *integrations.Config, already []hookd.FieldError) []hookd.FieldError {
	var out []hookd.FieldError
	for _, d := range p.Validate(cfg) {
		if !hasDetail(already, d.Field) && !hasDetail(out, d.Field) {
			out = append(out, d)
		}
	}
	return out
}

func hasDetail(details []hookd.FieldError, field string) bool {
	for _, d := range details {
		if d.Field == field {
			return true
		}
	}
	return false
}

// displayURL is what the settings row keeps as its URL: the masked service
// URL, since the credential itself lives in the sealed Config only.
func displayURL(info integrations.Info, cfg *integrations.Config) string {
	for _, f := range info.Fields {
		if f.Type == "url" && cfg.Field(f.Name) != "" {
			return integrations.MaskValue(f, cfg.Field(f.Name))
		}
	}
	return ""
}

// DeleteIntegration removes the owner's settings of the integration and,
// for a REST-hook integration, its subscriptions.
func (s *IntegrationService) DeleteIntegration(ctx context.Context, owner hookd.Owner, name string) (*hookd.Integration, error) {
	p, err := s.provider(name)
	if err != nil {
		return nil, err
	}
	info := p.Info()
	defer s.lockSettings(owner, info.Name)()
	rows, err := s.settingsRows(ctx, owner, info.Name)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, hookd.Errorf(hookd.ENotFound, "%s is not configured", info.DisplayName)
	}
	if info.HookKind != "" { // its subscriptions end with it
		hooks, err := s.settingsRows(ctx, owner, info.HookKind)
		if err != nil {
			return nil, err
		}
		rows = append(hooks, rows...)
	}
	for _, row := range rows {
		if err := s.deleteRow(ctx, owner, row.ID); err != nil && !hookd.IsNotFound(err) {
			return nil, err
		}
	}
	it := integration(info, false)
	return &it, nil
}
