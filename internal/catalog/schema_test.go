package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

// mustCompile compiles a schema or fails the test.
func mustCompile(t testing.TB, schema string) *Schema {
	t.Helper()
	s, err := Compile(json.RawMessage(schema))
	if err != nil {
		t.Fatalf("Compile(%s): %v", schema, err)
	}
	return s
}

func TestValidateOrderCreated(t *testing.T) {
	t.Parallel()
	s := mustSchema(t, setup(t), "order.created")
	tests := []struct {
		name    string
		payload string
		want    []hookd.FieldError
	}{
		{"document example", docOrderCreatedExample, nil},
		{"minimal", `{"order_id":"A","status":"draft","amount":0}`, nil},
		{"extra fields allowed", `{"order_id":"A","status":"draft","amount":1,"note":"x"}`, nil},
		{"missing one required", `{"status":"draft","amount":1}`, []hookd.FieldError{fe("payload.order_id", "is required")}},
		{"missing all required", `{}`, []hookd.FieldError{
			fe("payload.amount", "is required"), fe("payload.order_id", "is required"), fe("payload.status", "is required"),
		}},
		{"wrong number type", `{"order_id":"A","status":"draft","amount":"150"}`, []hookd.FieldError{fe("payload.amount", "must be a number")}},
		{"wrong string type", `{"order_id":123,"status":"draft","amount":1}`, []hookd.FieldError{fe("payload.order_id", "must be a string")}},
		{"enum", `{"order_id":"A","status":"paid","amount":1}`, []hookd.FieldError{
			fe("payload.status", "must be one of draft, confirmed, shipped, delivered, cancelled"),
		}},
		{"nested integer", `{"order_id":"A","status":"draft","amount":1,"customer":{"id":1.5}}`, []hookd.FieldError{
			fe("payload.customer.id", "must be an integer"),
		}},
		{"nested object type", `{"order_id":"A","status":"draft","amount":1,"customer":"bob"}`, []hookd.FieldError{
			fe("payload.customer", "must be an object"),
		}},
		{"array item", `{"order_id":"A","status":"draft","amount":1,"items":[{"price":1},{"price":"x"}]}`, []hookd.FieldError{
			fe("payload.items.1.price", "must be a number"),
		}},
		{"array type", `{"order_id":"A","status":"draft","amount":1,"items":{}}`, []hookd.FieldError{fe("payload.items", "must be an array")}},
		{"date-time format", `{"order_id":"A","status":"draft","amount":1,"created_at":"yesterday"}`, []hookd.FieldError{
			fe("payload.created_at", "must be an RFC 3339 date-time (such as 2024-01-15T10:30:00Z)"),
		}},
		{"null is not a number", `{"order_id":"A","status":"draft","amount":null}`, []hookd.FieldError{fe("payload.amount", "must be a number")}},
		{"errors sorted by path, indexes by value", `{"order_id":"A","status":"draft","amount":1,"items":[` +
			strings.Repeat(`{},`, 10) + `{"quantity":"a"},{},{"quantity":"b"}]}`, []hookd.FieldError{
			fe("payload.items.10.quantity", "must be an integer"), fe("payload.items.12.quantity", "must be an integer"),
		}},
		{"not an object", `[1,2]`, []hookd.FieldError{fe("payload", "must be a JSON object")}},
		{"null", `null`, []hookd.FieldError{fe("payload", "must be a JSON object")}},
		{"string", `"order"`, []hookd.FieldError{fe("payload", "must be a JSON object")}},
		{"not JSON", `{"order_id":`, []hookd.FieldError{fe("payload", "is not valid JSON")}},
		{"trailing data", `{"order_id":"A","status":"draft","amount":1} {}`, []hookd.FieldError{fe("payload", "is not valid JSON")}},
		{"empty", ``, []hookd.FieldError{fe("payload", "is required")}},
		{"huge exponent", `{"order_id":"A","status":"draft","amount":1e999}`, []hookd.FieldError{fe("payload.amount", "is a number out of range")}},
		{"tiny exponent", `{"order_id":"A","status":"draft","amount":1,"customer":{"id":1e-999999}}`, []hookd.FieldError{
			fe("payload.customer.id", "is a number out of range"),
		}},
		{"too many digits", `{"order_id":"A","status":"draft","amount":1,"x":[` + strings.Repeat("9", 200) + `]}`, []hookd.FieldError{
			fe("payload.x.0", "is a number out of range"),
		}},
		{"float64 range allowed", `{"order_id":"A","status":"draft","amount":1.7e308}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := s.Validate(json.RawMessage(tt.payload))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate(%s)\n got %v\nwant %v", tt.payload, got, tt.want)
			}
		})
	}
}

func TestValidateErrorKinds(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, `{
		"type": "object",
		"additionalProperties": false,
		"$defs": {"address": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string", "minLength": 2}}}},
		"properties": {
			"code":     {"type": "string", "pattern": "^[A-Z]{3}$", "maxLength": 3},
			"qty":      {"type": "integer", "minimum": 1, "maximum": 10},
			"ratio":    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "multipleOf": 0.25},
			"kind":     {"const": "retail"},
			"tags":     {"type": "array", "minItems": 1, "maxItems": 2, "uniqueItems": true, "items": {"type": "string"}},
			"email":    {"type": "string", "format": "email"},
			"day":      {"type": "string", "format": "date"},
			"site":     {"type": "string", "format": "uri"},
			"id":       {"type": "string", "format": "uuid"},
			"note":     {"anyOf": [{"type": "string"}, {"type": "null"}]},
			"ref":      {"oneOf": [{"type": "string", "minLength": 3}, {"type": "integer"}]},
			"either":   {"oneOf": [{"type": "integer"}, {"type": "number"}]},
			"notstr":   {"not": {"type": "string"}},
			"never":    false,
			"address":  {"$ref": "#/$defs/address"},
			"meta":     {"type": "object", "minProperties": 1, "maxProperties": 2, "propertyNames": {"pattern": "^[a-z]+$"}},
			"card":     {"type": "object", "dependentRequired": {"number": ["cvc"]}}
		}
	}`)
	tests := []struct {
		payload string
		want    []hookd.FieldError
	}{
		{`{"code":"ABC","qty":5,"ratio":0.5,"kind":"retail","tags":["a"],"email":"a@b.co","day":"2024-01-15","note":null,"ref":"abc","either":"x","address":{"city":"Oslo"}}`,
			[]hookd.FieldError{fe("payload.either", "must be an integer or a number")}},
		{`{"code":"abcd"}`, []hookd.FieldError{fe("payload.code", "must be at most 3 characters long; must match the pattern ^[A-Z]{3}$")}},
		{`{"qty":0}`, []hookd.FieldError{fe("payload.qty", "must be at least 1")}},
		{`{"qty":11}`, []hookd.FieldError{fe("payload.qty", "must be at most 10")}},
		{`{"ratio":0}`, []hookd.FieldError{fe("payload.ratio", "must be greater than 0")}},
		{`{"ratio":1}`, []hookd.FieldError{fe("payload.ratio", "must be less than 1")}},
		{`{"ratio":0.3}`, []hookd.FieldError{fe("payload.ratio", "must be a multiple of 0.25")}},
		{`{"kind":"wholesale"}`, []hookd.FieldError{fe("payload.kind", "must be retail")}},
		{`{"tags":[]}`, []hookd.FieldError{fe("payload.tags", "must have at least 1 item")}},
		{`{"tags":["a","b","c"]}`, []hookd.FieldError{fe("payload.tags", "must have at most 2 items")}},
		{`{"tags":["a","a"]}`, []hookd.FieldError{fe("payload.tags", "must not contain duplicate items (items 0 and 1 are equal)")}},
		{`{"tags":["a",1]}`, []hookd.FieldError{fe("payload.tags.1", "must be a string")}},
		{`{"email":"nope"}`, []hookd.FieldError{fe("payload.email", "must be a valid email address")}},
		{`{"day":"15/01/2024"}`, []hookd.FieldError{fe("payload.day", "must be a date (YYYY-MM-DD)")}},
		{`{"site":"not a uri"}`, []hookd.FieldError{fe("payload.site", "must be an absolute URI")}},
		{`{"id":"123"}`, []hookd.FieldError{fe("payload.id", "must be a UUID")}},
		{`{"note":5}`, []hookd.FieldError{fe("payload.note", "must be a string or null")}},
		{`{"ref":"ab"}`, []hookd.FieldError{fe("payload.ref", "must be at least 3 characters long")}},
		{`{"ref":true}`, []hookd.FieldError{fe("payload.ref", "must be a string or an integer")}},
		{`{"either":3}`, []hookd.FieldError{fe("payload.either", "must match exactly one of the allowed schemas, but matches more than one")}},
		{`{"notstr":"s"}`, []hookd.FieldError{fe("payload.notstr", "must not match the excluded schema")}},
		{`{"never":1}`, []hookd.FieldError{fe("payload.never", "is not allowed")}},
		{`{"address":{}}`, []hookd.FieldError{fe("payload.address.city", "is required")}},
		{`{"address":{"city":"O"}}`, []hookd.FieldError{fe("payload.address.city", "must be at least 2 characters long")}},
		{`{"meta":{}}`, []hookd.FieldError{fe("payload.meta", "must have at least 1 property")}},
		{`{"meta":{"a":1,"b":2,"c":3}}`, []hookd.FieldError{fe("payload.meta", "must have at most 2 properties")}},
		{`{"meta":{"A":1}}`, []hookd.FieldError{fe("payload.meta", `has an invalid property name "A"`)}},
		{`{"card":{"number":"4242"}}`, []hookd.FieldError{fe("payload.card.cvc", `is required when "number" is present`)}},
		{`{"unknown":1,"other":2}`, []hookd.FieldError{fe("payload.other", "is not allowed"), fe("payload.unknown", "is not allowed")}},
		{`{"qty":"x","code":1}`, []hookd.FieldError{fe("payload.code", "must be a string"), fe("payload.qty", "must be an integer")}},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			got := s.Validate(json.RawMessage(tt.payload))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate(%s)\n got %v\nwant %v", tt.payload, got, tt.want)
			}
		})
	}
}

func TestCompileRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		schema    string
		wantField string
		wantMsg   string // substring
	}{
		{"empty", ``, "payload_schema", "is required"},
		{"null", `null`, "payload_schema", "is required"},
		{"not JSON", `{"type":`, "payload_schema", "is not valid JSON"},
		{"boolean schema", `true`, "payload_schema", "must be a JSON object"},
		{"array", `[]`, "payload_schema", "must be a JSON object"},
		{"not an object schema", `{"type":"string"}`, "payload_schema.type", `must be "object"`},
		{"unknown type name", `{"type":"object","properties":{"a":{"type":"numbr"}}}`, "payload_schema.properties.a.type", "must be one of array, boolean"},
		{"required not an array", `{"required":"a"}`, "payload_schema.required", "must be an array"},
		{"negative minLength", `{"properties":{"a":{"minLength":-1}}}`, "payload_schema.properties.a.minLength", "must be at least 0"},
		{"invalid regex", `{"properties":{"a":{"pattern":"(?<=a)b"}}}`, "payload_schema.properties.a.pattern", "must be a valid regex"},
		{"remote $ref", `{"$ref":"https://schemas.example.com/order.json"}`, "payload_schema", `refers to "https://schemas.example.com/order.json", which is not allowed`},
		{"relative $ref", `{"properties":{"a":{"$ref":"common.json#/$defs/x"}}}`, "payload_schema", `refers to "common.json", which is not allowed`},
		{"file $ref", `{"$ref":"file:///etc/passwd"}`, "payload_schema", `refers to "file:///etc/passwd", which is not allowed`},
		{"remote $schema", `{"$schema":"https://example.com/my-meta","type":"object"}`, "payload_schema", `refers to "https://example.com/my-meta"`},
		{"$id moves the base", `{"$id":"https://example.com/root.json","properties":{"a":{"$ref":"a.json"}}}`, "payload_schema", `refers to "https://example.com/a.json"`},
		{"number out of range", `{"properties":{"a":{"multipleOf":1e-999999}}}`, "payload_schema.properties.a.multipleOf", "is a number out of range"},
		{"missing local $ref", `{"$ref":"#/$defs/missing"}`, "payload_schema", "is not a valid JSON Schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Compile(json.RawMessage(tt.schema))
			if err == nil {
				t.Fatalf("Compile(%s) = %v, want an error", tt.schema, s)
			}
			var e *hookd.Error
			if !errors.As(err, &e) || e.Code != hookd.EValidation || len(e.Details) == 0 {
				t.Fatalf("err = %#v, want a validation_error with details", err)
			}
			d := e.Details[0]
			if d.Field != tt.wantField || !strings.Contains(d.Message, tt.wantMsg) {
				t.Errorf("details = %v, want field %s with %q", e.Details, tt.wantField, tt.wantMsg)
			}
		})
	}
}

func TestCompileAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		schema  string
		bad     string
		wantBad []hookd.FieldError
	}{
		{"local $defs ref", `{"type":"object","$defs":{"money":{"type":"number","minimum":0}},"properties":{"total":{"$ref":"#/$defs/money"}}}`,
			`{"total":-1}`, []hookd.FieldError{{Field: "payload.total", Message: "must be at least 0"}}},
		{"draft-07 meta-schema (built in, not fetched)", `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","definitions":{"id":{"type":"integer"}},"properties":{"id":{"$ref":"#/definitions/id"}}}`,
			`{"id":"x"}`, []hookd.FieldError{{Field: "payload.id", Message: "must be an integer"}}},
		{"no type", `{"required":["a"]}`, `{}`, []hookd.FieldError{{Field: "payload.a", Message: "is required"}}},
		{"type list with object", `{"type":["object","null"],"properties":{"a":{"type":"boolean"}}}`,
			`{"a":1}`, []hookd.FieldError{{Field: "payload.a", Message: "must be a boolean"}}},
		{"recursive local ref", `{"$defs":{"node":{"type":"object","properties":{"child":{"$ref":"#/$defs/node"},"v":{"type":"integer"}}}},"$ref":"#/$defs/node"}`,
			`{"child":{"child":{"v":"x"}}}`, []hookd.FieldError{{Field: "payload.child.child.v", Message: "must be an integer"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustCompile(t, tt.schema)
			if got := s.Validate(json.RawMessage(tt.bad)); !reflect.DeepEqual(got, tt.wantBad) {
				t.Errorf("Validate(%s) = %v, want %v", tt.bad, got, tt.wantBad)
			}
			if !jsonEqual(t, s.Raw(), []byte(tt.schema)) {
				t.Errorf("Raw() = %s, want %s", s.Raw(), tt.schema)
			}
		})
	}
}

// TestCompileFetchesNothing serves a schema from a loopback server and
// from a file, and checks that neither is read.
func TestCompileFetchesNothing(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/schema+json")
		fmt.Fprint(w, `{"type":"object"}`)
	}))
	t.Cleanup(srv.Close)
	path := filepath.Join(t.TempDir(), "schema.json")
	if err := os.WriteFile(path, []byte(`{"type":"object"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{srv.URL + "/schema.json", "file://" + filepath.ToSlash(path)} {
		_, err := Compile(json.RawMessage(fmt.Sprintf(`{"properties":{"a":{"$ref":%q}}}`, ref)))
		if hookd.ErrorCode(err) != hookd.EValidation || !strings.Contains(hookd.ErrorMessage(err)+fmt.Sprint(err), ref) {
			t.Errorf("Compile with $ref %s: err = %v, want a validation_error naming it", ref, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the schema server got %d requests, want 0", n)
	}
}

func TestCheckExample(t *testing.T) {
	t.Parallel()
	s := mustSchema(t, setup(t), "order.created")
	tests := []struct {
		example string
		want    []hookd.FieldError
	}{
		{``, nil},
		{`null`, nil},
		{docOrderCreatedExample, nil},
		{`{"order_id":"A","status":"draft"}`, []hookd.FieldError{{Field: "example_payload.amount", Message: "is required"}}},
		{`{"order_id":"A","status":"draft","amount":1,"items":[{"quantity":"1"}]}`, []hookd.FieldError{{Field: "example_payload.items.0.quantity", Message: "must be an integer"}}},
		{`[]`, []hookd.FieldError{{Field: "example_payload", Message: "must be a JSON object"}}},
		{`{`, []hookd.FieldError{{Field: "example_payload", Message: "is not valid JSON"}}},
	}
	for _, tt := range tests {
		err := s.CheckExample(json.RawMessage(tt.example))
		if tt.want == nil {
			if err != nil {
				t.Errorf("CheckExample(%s) = %v, want nil", tt.example, err)
			}
			continue
		}
		var e *hookd.Error
		if !errors.As(err, &e) || e.Code != hookd.EValidation || !reflect.DeepEqual(e.Details, tt.want) {
			t.Errorf("CheckExample(%s) = %v, want validation_error %v", tt.example, err, tt.want)
		}
	}
}

// TestValidateConcurrently shares one compiled schema between goroutines;
// run with -race it checks that validation keeps no shared state.
func TestValidateConcurrently(t *testing.T) {
	t.Parallel()
	c := setup(t)
	s := mustSchema(t, c, "order.created")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				bad := fmt.Sprintf(`{"order_id":"A","status":"draft","amount":"%d"}`, g*100+i)
				if errs := s.Validate(json.RawMessage(bad)); len(errs) != 1 || errs[0].Field != "payload.amount" {
					t.Errorf("Validate(%s) = %v", bad, errs)
					return
				}
				if errs := s.Validate(json.RawMessage(docOrderCreatedExample)); errs != nil {
					t.Errorf("example: %v", errs)
					return
				}
				tenant := hookd.EventType{Tenant: fmt.Sprint("t", g%3), Name: "x.y", PayloadSchema: json.RawMessage(`{"type":"object"}`)}
				if _, err := c.SchemaFor(tenant); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// fe makes a FieldError for test tables.
func fe(field, message string) hookd.FieldError {
	return hookd.FieldError{Field: field, Message: message}
}
