package filter

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestFieldsFromSchema(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		schema string
		want   map[string][]string // path → types; nil types: any
	}{
		{"order.created", orderCreatedSchema, map[string][]string{
			"order_id": {"string"}, "status": {"string"}, "amount": {"number"}, "currency": {"string"},
			"customer": {"object"}, "customer.id": {"integer"}, "customer.name": {"string"}, "customer.email": {"string"},
			"items": {"array"}, "items.product_id": {"integer"}, "items.name": {"string"},
			"items.quantity": {"integer"}, "items.price": {"number"},
			"tags": {"array"}, "note": {"null", "string"}, "created_at": {"string"},
		}},
		{"$defs reference", `{
		  "type": "object",
		  "properties": {"customer": {"$ref": "#/$defs/customer"}, "billing": {"$ref": "#/$defs/address"}},
		  "$defs": {
		    "customer": {"type": "object", "properties": {"id": {"type": "integer"}, "address": {"$ref": "#/$defs/address"}}},
		    "address": {"type": "object", "properties": {"city": {"type": "string"}}}
		  }
		}`, map[string][]string{
			"customer": {"object"}, "customer.id": {"integer"}, "customer.address": {"object"},
			"customer.address.city": {"string"}, "billing": {"object"}, "billing.city": {"string"},
		}},
		{"definitions and escaped pointer", `{
		  "properties": {"a": {"$ref": "#/definitions/x~1y"}, "b": {"$ref": "#/definitions/list/0"}},
		  "definitions": {"x/y": {"type": "boolean"}, "list": [{"type": "integer"}]}
		}`, map[string][]string{"a": {"boolean"}, "b": {"integer"}}},
		{"array items by reference", `{
		  "properties": {"lines": {"type": "array", "items": {"$ref": "#/$defs/line"}}},
		  "$defs": {"line": {"properties": {"sku": {"type": "string"}}}}
		}`, map[string][]string{"lines": {"array"}, "lines.sku": {"string"}}},
		{"nested arrays and tuples", `{"properties": {
		  "grid": {"type": "array", "items": {"type": "array", "items": {"properties": {"v": {"type": "number"}}}}},
		  "pair": {"type": "array", "items": [{"properties": {"x": {"type": "integer"}}}], "prefixItems": [{"properties": {"y": {"type": "integer"}}}]}
		}}`, map[string][]string{"grid": {"array"}, "grid.v": {"number"}, "pair": {"array"}, "pair.x": {"integer"}, "pair.y": {"integer"}}},
		{"composition merges", `{
		  "allOf": [{"properties": {"a": {"type": "string"}}}, {"properties": {"b": {"type": "integer"}}}],
		  "anyOf": [{"properties": {"c": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}],
		  "oneOf": [{"properties": {"a": {"type": "integer"}}}],
		  "if": {"properties": {"ignored": {"type": "string"}}},
		  "then": {"properties": {"d": {"type": "boolean"}}},
		  "else": {"properties": {"e": {"type": "object"}}}
		}`, map[string][]string{
			"a": {"integer", "string"}, "b": {"integer"}, "c": {"null", "string"}, "d": {"boolean"}, "e": {"object"},
		}},
		{"types inferred", `{"properties": {
		  "level": {"enum": ["low", "high", null]},
		  "version": {"const": 2},
		  "ratio": {"const": 0.5},
		  "meta": {"properties": {"k": {}}},
		  "list": {"items": {}},
		  "free": {},
		  "open": true,
		  "dangling": {"$ref": "#/$defs/missing"},
		  "remote": {"$ref": "https://example.com/schema.json"}
		}}`, map[string][]string{
			"level": {"null", "string"}, "version": {"integer", "number"}, "ratio": {"number"},
			"meta": {"object"}, "meta.k": nil, "list": {"array"}, "free": nil, "open": nil,
			"dangling": nil, "remote": nil,
		}},
		{"recursive schema stops", `{
		  "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}}
		}`, map[string][]string{
			"name": {"string"}, "children": {"array"}, "children.name": {"string"}, "children.children": {"array"},
		}},
		{"not JSON", `{"properties":`, map[string][]string{}},
		{"boolean schema", `true`, map[string][]string{}},
		{"no properties", `{"type": "object"}`, map[string][]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := FieldsFromSchema(json.RawMessage(tt.schema))
			got := map[string][]string{}
			for _, p := range f.Paths() {
				if !f.Has(p) {
					t.Errorf("Paths lists %q but Has says no", p)
				}
				got[p] = f.Types(p)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("fields\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestFieldsLimits(t *testing.T) {
	t.Parallel()
	// Each definition refers to the next one from ten properties, so a naive
	// walk would visit 10^8 paths.
	var defs []string
	for i := range 8 {
		props := make([]string, 10)
		for j := range props {
			props[j] = fmt.Sprintf(`"p%d": {"$ref": "#/$defs/d%d"}`, j, i+1)
		}
		defs = append(defs, fmt.Sprintf(`"d%d": {"properties": {%s}}`, i, strings.Join(props, ",")))
	}
	defs = append(defs, `"d8": {"type": "string"}`)
	schema := `{"$ref": "#/$defs/d0", "$defs": {` + strings.Join(defs, ",") + `}}`
	f := FieldsFromSchema(json.RawMessage(schema))
	if n := len(f.Paths()); n == 0 || n > maxSchemaFields {
		t.Fatalf("got %d fields, want between 1 and %d", n, maxSchemaFields)
	}
	if !f.Has("p0.p0") {
		t.Error("the first paths should still be there")
	}
}

func TestNewFields(t *testing.T) {
	t.Parallel()
	f := NewFields(map[string][]string{"a": {"string", "null"}, "b": nil, "c": {"bogus"}})
	if got := f.Types("a"); !reflect.DeepEqual(got, []string{"null", "string"}) {
		t.Errorf("Types(a) = %v", got)
	}
	if f.Types("b") != nil || f.Types("c") != nil || !f.Has("b") || !f.Has("c") {
		t.Error("fields without known types must be defined and take any type")
	}
	if f.Has("d") || f.Types("d") != nil {
		t.Error("undefined path reported")
	}
	var none *Fields
	if none.Has("a") || none.Paths() != nil || none.Types("a") != nil {
		t.Error("nil Fields must define nothing")
	}
	// NewFields works for Validate and Match like schema-derived fields.
	flt := mustCompile(t, `{"a": "x"}`)
	if errs := flt.Validate(map[string]*Fields{"t.e": f}); errs != nil {
		t.Errorf("Validate = %v", errs)
	}
	if flt.Match("t.e", f, mustDecode(t, `{"a": "y"}`)) {
		t.Error("a = y matched a = x")
	}
}
