package httpapi

import "net/http"

// routeTable lists every route hookd serves. The router, authentication
// and /api/openapi.json are all built from this one list.
func (s *Server) routeTable() []*route {
	page := []param{
		{"limit", "integer", "number of records (1-200, default 50)"},
		{"offset", "integer", "number of records to skip (default 0)"},
	}
	h := func(f http.HandlerFunc) http.Handler { return f }
	return []*route{
		{Method: "GET", Pattern: "/healthz", Summary: "Liveness: 200 once the server accepts requests", Tag: "operations", Status: 200, handler: h(s.health)},
		{Method: "GET", Pattern: "/readyz", Summary: "Readiness: 200 while the database can be read and written", Tag: "operations", Status: 200, handler: h(s.ready)},
		{Method: "GET", Pattern: "/metrics", Summary: "Prometheus metrics", Tag: "operations", Status: 200, handler: s.metricsHandler()},
		{Method: "GET", Pattern: "/api/openapi.json", Summary: "This API as an OpenAPI 3.1 document", Tag: "operations", Status: 200, handler: h(s.openAPI)},

		{Method: "POST", Pattern: "/api/webhooks", Summary: "Create a webhook", Tag: "webhooks", Auth: true, Status: 201, Body: "WebhookCreate", Result: "WebhookResult", handler: h(s.createWebhook)},
		{Method: "GET", Pattern: "/api/webhooks", Summary: "List the caller's webhooks", Tag: "webhooks", Auth: true, Status: 200, Result: "WebhookList",
			Query: append([]param{{"status", "string", "active or inactive"}, {"event", "string", "event type (wildcards match)"}}, page...), handler: h(s.listWebhooks)},
		{Method: "GET", Pattern: "/api/webhooks/{webhook_id}", Summary: "Get a webhook with its delivery stats", Tag: "webhooks", Auth: true, Status: 200, Result: "WebhookResult", handler: h(s.getWebhook)},
		{Method: "PUT", Pattern: "/api/webhooks/{webhook_id}", Summary: "Update the fields named, keep the others", Tag: "webhooks", Auth: true, Status: 200, Body: "WebhookUpdate", Result: "WebhookResult", handler: h(s.updateWebhook)},
		{Method: "DELETE", Pattern: "/api/webhooks/{webhook_id}", Summary: "Delete a webhook and cancel its pending deliveries", Tag: "webhooks", Auth: true, Status: 200, Result: "Deleted", handler: h(s.deleteWebhook)},
		{Method: "POST", Pattern: "/api/webhooks/{webhook_id}/rotate-secret", Summary: "Rotate the signing secret (the old one signs too for 24 h)", Tag: "webhooks", Auth: true, Status: 200, Result: "SecretRotated", handler: h(s.rotateSecret)},

		{Method: "POST", Pattern: "/api/webhooks/{webhook_id}/test", Summary: "Send a test delivery now and report the result", Tag: "webhooks", Auth: true, Status: 200, Body: "TestSend", Result: "TestResult", handler: h(s.testSend)},
		{Method: "GET", Pattern: "/api/webhooks/{webhook_id}/logs", Summary: "List delivery logs, newest first", Tag: "logs", Auth: true, Status: 200, Result: "LogList",
			Query: append([]param{{"status", "string", "success, failed or pending"}, {"event", "string", "event type"},
				{"start_date", "string", "date or RFC 3339 time"}, {"end_date", "string", "date or RFC 3339 time"}}, page...), handler: h(s.listLogs)},
		{Method: "GET", Pattern: "/api/webhooks/{webhook_id}/logs/{log_id}", Summary: "A delivery log with every attempt", Tag: "logs", Auth: true, Status: 200, Result: "LogResult", handler: h(s.getLog)},
		{Method: "POST", Pattern: "/api/webhooks/{webhook_id}/logs/{log_id}/retry", Summary: "Deliver that event to that webhook again, now", Tag: "logs", Auth: true, Status: 200, Result: "LogResult", handler: h(s.retryLog)},
		{Method: "POST", Pattern: "/api/webhooks/{webhook_id}/recover", Summary: "Queue again every delivery that failed for good since a time", Tag: "logs", Auth: true, Status: 200, Body: "Recover", Result: "Recovered", handler: h(s.recoverLogs)},
		{Method: "GET", Pattern: "/api/webhooks/{webhook_id}/stats", Summary: "Delivery statistics", Tag: "logs", Auth: true, Status: 200, Result: "Stats",
			Query: []param{{"start_date", "string", "date or RFC 3339 time (default: 30 days ago)"}, {"end_date", "string", "date or RFC 3339 time (default: now)"},
				{"group_by", "string", "hour, day (default), week or month"}}, handler: h(s.webhookStats)},

		{Method: "POST", Pattern: "/api/events", Summary: "Publish an event", Tag: "events", Auth: true, Publishing: true, Scope: "events:publish", Status: 202, Body: "Publish", Result: "Published", handler: h(s.publishEvent)},
		{Method: "POST", Pattern: "/api/events/batch", Summary: "Publish up to 500 events", Tag: "events", Auth: true, Publishing: true, Scope: "events:publish", Status: 202, Body: "PublishBatch", Result: "PublishedBatch", handler: h(s.publishBatch)},
		{Method: "GET", Pattern: "/api/events/stream", Summary: "Stream the tenant's events live (NDJSON or Server-Sent Events), resuming after Last-Event-ID", Tag: "events", Auth: true, QueryToken: true, Status: 200, Produces: []string{"application/x-ndjson", "text/event-stream"},
			Query: []param{{"events", "string", "comma-separated event types, wildcards such as order.* allowed (default: all)"}, {"format", "string", "json (NDJSON, the default) or sse"},
				{"last_event_id", "string", "resume after this event id (the Last-Event-ID header wins)"}, {"access_token", "string", "the bearer token, for clients that cannot set headers (EventSource)"}}, handler: h(s.streamEvents)},
		{Method: "GET", Pattern: "/api/events/{event_id}", Summary: "A published event with its deliveries", Tag: "events", Auth: true, Status: 200, Result: "EventResult", handler: h(s.getEvent)},
		{Method: "POST", Pattern: "/api/events/erase", Summary: "Erase the payloads of the tenant's events matching names, filters and a time", Tag: "events", Auth: true, Scope: "events:admin", Status: 200, Body: "Erase", Result: "Erased", handler: h(s.eraseEvents)},
		{Method: "DELETE", Pattern: "/api/events/{event_id}", Summary: "Erase the payload of one event", Tag: "events", Auth: true, Scope: "events:admin", Status: 200, Result: "Erased", handler: h(s.eraseEvent)},

		{Method: "GET", Pattern: "/api/webhooks/events", Summary: "List event types with categories", Tag: "events", Auth: true, Status: 200, Result: "EventTypeList", handler: h(s.listEventTypes)},
		{Method: "POST", Pattern: "/api/webhooks/events", Summary: "Register a tenant event type", Tag: "events", Auth: true, Scope: "events:admin", Status: 201, Body: "EventTypeCreate", Result: "EventTypeResult", handler: h(s.createEventType)},
		{Method: "GET", Pattern: "/api/webhooks/events/{event_name}", Summary: "Get an event type", Tag: "events", Auth: true, Status: 200, Result: "EventTypeResult", handler: h(s.getEventType)},
		{Method: "PUT", Pattern: "/api/webhooks/events/{event_name}", Summary: "Change a tenant event type", Tag: "events", Auth: true, Scope: "events:admin", Status: 200, Body: "EventTypeUpdate", Result: "EventTypeResult", handler: h(s.updateEventType)},
		{Method: "DELETE", Pattern: "/api/webhooks/events/{event_name}", Summary: "Deprecate a tenant event type", Tag: "events", Auth: true, Scope: "events:admin", Status: 200, Result: "EventTypeResult", handler: h(s.deprecateEventType)},

		{Method: "GET", Pattern: "/api/integrations", Summary: "List the integrations with the caller's configuration state", Tag: "integrations", Auth: true, Status: 200, Result: "IntegrationList", handler: h(s.listIntegrations)},
		{Method: "POST", Pattern: "/api/integrations/{name}/configure", Summary: "Configure an integration: its fields, notifications and message_template", Tag: "integrations", Auth: true, Status: 200, Body: "IntegrationConfigure", Result: "IntegrationResult", handler: h(s.configureIntegration)},
		{Method: "POST", Pattern: "/api/integrations/{name}/test", Summary: "Send a test event through a configured integration now", Tag: "integrations", Auth: true, Status: 200, Body: "TestSend", Result: "IntegrationTestResult", handler: h(s.testIntegration)},
		{Method: "GET", Pattern: "/api/integrations/{name}/status", Summary: "Status, counters and recent activity of a configured integration", Tag: "integrations", Auth: true, Status: 200, Result: "IntegrationResult", handler: h(s.integrationStatus)},
		{Method: "DELETE", Pattern: "/api/integrations/{name}", Summary: "Remove an integration's settings", Tag: "integrations", Auth: true, Status: 200, handler: h(s.deleteIntegration)},
		{Method: "POST", Pattern: "/api/integrations/zapier/subscribe", Summary: "Zapier REST Hook subscribe (X-API-Key): {hookUrl, event}", Tag: "integrations", APIKey: true, Status: 201, Body: "ZapierSubscribe", handler: h(s.zapierSubscribe)},
		{Method: "DELETE", Pattern: "/api/integrations/zapier/subscribe/{id}", Summary: "Zapier REST Hook unsubscribe (X-API-Key)", Tag: "integrations", APIKey: true, Status: 200, handler: h(s.zapierUnsubscribe)},
		{Method: "GET", Pattern: "/api/integrations/zapier/me", Summary: "Zapier authentication test (X-API-Key)", Tag: "integrations", APIKey: true, Status: 200, handler: h(s.zapierMe)},
		{Method: "GET", Pattern: "/api/integrations/zapier/samples/{event}", Summary: "Example payloads of an event for Zapier (X-API-Key): a JSON array", Tag: "integrations", APIKey: true, Status: 200, handler: h(s.zapierSamples)},
	}
}
