package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/auth"
)

// apiClient talks to one hookd as one (tenant, user) with scope
// events:publish, over keep-alive connections.
type apiClient struct {
	base  string
	token string
	http  *http.Client
	// manage sets webhooks up and tears them down; publishing sends
	// pre-rendered bodies through http instead, so that the load
	// generator spends no CPU re-encoding them.
	manage *client.Client
}

// newAPIClient issues a token for tenant and returns a client for base.
func newAPIClient(base, tenant string, now time.Time) (*apiClient, error) {
	tok, err := auth.Issue([]byte(jwtSecret), auth.Principal{Tenant: tenant, User: "bench", Scopes: []string{"events:publish"}}, 2*time.Hour, now)
	if err != nil {
		return nil, err
	}
	hc := newLoadClient()
	manage, err := client.New(base, tok, client.WithHTTPClient(hc), client.WithUserAgent("hookbench"))
	if err != nil {
		return nil, err
	}
	return &apiClient{base: base, token: tok, http: hc, manage: manage}, nil
}

// newLoadClient is the HTTP client every load generator uses: keep-alive,
// and as many idle connections to the one host as the most publishers of
// a phase (the latency phase's at 2,000 events/s), so none is opened
// again under load.
func newLoadClient() *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     time.Minute,
		},
	}
}

// close drops the client's idle connections.
func (c *apiClient) close() { c.http.CloseIdleConnections() }

// do sends one API request and decodes the answer's data into out when
// the status is the wanted one.
func (c *apiClient) do(ctx context.Context, method, path string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %.300s", method, path, resp.StatusCode, want, raw)
	}
	if out == nil {
		return nil
	}
	env := struct {
		Data any `json:"data"`
	}{Data: out}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// createWebhook subscribes url to order.created (default retry policy, no
// filters) and returns the webhook's id.
func (c *apiClient) createWebhook(ctx context.Context, name, url string) (int64, error) {
	wh, err := c.manage.CreateWebhook(ctx, client.WebhookInput{Name: &name, URL: &url, Events: []string{"order.created"}})
	if err != nil {
		return 0, err
	}
	return wh.ID, nil
}

// deleteWebhook removes a webhook and cancels its pending deliveries.
func (c *apiClient) deleteWebhook(ctx context.Context, id int64) error {
	return c.manage.DeleteWebhook(ctx, id)
}

// publish posts one event body to POST /api/events/ and returns its id.
func (c *apiClient) publish(ctx context.Context, body []byte) (string, error) {
	var out struct {
		Event struct {
			ID string `json:"id"`
		} `json:"event"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/events/", body, http.StatusAccepted, &out); err != nil {
		return "", err
	}
	if out.Event.ID == "" {
		return "", fmt.Errorf("POST /api/events/: answer without event id")
	}
	return out.Event.ID, nil
}

// publishAnswer posts one event body to POST /api/events/ and returns
// the answer's status (0 when the request failed before one came) and,
// on 202, the event's id.
func (c *apiClient) publishAnswer(ctx context.Context, body []byte) (id string, status int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/events/", bytes.NewReader(body))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("POST /api/events/: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", resp.StatusCode, fmt.Errorf("POST /api/events/: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusAccepted {
		return "", resp.StatusCode, fmt.Errorf("POST /api/events/: status %d: %.300s", resp.StatusCode, raw)
	}
	var out struct {
		Data struct {
			Event struct {
				ID string `json:"id"`
			} `json:"event"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Data.Event.ID == "" {
		return "", resp.StatusCode, fmt.Errorf("POST /api/events/: answer without event id: %.300s", raw)
	}
	return out.Data.Event.ID, resp.StatusCode, nil
}

// webhookState is what the backlog phase checks of its webhook: still
// switched on, and its circuit as the answering node sees it.
type webhookState struct {
	IsActive       bool    `json:"is_active"`
	DisabledReason *string `json:"disabled_reason"`
	Circuit        struct {
		State string `json:"state"`
	} `json:"circuit"`
}

// webhookState reads a webhook's state.
func (c *apiClient) webhookState(ctx context.Context, id int64) (webhookState, error) {
	var out struct {
		Webhook webhookState `json:"webhook"`
	}
	err := c.do(ctx, http.MethodGet, "/api/webhooks/"+strconv.FormatInt(id, 10)+"/", nil, http.StatusOK, &out)
	return out.Webhook, err
}

// failedEvents lists the event ids of a webhook's deliveries whose logs
// say failed (for good, or waiting for a retry), every page of them.
func (c *apiClient) failedEvents(ctx context.Context, webhookID int64) ([]string, error) {
	var ids []string
	for offset := 0; ; {
		page, err := c.manage.ListLogs(ctx, webhookID, client.ListLogsOptions{Status: "failed", Limit: 200, Offset: offset})
		if err != nil {
			return nil, err
		}
		for _, l := range page.Logs {
			ids = append(ids, l.EventID)
		}
		offset += len(page.Logs)
		if len(page.Logs) == 0 || offset >= page.Total {
			return ids, nil
		}
	}
}

// publishBatch posts a body of n events to POST /api/events/batch/ and
// fails unless all n were accepted.
func (c *apiClient) publishBatch(ctx context.Context, body []byte, n int) error {
	var out struct {
		Accepted int `json:"accepted"`
		Rejected int `json:"rejected"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/events/batch/", body, http.StatusAccepted, &out); err != nil {
		return err
	}
	if out.Accepted != n {
		return fmt.Errorf("batch of %d: %d accepted, %d rejected", n, out.Accepted, out.Rejected)
	}
	return nil
}

// orderPayload renders an order.created payload of about 860 bytes, so
// that the body hookd delivers (with its envelope) is about 1 KB.
func orderPayload(seq int) []byte {
	b := make([]byte, 0, 1024)
	b = append(b, `{"order_id":"ORD-`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `","status":"confirmed","amount":`...)
	b = strconv.AppendInt(b, int64(100+seq%900), 10)
	b = append(b, `.50,"customer":{"id":`...)
	b = strconv.AppendInt(b, int64(seq%10000), 10)
	b = append(b, `,"name":"Benchmark Customer","email":"customer@example.com"},"items":[`...)
	for i := range 6 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"product_id":`...)
		b = strconv.AppendInt(b, int64(1000+i), 10)
		b = append(b, `,"name":"Wireless Headphones, noise cancelling, model `...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `","quantity":1,"price":25.25}`...)
	}
	b = append(b, `],"created_at":"2024-01-15T10:30:00Z"}`...)
	return b
}

// eventBody renders one event for POST /api/events/.
func eventBody(seq int) []byte {
	b := append([]byte(`{"event":"order.created","payload":`), orderPayload(seq)...)
	return append(b, '}')
}

// batchBody renders n events from seq on for POST /api/events/batch/.
func batchBody(seq, n int) []byte {
	b := make([]byte, 0, n*900+16)
	b = append(b, `{"events":[`...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, eventBody(seq+i)...)
	}
	return append(b, "]}"...)
}
