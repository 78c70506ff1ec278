package httpapi

import (
	"net/http"
	"strconv"
	"strings"
)

// openAPI serves an OpenAPI 3.1 document built from the route table, so
// the document and the router cannot drift apart.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.openAPIDocument())
}

type obj = map[string]any

// OpenAPIDocument is the document GET /api/openapi.json serves, for a
// server of the given version (hookd openapi prints it).
func OpenAPIDocument(version string) map[string]any {
	return NewServer(Deps{Version: version}).openAPIDocument()
}

func (s *Server) openAPIDocument() obj {
	paths := obj{}
	for _, rt := range s.routes {
		// Listed once, without the trailing slash (what code generators
		// expect); the router serves both forms.
		path := rt.Pattern
		item, _ := paths[path].(obj)
		if item == nil {
			item = obj{}
			paths[path] = item
		}
		item[strings.ToLower(rt.Method)] = operation(rt)
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "hookd",
			"version":     s.version,
			"description": "Webhooks & integrations server. Every path is listed without its trailing slash and also works with one (`/api/webhooks/`, the form docs/api.md uses).",
			"license":     obj{"name": "Proprietary"},
		},
		"servers": []obj{{"url": "/"}},
		"paths":   paths,
		"components": obj{
			"securitySchemes": obj{
				"bearer":    obj{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
				"zapierKey": obj{"type": "apiKey", "in": "header", "name": "X-API-Key"},
			},
			"schemas": openAPISchemas(),
		},
	}
}

func operation(rt *route) obj {
	op := obj{
		"operationId": operationID(rt),
		"summary":     rt.Summary,
		"tags":        []string{rt.Tag},
	}
	var params []obj
	for _, seg := range splitPath(rt.Pattern) {
		if strings.HasPrefix(seg, "{") {
			name := seg[1 : len(seg)-1]
			typ := "string"
			if strings.HasSuffix(name, "_id") && name != "event_id" {
				typ = "integer"
			}
			params = append(params, obj{"name": name, "in": "path", "required": true, "schema": obj{"type": typ}})
		}
	}
	for _, q := range rt.Query {
		params = append(params, obj{"name": q.Name, "in": "query", "required": false, "description": q.Description, "schema": obj{"type": q.Type}})
	}
	if params != nil {
		op["parameters"] = params
	}
	if rt.Body != "" {
		op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": ref(rt.Body)}}}
	}
	success := obj{"type": "object"}
	if rt.Result != "" {
		success = obj{"allOf": []obj{ref("Success"), {"properties": obj{"data": ref(rt.Result)}}}}
	}
	responses := obj{strconv.Itoa(rt.Status): obj{"description": "success", "content": obj{"application/json": obj{"schema": success}}}}
	if len(rt.Produces) > 0 {
		content := obj{}
		for _, mt := range rt.Produces {
			content[mt] = obj{"schema": obj{"type": "string"}}
		}
		responses[strconv.Itoa(rt.Status)] = obj{"description": "a stream that stays open", "content": content}
	}
	if rt.Pattern == "/metrics" {
		responses[strconv.Itoa(rt.Status)] = obj{"description": "Prometheus text format", "content": obj{"text/plain": obj{"schema": obj{"type": "string"}}}}
	}
	errResp := obj{"description": "error", "content": obj{"application/json": obj{"schema": ref("Error")}}}
	if rt.APIKey {
		op["security"] = []obj{{"zapierKey": []string{}}}
		responses["401"] = errResp
	}
	if rt.Auth {
		op["security"] = []obj{{"bearer": []string{}}}
		responses["401"] = errResp
		responses["429"] = errResp
	}
	if !rt.Auth && !rt.APIKey {
		op["security"] = []obj{} // public: no token
	}
	if rt.Method == http.MethodPost && rt.Pattern == "/api/events" {
		// An idempotency key seen before answers the first event (docs/api.md §5).
		responses["200"] = obj{"description": "idempotent replay: the key was used before with the same event and payload; this is the first event, nothing was queued",
			"content": obj{"application/json": obj{"schema": success}}}
		responses["409"] = obj{"description": "the idempotency key was used before with another event type or payload", "content": obj{"application/json": obj{"schema": ref("Error")}}}
	}
	if rt.Scope != "" {
		responses["403"] = errResp
		op["description"] = "Needs scope " + rt.Scope + "."
	}
	if rt.Body != "" {
		responses["400"] = errResp
		responses["413"] = errResp
		responses["422"] = errResp
	}
	if strings.Contains(rt.Pattern, "{") {
		responses["404"] = errResp
	}
	op["responses"] = responses
	return op
}

