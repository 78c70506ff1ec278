package app

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
)

// maxActivity is how many recent sends a status shows.
const maxActivity = 20

// destinationRows returns the rows that receive an integration's sends:
// the settings row, or the active subscription rows of a REST-hook
// integration (a subscription switched off by a 410 counts as removed).
func (s *IntegrationService) destinationRows(ctx context.Context, owner hookd.Owner, info integrations.Info, settings *hookd.Webhook) ([]*hookd.Webhook, error) {
	if info.HookKind == "" {
		return []*hookd.Webhook{settings}, nil
	}
	active := true
	rows, _, err := s.Store.ListWebhooks(ctx, owner, hookd.WebhookQuery{Kind: info.HookKind, Active: &active})
	return rows, err
}

// counters adds up the counters of rows; LastSync is the latest
// successful send that was not a test.
func (s *IntegrationService) counters(ctx context.Context, owner hookd.Owner, rows []*hookd.Webhook) (hookd.IntegrationStatus, error) {
	var st hookd.IntegrationStatus
	ids := make([]int64, len(rows))
	for i, row := range rows {
		ids[i] = row.ID
	}
	counters, err := s.Store.WebhookStats(ctx, ids)
	if err != nil {
		return st, err
	}
	for _, row := range rows {
		c := counters[row.ID]
		st.SyncCount += c.SuccessCount
		st.ErrorCount += c.FailureCount
		if c.SuccessCount == 0 {
			continue
		}
		done, _, _, err := s.Store.ListDeliveries(ctx, owner, row.ID, hookd.DeliveryQuery{Status: "success", Limit: 100})
		if err != nil {
			return st, err
		}
		for _, d := range done {
			if d.Test {
				continue
			}
			at := finishedAt(d)
			if st.LastSync == nil || at.After(*st.LastSync) {
				st.LastSync = &at
			}
			break // newest first
		}
	}
	return st, nil
}

func finishedAt(d *hookd.Delivery) time.Time {
	if d.CompletedAt != nil {
		return *d.CompletedAt
	}
	return d.UpdatedAt
}

