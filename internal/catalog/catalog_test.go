package catalog

import (
	"bytes"
	"encoding/json"
	"github.com/hookd/hookd/internal/filter"
	"reflect"
	"slices"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

// docOrderCreatedSchema is the payload_schema of the API document's
// "Get Event Details" example.
const docOrderCreatedSchema = `{
  "type": "object",
  "required": ["order_id", "status", "amount"],
  "properties": {
    "order_id": {
      "type": "string",
      "description": "Unique order identifier"
    },
    "status": {
      "type": "string",
      "enum": ["draft", "confirmed", "shipped", "delivered", "cancelled"],
      "description": "Order status"
    },
    "amount": {
      "type": "number",
      "description": "Total order amount"
    },
    "customer": {
      "type": "object",
      "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "email": {"type": "string"}
      }
    },
    "items": {
      "type": "array",
      "items": {
        "type": "object",
        "properties": {
          "product_id": {"type": "integer"},
          "name": {"type": "string"},
          "quantity": {"type": "integer"},
          "price": {"type": "number"}
        }
      }
    },
    "created_at": {
      "type": "string",
      "format": "date-time"
    }
  }
}`

// docOrderCreatedExample is the document's example_payload for order.created.
const docOrderCreatedExample = `{
  "order_id": "ORD-123",
  "status": "draft",
  "amount": 150.00,
  "customer": {
    "id": 1,
    "name": "John Doe",
    "email": "john.doe@example.com"
  },
  "items": [
    {
      "product_id": 1,
      "name": "Wireless Headphones",
      "quantity": 1,
      "price": 150.00
    }
  ],
  "created_at": "2024-01-15T10:30:00Z"
}`

// setup loads the built-in catalog or fails the test.
func setup(t testing.TB) *Catalog {
	t.Helper()
	c, err := Builtin()
	if err != nil {
		t.Fatalf("Builtin: %v", err)
	}
	return c
}

// mustSchema returns the compiled schema of a built-in type.
func mustSchema(t testing.TB, c *Catalog, name string) *Schema {
	t.Helper()
	s, ok := c.Schema(name)
	if !ok {
		t.Fatalf("no built-in schema %q", name)
	}
	return s
}

// jsonEqual reports whether two JSON texts hold the same value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("unmarshal %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

func TestBuiltinTypesInOrder(t *testing.T) {
	t.Parallel()
	c := setup(t)
	want := []string{
		"order.created", "order.updated", "order.confirmed", "order.shipped",
		"order.delivered", "order.cancelled", "payment.received", "invoice.created",
		"inventory.low_stock", "inventory.out_of_stock", "inventory.restocked",
		"product.created", "product.updated",
		"customer.created", "customer.updated", "customer.deleted", "customer.subscribed",
		"webhook.failing", "webhook.recovered", "webhook.disabled", "delivery.exhausted", "integration.failing",
	}
	var got []string
	for _, et := range c.Types() {
		got = append(got, et.Name)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Types() names = %v, want %v", got, want)
	}
	if names := slices.Collect(c.Names()); !slices.Equal(names, want) {
		t.Fatalf("Names() = %v, want %v", names, want)
	}
	for _, name := range want {
		if !IsBuiltin(name) {
			t.Errorf("IsBuiltin(%q) = false", name)
		}
	}
	for _, name := range []string{"order.refunded", "order", "", "Order.Created", "order.*"} {
		if IsBuiltin(name) {
			t.Errorf("IsBuiltin(%q) = true", name)
		}
		if _, ok := c.Get(name); ok {
			t.Errorf("Get(%q) found a type", name)
		}
	}
}

func TestBuiltinCategories(t *testing.T) {
	t.Parallel()
	c := setup(t)
	want := []Category{
		{Name: "sales", DisplayName: "Sales", EventCount: 8},
		{Name: "inventory", DisplayName: "Inventory", EventCount: 5},
		{Name: "customer", DisplayName: "Customer", EventCount: 4},
		{Name: "operations", DisplayName: "Operations", EventCount: 5},
	}
	if got := c.Categories(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Categories() = %+v, want %+v", got, want)
	}
	counts := map[string]int{}
	for _, et := range c.Types() {
		counts[et.Category]++
	}
	for _, cat := range want {
		if counts[cat.Name] != cat.EventCount {
			t.Errorf("types in %s = %d, want %d", cat.Name, counts[cat.Name], cat.EventCount)
		}
	}
	if got := Categorize(c.Types()); !reflect.DeepEqual(got, want) {
		t.Errorf("Categorize(built-ins) = %+v, want %+v", got, want)
	}
}

func TestBuiltinTypeFields(t *testing.T) {
	t.Parallel()
	c := setup(t)
	for _, et := range c.Types() {
		t.Run(et.Name, func(t *testing.T) {
			t.Parallel()
			if et.Version != "1.0" || et.Deprecated || et.Tenant != "" {
				t.Errorf("version %q deprecated %v tenant %q, want 1.0, false, \"\"", et.Version, et.Deprecated, et.Tenant)
			}
			if len(et.Description) < 20 || !bytes.HasPrefix([]byte(et.Description), []byte("Triggered when ")) {
				t.Errorf("description %q does not say when it is triggered", et.Description)
			}
			if !ValidName(et.Name) || !ValidCategory(et.Category) {
				t.Errorf("name %q or category %q is not valid", et.Name, et.Category)
			}
			s := mustSchema(t, c, et.Name)
			if errs := s.Validate(et.ExamplePayload); errs != nil {
				t.Errorf("example payload does not validate: %v", errs)
			}
			var schema map[string]any
			if err := json.Unmarshal(et.PayloadSchema, &schema); err != nil {
				t.Fatal(err)
			}
			if schema["type"] != "object" {
				t.Errorf("schema type = %v, want object", schema["type"])
			}
			required, _ := schema["required"].([]any)
			props, _ := schema["properties"].(map[string]any)
			if len(required) == 0 {
				t.Errorf("schema has no required properties")
			}
			for _, r := range required {
				if _, ok := props[r.(string)]; !ok {
					t.Errorf("required %q is not a property", r)
				}
			}
			if et.Name == "order.created" {
				return // the document's schema, which describes only some properties
			}
			assertDescribed(t, "", props)
		})
	}
}

// assertDescribed checks that every property, nested ones too, has a
// description.
func assertDescribed(t *testing.T, prefix string, props map[string]any) {
	t.Helper()
	for name, p := range props {
		sub := p.(map[string]any)
		if d, _ := sub["description"].(string); d == "" {
			t.Errorf("property %s%s has no description", prefix, name)
		}
		if nested, ok := sub["properties"].(map[string]any); ok {
			assertDescribed(t, prefix+name+".", nested)
		}
		if items, ok := sub["items"].(map[string]any); ok {
			if nested, ok := items["properties"].(map[string]any); ok {
				assertDescribed(t, prefix+name+"[].", nested)
			}
		}
	}
}

func TestOrderCreatedMatchesDocument(t *testing.T) {
	t.Parallel()
	c := setup(t)
	et, ok := c.Get("order.created")
	if !ok {
		t.Fatal("order.created missing")
	}
	if et.Description != "Triggered when a new order is created" || et.Category != "sales" {
		t.Errorf("description %q category %q", et.Description, et.Category)
	}
	if !jsonEqual(t, et.PayloadSchema, []byte(docOrderCreatedSchema)) {
		t.Errorf("payload_schema = %s, want the document's", et.PayloadSchema)
	}
	if !jsonEqual(t, et.ExamplePayload, []byte(docOrderCreatedExample)) {
		t.Errorf("example_payload = %s, want the document's", et.ExamplePayload)
	}
}

// TestListExampleFields checks the fields the document's list example
// shows for order.updated and inventory.low_stock.
func TestListExampleFields(t *testing.T) {
	t.Parallel()
	c := setup(t)
	tests := []struct {
		event  string
		fields map[string]string
	}{
		{"order.created", map[string]string{"order_id": "string", "status": "string", "amount": "number", "customer": "object"}},
		{"order.updated", map[string]string{"order_id": "string", "status": "string", "changes": "object"}},
		{"inventory.low_stock", map[string]string{"product_id": "integer", "product_name": "string", "current_stock": "integer", "threshold": "integer"}},
	}
	for _, tt := range tests {
		et, _ := c.Get(tt.event)
		fields := filter.FieldsFromSchema(et.PayloadSchema)
		for name, typ := range tt.fields {
			if got := fields.Types(name); !slices.Equal(got, []string{typ}) {
				t.Errorf("%s: %s types = %v, want [%s]", tt.event, name, got, typ)
			}
		}
	}
	// The document's examples of these payloads must be accepted.
	accepted := []struct{ event, payload string }{
		{"order.updated", `{"order_id": "ORD-124", "status": "shipped"}`},
		{"order.created", `{"order_id": "ORD-123", "status": "confirmed", "amount": 150.00, "customer": {"id": 1, "name": "John Doe"}}`},
		{"inventory.low_stock", `{"product_id": 1, "product_name": "Wireless Headphones", "current_stock": 5, "threshold": 10}`},
	}
	for _, a := range accepted {
		if errs := mustSchema(t, c, a.event).Validate(json.RawMessage(a.payload)); errs != nil {
			t.Errorf("%s %s: %v", a.event, a.payload, errs)
		}
	}
}

func TestTypesAreCopies(t *testing.T) {
	t.Parallel()
	c := setup(t)
	types := c.Types()
	types[0].PayloadSchema[0] = 'X'
	types[0].ExamplePayload[0] = 'X'
	et, _ := c.Get(types[0].Name)
	et.Description = "changed"
	again, _ := c.Get(types[0].Name)
	if again.PayloadSchema[0] != '{' || again.ExamplePayload[0] != '{' || again.Description == "changed" {
		t.Fatal("changing a returned type changed the catalog")
	}
}

func TestCategorizeTenantTypes(t *testing.T) {
	t.Parallel()
	c := setup(t)
	types := append(c.Types(),
		hookd.EventType{Name: "ticket.opened", Category: "customer_success", Tenant: "t1"},
		hookd.EventType{Name: "ticket.closed", Category: "customer_success", Tenant: "t1"},
		hookd.EventType{Name: "refund.issued", Category: "sales", Tenant: "t1"},
		hookd.EventType{Name: "build.failed", Category: "ci", Tenant: "t1"},
	)
	want := []Category{
		{Name: "sales", DisplayName: "Sales", EventCount: 9},
		{Name: "inventory", DisplayName: "Inventory", EventCount: 5},
		{Name: "customer", DisplayName: "Customer", EventCount: 4},
		{Name: "operations", DisplayName: "Operations", EventCount: 5},
		{Name: "ci", DisplayName: "Ci", EventCount: 1},
		{Name: "customer_success", DisplayName: "Customer Success", EventCount: 2},
	}
	if got := Categorize(types); !reflect.DeepEqual(got, want) {
		t.Fatalf("Categorize = %+v, want %+v", got, want)
	}
	empty := Categorize(nil)
	if len(empty) != 4 || empty[0].EventCount != 0 {
		t.Fatalf("Categorize(nil) = %+v, want the four built-in categories with no events", empty)
	}
}

func TestSchemaFor(t *testing.T) {
	t.Parallel()
	c := setup(t)
	builtin, _ := c.Get("order.created")
	s, err := c.SchemaFor(builtin)
	if err != nil || s != mustSchema(t, c, "order.created") {
		t.Fatalf("SchemaFor(built-in) = %p, %v; want the built-in schema", s, err)
	}

	custom := hookd.EventType{
		Tenant: "acme", Name: "order.created", Category: "sales", Version: "1.0",
		PayloadSchema: json.RawMessage(`{"type":"object","required":["ref"],"properties":{"ref":{"type":"string"}}}`),
	}
	s1, err := c.SchemaFor(custom)
	if err != nil {
		t.Fatal(err)
	}
	if errs := s1.Validate(json.RawMessage(`{"order_id":"x"}`)); len(errs) != 1 || errs[0].Field != "payload.ref" {
		t.Fatalf("tenant schema not used: %v", errs)
	}
	s2, _ := c.SchemaFor(custom)
	if s2 != s1 {
		t.Error("second SchemaFor compiled again instead of reusing the compilation")
	}
	custom.PayloadSchema = json.RawMessage(`{"type":"object","required":["id"]}`)
	s3, err := c.SchemaFor(custom)
	if err != nil || s3 == s1 {
		t.Fatalf("changed schema not recompiled: %p %v", s3, err)
	}
	if errs := s3.Validate(json.RawMessage(`{"ref":"x"}`)); len(errs) != 1 || errs[0].Field != "payload.id" {
		t.Fatalf("changed schema not used: %v", errs)
	}
	c.Forget("acme", "order.created")
	if s4, _ := c.SchemaFor(custom); s4 == s3 {
		t.Error("Forget kept the compilation")
	}

	custom.PayloadSchema = json.RawMessage(`{"type":"string"}`)
	if _, err := c.SchemaFor(custom); hookd.ErrorCode(err) != hookd.EValidation {
		t.Fatalf("bad tenant schema: err = %v, want validation_error", err)
	}
}

func TestMustBuiltin(t *testing.T) {
	t.Parallel()
	if c := MustBuiltin(); len(c.Types()) != 22 {
		t.Fatalf("MustBuiltin has %d types, want 22", len(c.Types()))
	}
}