func operationID(rt *route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, seg := range splitPath(rt.Pattern) {
		seg = strings.Trim(seg, "{}")
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '_' || r == '-' || r == '.' }) {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func openAPISchemas() obj {
	str := obj{"type": "string"}
	integer := obj{"type": "integer"}
	num := obj{"type": "number"}
	boolean := obj{"type": "boolean"}
	strArr := obj{"type": "array", "items": str}
	strMap := obj{"type": "object", "additionalProperties": str}
	nullable := func(t string) obj { return obj{"type": []string{t, "null"}} }
	retry := obj{"type": "object", "additionalProperties": false, "properties": obj{
		"max_retries":        obj{"type": "integer", "minimum": 0, "maximum": 25},
		"retry_delay":        obj{"type": "integer", "minimum": 100, "maximum": 86400000, "description": "milliseconds"},
		"backoff_multiplier": obj{"type": "number", "minimum": 1, "maximum": 10},
	}}
	endpointAuth := endpointAuthSchema()
	webhookInput := func(required ...string) obj {
		o := obj{"type": "object", "additionalProperties": false, "properties": obj{
			"name": obj{"type": "string", "minLength": 1, "maxLength": 100}, "description": str,
			"url": obj{"type": "string", "format": "uri", "maxLength": 2048}, "events": obj{"type": "array", "minItems": 1, "items": str},
			"headers": strMap, "secret": obj{"type": "string", "minLength": 16, "maxLength": 128}, "is_active": boolean,
			"retry_config": retry, "filters": obj{"type": "object"}, "rate_limit": obj{"type": []string{"integer", "null"}, "minimum": 1},
			"auth": obj{"oneOf": []obj{endpointAuth, {"type": "null"}}},
		}}
		o["properties"].(obj)["max_concurrency"] = obj{"type": []string{"integer", "null"}, "minimum": 1,
			"description": "most requests in flight to the endpoint at once; null: no bound of its own"}
		o["properties"].(obj)["sensitive_headers"] = obj{"type": "array", "maxItems": 50, "items": str,
			"description": "more header names whose values are masked in answers and logs"}
		if len(required) > 0 {
			o["required"] = required
		}
		return o
	}
	webhook := obj{"type": "object", "properties": obj{
		"id": integer, "name": str, "description": str, "url": str, "events": strArr, "headers": strMap, "secret": str,
		"sensitive_headers": strArr, "is_active": boolean, "disabled_reason": nullable("string"), "created_at": str, "updated_at": str,
		"last_triggered": nullable("string"), "success_count": integer, "failure_count": integer,
		"success_rate": nullable("number"), "retry_config": retry, "filters": obj{"type": "object"}, "rate_limit": nullable("integer"),
		"max_concurrency": nullable("integer"), "auth": endpointAuth,
		"circuit": obj{"type": "object", "description": "this node's circuit breaker for the endpoint", "properties": obj{
			"state":      obj{"type": "string", "enum": []string{"closed", "open", "half_open"}},
			"open_until": obj{"type": "string", "format": "date-time", "description": "while open: when the next probe may go"},
		}},
		"delivery_stats": obj{"type": "object", "properties": obj{
			"total_deliveries": integer, "successful_deliveries": integer, "failed_deliveries": integer,
			"pending_deliveries": integer, "avg_response_time": integer, "last_response_time": nullable("integer"),
		}},
	}}
	eventType := obj{"type": "object", "properties": obj{
		"name": str, "description": str, "category": str, "version": str, "deprecated": boolean, "builtin": boolean,
		"payload_schema": obj{"type": "object"}, "example_payload": obj{"type": "object"},
		"webhooks_count": integer, "last_triggered": nullable("string"),
	}}
	eventTypeInput := func(required ...string) obj {
		o := obj{"type": "object", "additionalProperties": false, "properties": obj{
			"name": str, "description": str, "category": str, "version": str,
			"payload_schema": obj{"type": "object"}, "example_payload": obj{"type": "object"}, "deprecated": boolean,
		}}
		o["properties"].(obj)["sensitive_headers"] = obj{"type": "array", "maxItems": 50, "items": str,
			"description": "more header names whose values are masked in answers and logs"}
		if len(required) > 0 {
			o["required"] = required
		}
		return o
	}
	logEntry := obj{"type": "object", "properties": obj{
		"id": integer, "event_id": str, "event": str, "status": obj{"enum": []string{"success", "failed", "pending", "cancelled"}},
		"response_code": nullable("integer"), "response_time": nullable("integer"), "timestamp": str, "payload": obj{"type": "object"},
		"response_body": str, "error_type": str, "error_message": str, "retry_count": integer, "next_retry": nullable("string"), "test": boolean,
		"attempts": obj{"type": "array", "items": obj{"type": "object", "properties": obj{"number": integer, "timestamp": str,
			"request_headers": strMap, "response_code": nullable("integer"), "response_body": str, "response_time": integer, "error_type": str, "error_message": str}}},
	}}
	publish := obj{"type": "object", "additionalProperties": false, "required": []string{"event", "payload"}, "properties": obj{
		"event": str, "payload": obj{"type": "object"}, "idempotency_key": obj{"type": "string", "maxLength": 255}}}
	published := obj{"type": "object", "properties": obj{"id": str, "event": str, "timestamp": str, "webhooks_matched": integer, "integrations_matched": integer}}
	return obj{
		"Success": obj{"type": "object", "required": []string{"success"}, "properties": obj{
			"success": obj{"const": true}, "data": obj{"type": "object"}, "message": str}},
		"Error": obj{"type": "object", "required": []string{"success", "error"}, "properties": obj{
			"success": obj{"const": false},
			"error": obj{"type": "object", "required": []string{"code", "message"}, "properties": obj{
				"code": obj{"type": "string", "enum": []string{"bad_request", "unauthorized", "forbidden", "not_found",
					"method_not_allowed", "conflict", "payload_too_large", "validation_error", "rate_limited", "internal_error"}},
				"message": str,
				"details": obj{"type": "array", "items": obj{"type": "object", "properties": obj{"field": str, "message": str}}},
			}},
		}},
		"Webhook":         webhook,
		"WebhookCreate":   webhookInput("name", "url", "events"),
		"WebhookUpdate":   webhookInput(),
		"WebhookResult":   obj{"type": "object", "properties": obj{"webhook": ref("Webhook")}},
		"WebhookList":     obj{"type": "object", "properties": obj{"webhooks": obj{"type": "array", "items": ref("Webhook")}, "total": integer, "summary": obj{"type": "object", "properties": obj{"total_webhooks": integer, "active_webhooks": integer, "total_events": integer, "avg_success_rate": nullable("number")}}}},
		"Deleted":         obj{"type": "object", "properties": obj{"id": integer, "deleted": boolean}},
		"SecretRotated":   obj{"type": "object", "properties": obj{"webhook_id": integer, "secret": str, "previous_secret_expires_at": str}},
		"EventType":       eventType,
		"EventTypeCreate": eventTypeInput("name", "category", "payload_schema"),
		"EventTypeUpdate": eventTypeInput(),
		"EventTypeResult": obj{"type": "object", "properties": obj{"event": ref("EventType")}},
		"EventTypeList": obj{"type": "object", "properties": obj{"events": obj{"type": "array", "items": ref("EventType")},
			"categories": obj{"type": "array", "items": obj{"type": "object", "properties": obj{"name": str, "display_name": str, "event_count": integer}}}}},
		"IntegrationConfigure": obj{"type": "object", "description": "the integration's config_fields, plus notifications and message_template",
			"properties":           obj{"notifications": obj{"type": "object", "additionalProperties": boolean}, "message_template": str},
			"additionalProperties": true},
		"Integration": obj{"type": "object", "properties": obj{
			"id": integer, "name": str, "display_name": str, "description": str, "category": str, "icon": str,
			"is_available": boolean, "is_configured": boolean, "status": str, "config": obj{"type": "object"},
			"config_fields": obj{"type": "array", "items": obj{"type": "object", "properties": obj{"name": str, "type": str, "required": boolean, "description": str}}},
			"last_sync":     nullable("string"), "sync_count": integer, "error_count": integer, "success_rate": nullable("number"),
			"recent_activity": obj{"type": "array", "items": obj{"type": "object"}},
		}},
		"IntegrationList": obj{"type": "object", "properties": obj{"integrations": obj{"type": "array", "items": ref("Integration")},
			"categories": obj{"type": "array", "items": obj{"type": "object", "properties": obj{"name": str, "display_name": str, "integration_count": integer}}}}},
		"IntegrationResult":     obj{"type": "object", "properties": obj{"integration": ref("Integration")}},
		"IntegrationTestResult": obj{"type": "object", "properties": obj{"test_result": obj{"type": "object", "properties": obj{"status": str, "message": str, "response_time": integer, "timestamp": str}}}},
		"ZapierSubscribe":       obj{"type": "object", "required": []string{"hookUrl", "event"}, "properties": obj{"hookUrl": str, "event": str}},
		"TestSend":              obj{"type": "object", "additionalProperties": false, "properties": obj{"event": str, "payload": obj{"type": "object"}}},
		"TestResult": obj{"type": "object", "properties": obj{"test_result": obj{"type": "object", "properties": obj{
			"status": obj{"enum": []string{"success", "failed"}}, "response_code": nullable("integer"), "response_time": integer,
			"response_body": str, "headers_sent": strMap, "timestamp": str, "error_type": str, "error_message": str, "log_id": integer, "event_id": str}}}},
		"Log":       logEntry,
		"LogList":   obj{"type": "object", "properties": obj{"logs": obj{"type": "array", "items": ref("Log")}, "total": integer, "summary": obj{"type": "object", "properties": obj{"successful": integer, "failed": integer, "pending_retry": integer}}}},
		"LogResult": obj{"type": "object", "properties": obj{"log": ref("Log")}},
		"Recover":   obj{"type": "object", "additionalProperties": false, "required": []string{"since"}, "properties": obj{"since": str}},
		"Recovered": obj{"type": "object", "properties": obj{"webhook_id": integer, "since": str, "recovered": integer}},
		"Stats": obj{"type": "object", "properties": obj{
			"webhook_id": integer, "period": obj{"type": "object", "properties": obj{"start_date": str, "end_date": str}}, "group_by": str,
			"summary": obj{"type": "object", "properties": obj{"total_events": integer, "successful_deliveries": integer, "failed_deliveries": integer,
				"success_rate": nullable("number"), "avg_response_time": integer, "total_retries": integer}},
			"events_by_type":  obj{"type": "array", "items": obj{"type": "object", "properties": obj{"event": str, "count": integer, "success_rate": nullable("number")}}},
			"time_series":     obj{"type": "array", "items": obj{"type": "object", "properties": obj{"date": str, "total_events": integer, "successful": integer, "failed": integer, "avg_response_time": integer}}},
			"error_breakdown": obj{"type": "array", "items": obj{"type": "object", "properties": obj{"error_type": str, "count": integer, "percentage": num}}},
		}},
		"Publish":        publish,
		"PublishBatch":   obj{"type": "object", "additionalProperties": false, "required": []string{"events"}, "properties": obj{"events": obj{"type": "array", "minItems": 1, "maxItems": 500, "items": publish}}},
		"Published":      obj{"type": "object", "properties": obj{"event": published}},
		"PublishedBatch": obj{"type": "object", "properties": obj{"accepted": integer, "rejected": integer, "events": obj{"type": "array", "items": obj{"type": "object", "properties": obj{"index": integer, "success": boolean, "duplicate": boolean, "event": published, "error": obj{"type": "object"}}}}}},
		"EventResult": obj{"type": "object", "properties": obj{"event": obj{"type": "object", "properties": obj{
			"id": str, "event": str, "version": str, "timestamp": str, "payload": obj{"type": []string{"object", "null"}}, "webhooks_matched": integer, "integrations_matched": integer,
			"erased": boolean, "deliveries": obj{"type": "array", "items": obj{"type": "object"}}}}}},
		"Erase": obj{"type": "object", "additionalProperties": false, "required": []string{"events"}, "properties": obj{
			"events": obj{"type": "array", "minItems": 1, "maxItems": 100, "items": str}, "filters": obj{"type": "object"}, "before": str}},
		"Erased": obj{"type": "object", "properties": obj{"erased": integer}},
	}
}