// recentActivity returns the latest sends over rows, newest first.
func (s *IntegrationService) recentActivity(ctx context.Context, owner hookd.Owner, p integrations.Provider, rows []*hookd.Webhook) ([]hookd.IntegrationActivity, error) {
	out := []hookd.IntegrationActivity{}
	for _, row := range rows {
		cfg, err := integrations.ParseConfig(row.Config)
		if err != nil {
			return nil, err
		}
		ds, _, _, err := s.Store.ListDeliveries(ctx, owner, row.ID, hookd.DeliveryQuery{Limit: maxActivity})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			a := hookd.IntegrationActivity{Event: d.EventType, Status: d.APIStatus(), Test: d.Test, NextRetry: d.NextRetry(), At: finishedAt(d)}
			switch {
			case a.Status == "success" && d.ErrorMessage != "":
				a.Message = d.ErrorMessage // a note, such as why nothing was sent
			case a.Status == "success":
				a.Message = capitalize(p.Summary(cfg))
			case a.Status == "pending":
				a.Message, a.At = "Waiting to be sent", d.CreatedAt
			case d.ErrorMessage != "":
				a.Message = d.ErrorMessage
			default:
				a.Message = d.ErrorType
			}
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	if len(out) > maxActivity {
		out = out[:maxActivity]
	}
	return out, nil
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// IntegrationStatus returns the owner's settings of the integration with
// its counters and recent activity.
func (s *IntegrationService) IntegrationStatus(ctx context.Context, owner hookd.Owner, name string) (*hookd.IntegrationStatus, error) {
	p, row, err := s.configured(ctx, owner, name)
	if err != nil {
		return nil, err
	}
	info := p.Info()
	cfg, err := integrations.ParseConfig(row.Config)
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
	if st.RecentActivity, err = s.recentActivity(ctx, owner, p, rows); err != nil {
		return nil, err
	}
	st.Integration = integration(info, true)
	st.Active, st.DisabledReason = row.IsActive, row.DisabledReason
	st.Config = integrations.MaskedConfig(info, cfg)
	st.ConfiguredAt, st.UpdatedAt = row.CreatedAt, row.UpdatedAt
	if info.HookKind != "" {
		n := len(rows)
		st.Subscriptions = &n
	}
	return &st, nil
}

// TestIntegration sends one event through the integration now, to each of
// its destinations, and reports what happened; a failed send is an
// outcome, not an error. The sends are logged as tests: they show in
// recent activity but not in the counters.
func (s *IntegrationService) TestIntegration(ctx context.Context, owner hookd.Owner, name string, in hookd.TestInput) (*hookd.IntegrationTest, error) {
	p, row, err := s.configured(ctx, owner, name)
	if err != nil {
		return nil, err
	}
	info := p.Info()
	known, err := s.knownTypes(ctx, owner.Tenant)
	if err != nil {
		return nil, err
	}
	cfg, err := integrations.ParseConfig(row.Config)
	if err != nil {
		return nil, err
	}
	et, payload, err := testEvent(in, s.testEventType(info, cfg, known), known)
	if err != nil {
		return nil, err
	}
	targets, err := s.destinationRows(ctx, owner, info, row)
	if err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return &hookd.IntegrationTest{At: s.Now(), Message: "No " + info.DisplayName + " subscription to send to yet"}, nil
	}
	res := &hookd.IntegrationTest{}
	var attempts []hookd.Attempt
	for i, target := range targets {
		ev := &hookd.Event{Tenant: owner.Tenant, Publisher: owner.User, Type: et.Name, Version: et.Version,
			Payload: payload, IntegrationsMatched: 1}
		sent, err := s.testSend(ctx, target, ev)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			res.EventID = sent.Event.ID
		}
		attempts = append(attempts, sent.Attempt)
	}
	summarizeTest(res, p, targets, attempts)
	return res, nil
}

// summarizeTest fills a test result from the attempts made, one per
// target.
func summarizeTest(res *hookd.IntegrationTest, p integrations.Provider, targets []*hookd.Webhook, attempts []hookd.Attempt) {
	var failure *hookd.Attempt
	var notes []string
	for i := range attempts {
		a := &attempts[i]
		res.ResponseTime += a.ResponseTimeMs
		res.ResponseCode = a.ResponseCode
		switch {
		case a.ErrorType != "" && failure == nil:
			failure = a
		case a.ErrorType == "" && a.ErrorMessage != "":
			notes = append(notes, a.ErrorMessage)
		}
	}
	res.At = attempts[0].StartedAt
	if failure != nil {
		res.ErrorType, res.ErrorMessage = failure.ErrorType, failure.ErrorMessage
		res.Message = failure.ErrorMessage
		return
	}
	res.Success = true
	switch {
	case len(notes) > 0:
		res.Message = "Test completed: " + notes[0]
	case len(targets) > 1:
		res.Message = fmt.Sprintf("Test event sent to %d %s subscriptions", len(targets), p.Info().DisplayName)
	default:
		cfg, _ := integrations.ParseConfig(targets[0].Config)
		res.Message = "Test " + p.Summary(cfg)
	}
}

// testEventType picks the event a test sends when the request names none:
// the first switched-on event type, else the first the integration may
// handle.
func (s *IntegrationService) testEventType(info integrations.Info, cfg *integrations.Config, known map[string]hookd.EventType) string {
	var candidates []string
	for _, et := range s.Catalog.Types() {
		candidates = append(candidates, et.Name)
	}
	for _, pattern := range cfg.Events() {
		for _, name := range candidates {
			if hookd.MatchesPattern(pattern, name) {
				return name
			}
		}
		if _, ok := known[pattern]; ok {
			return pattern
		}
	}
	for _, name := range candidates {
		if len(info.EventCategories) == 0 || slices.Contains(info.EventCategories, known[name].Category) {
			return name
		}
	}
	return "order.created"
}
