package catalog

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestSchemaFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		schema string
		want   map[string][]string // path -> types
	}{
		{"order.created (document)", docOrderCreatedSchema, map[string][]string{
			"order_id": {"string"}, "status": {"string"}, "amount": {"number"},
			"customer": {"object"}, "customer.id": {"integer"}, "customer.name": {"string"}, "customer.email": {"string"},
			"items": {"array"}, "items.product_id": {"integer"}, "items.name": {"string"},
			"items.quantity": {"integer"}, "items.price": {"number"},
			"created_at": {"string"},
		}},
		{"local refs to $defs and definitions", `{
			"$defs": {"customer": {"type": "object", "properties": {"id": {"type": "integer"}, "address": {"$ref": "#/definitions/address"}}}},
			"definitions": {"address": {"type": "object", "properties": {"city": {"type": "string"}}}},
			"properties": {"buyer": {"$ref": "#/$defs/customer"}, "seller": {"$ref": "#/$defs/customer"}}
		}`, map[string][]string{
			"buyer": {"object"}, "buyer.id": {"integer"}, "buyer.address": {"object"}, "buyer.address.city": {"string"},
			"seller": {"object"}, "seller.id": {"integer"}, "seller.address": {"object"}, "seller.address.city": {"string"},
		}},
		{"type lists, enum and const without type, combinators", `{
			"properties": {
				"note": {"type": ["string", "null"]},
				"level": {"enum": [1, 2, 3]},
				"mode": {"const": "fast"},
				"id": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
				"loose": {"anyOf": [{"type": "integer"}, {}]}
			},
			"allOf": [{"properties": {"extra": {"type": "boolean"}}}],
			"oneOf": [{"properties": {"card": {"type": "object", "properties": {"last4": {"type": "string"}}}}}]
		}`, map[string][]string{
			"note": {"null", "string"}, "level": {"integer"}, "mode": {"string"}, "id": {"integer", "string"},
			"loose": nil, "extra": {"boolean"}, "card": {"object"}, "card.last4": {"string"},
		}},
		{"arrays of arrays and prefixItems", `{
			"properties": {
				"matrix": {"type": "array", "items": {"type": "array", "items": {"type": "object", "properties": {"v": {"type": "number"}}}}},
				"pair": {"type": "array", "prefixItems": [{"type": "object", "properties": {"k": {"type": "string"}}}]}
			}
		}`, map[string][]string{
			"matrix": {"array"}, "matrix.v": {"number"}, "pair": {"array"}, "pair.k": {"string"},
		}},
		{"unresolvable and remote refs are ignored", `{
			"properties": {"a": {"$ref": "#/$defs/none"}, "b": {"$ref": "https://example.com/x.json"}, "c": {"$ref": "#anchor"}}
		}`, map[string][]string{"a": nil, "b": nil, "c": nil}},
		{"not JSON", `{`, map[string][]string{}},
		{"not an object", `[1]`, map[string][]string{}},
		{"no properties", `{"type": "object"}`, map[string][]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := map[string][]string{}
			for path, info := range SchemaFields(json.RawMessage(tt.schema)) {
				got[path] = info.Types
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SchemaFields =\n %v\nwant\n %v", got, tt.want)
			}
		})
	}
}

func TestSchemaFieldsRecursionIsBounded(t *testing.T) {
	t.Parallel()
	// A self-referencing tree: paths left.right.left... could go on forever.
	tree := `{"$defs": {"node": {"type": "object", "properties": {"left": {"$ref": "#/$defs/node"}, "right": {"$ref": "#/$defs/node"}, "v": {"type": "integer"}}}}, "$ref": "#/$defs/node"}`
	fields := SchemaFields(json.RawMessage(tree))
	if fields["left.right.v"].Types[0] != "integer" {
		t.Errorf("left.right.v = %v, want integer", fields["left.right.v"])
	}
	if len(fields) > maxFieldSteps {
		t.Errorf("%d fields, want at most %d", len(fields), maxFieldSteps)
	}
	for path := range fields {
		if n := strings.Count(path, ".") + 1; n > maxFieldDepth {
			t.Fatalf("path %s has %d segments, want at most %d", path, n, maxFieldDepth)
		}
	}

	// A chain of definitions each referring twice to the next would take
	// 2^40 steps to walk naively.
	var defs []string
	for i := range 40 {
		defs = append(defs, fmt.Sprintf(`"d%d": {"allOf": [{"$ref": "#/$defs/d%d"}, {"$ref": "#/$defs/d%d"}], "properties": {"p%d": {"type": "string"}}}`, i, i+1, i+1, i))
	}
	defs = append(defs, `"d40": {"properties": {"last": {"type": "integer"}}}`)
	chain := `{"$defs": {` + strings.Join(defs, ",") + `}, "$ref": "#/$defs/d0"}`
	fields = SchemaFields(json.RawMessage(chain))
	if _, ok := fields["p0"]; !ok {
		t.Errorf("p0 missing from %v", fields)
	}
}

func TestBuiltinSchemaFieldsHaveTypes(t *testing.T) {
	t.Parallel()
	c := setup(t)
	for _, et := range c.Types() {
		fields := mustSchema(t, c, et.Name).Fields()
		if len(fields) == 0 {
			t.Errorf("%s: no fields", et.Name)
		}
		for path, info := range fields {
			if len(info.Types) == 0 && !strings.HasSuffix(path, ".from") && !strings.HasSuffix(path, ".to") {
				t.Errorf("%s: field %s has no type", et.Name, path)
			}
		}
	}
	fields := mustSchema(t, c, "customer.subscribed").Fields()
	for _, name := range []string{"customer_id", "email", "first_name", "last_name"} {
		if _, ok := fields[name]; !ok {
			t.Errorf("customer.subscribed lacks %s", name)
		}
	}
}

func TestFieldInfoAllows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		types []string
		t     string
		want  bool
	}{
		{nil, "string", true},
		{[]string{"string"}, "string", true},
		{[]string{"string"}, "number", false},
		{[]string{"number"}, "integer", true},
		{[]string{"integer"}, "number", false},
		{[]string{"null", "string"}, "null", true},
	}
	for _, tt := range tests {
		if got := (FieldInfo{Types: tt.types}).Allows(tt.t); got != tt.want {
			t.Errorf("FieldInfo{%v}.Allows(%q) = %v, want %v", tt.types, tt.t, got, tt.want)
		}
	}
}
