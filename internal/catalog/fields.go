package catalog

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Bounds on SchemaFields' walk: how deep it goes (and so how long a field
// path can be) and how many subschemas it visits in all, so that a
// recursive or heavily cross-referenced tenant schema stays cheap.
const (
	maxFieldDepth = 32
	maxFieldSteps = 10_000
)

// FieldInfo describes one property path that a schema defines.
type FieldInfo struct {
	// Types lists the JSON types the schema allows there ("string",
	// "integer", ...), sorted; empty when the schema does not say.
	Types []string
}

// Allows reports whether the field may hold the JSON type t. A field
// whose types are unknown allows anything, and "number" allows integers.
func (f FieldInfo) Allows(t string) bool {
	if len(f.Types) == 0 {
		return true
	}
	return slices.Contains(f.Types, t) || t == "integer" && slices.Contains(f.Types, "number")
}

// SchemaFields lists every dotted property path a schema defines, with its
// JSON types: for the order.created schema "order_id", "customer",
// "customer.id", "items", "items.product_id" and so on. It walks
// "properties" of objects, "items" and "prefixItems" of arrays (an array's
// item properties extend the array's own path), allOf/anyOf/oneOf, and
// local "$ref"s into the schema; anything else is ignored, as is a schema
// that is not valid JSON.
func SchemaFields(schema json.RawMessage) map[string]FieldInfo {
	var root any
	if err := json.Unmarshal(schema, &root); err != nil {
		return map[string]FieldInfo{}
	}
	w := &fieldWalker{root: root, types: map[string]map[string]bool{}, seen: map[string]bool{}, budget: maxFieldSteps}
	w.walk(root)
	fields := make(map[string]FieldInfo, len(w.types))
	for path, set := range w.types {
		info := FieldInfo{}
		for t := range set {
			info.Types = append(info.Types, t)
		}
		slices.Sort(info.Types)
		fields[path] = info
	}
	return fields
}

// fieldWalker collects property paths and their types.
type fieldWalker struct {
	root   any
	types  map[string]map[string]bool
	seen   map[string]bool // "$ref\x00prefix" pairs already walked
	budget int             // subschemas left to visit
}

// step spends one unit of the walk's budget, reporting whether any was left.
func (w *fieldWalker) step() bool {
	if w.budget <= 0 {
		return false
	}
	w.budget--
	return true
}

// walk visits the schema breadth first, so that when the budget runs out
// (a recursive schema) the shorter paths are the ones listed.
func (w *fieldWalker) walk(root any) {
	type visit struct {
		node   any
		prefix string // path of the object whose properties node defines, plus "."
		depth  int
	}
	queue := []visit{{root, "", 0}}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		obj, ok := v.node.(map[string]any)
		if !ok || v.depth > maxFieldDepth || !w.step() {
			continue
		}
		next := func(node any, prefix string) {
			if node != nil {
				queue = append(queue, visit{node, prefix, v.depth + 1})
			}
		}
		if ref, ok := obj["$ref"].(string); ok {
			if key := ref + "\x00" + v.prefix; !w.seen[key] {
				w.seen[key] = true
				next(w.resolve(ref), v.prefix)
			}
		}
		for _, kw := range []string{"allOf", "anyOf", "oneOf"} {
			if subs, ok := obj[kw].([]any); ok {
				for _, sub := range subs {
					next(sub, v.prefix)
				}
			}
		}
		if props, ok := obj["properties"].(map[string]any); ok {
			for _, name := range slices.Sorted(maps.Keys(props)) {
				sub := props[name]
				path := v.prefix + name
				set := w.types[path]
				if set == nil {
					set = map[string]bool{}
					w.types[path] = set
				}
				for _, t := range w.typesOf(sub, v.depth+1) {
					set[t] = true
				}
				next(sub, path+".")
			}
		}
		next(obj["items"], v.prefix)
		if items, ok := obj["prefixItems"].([]any); ok {
			for _, sub := range items {
				next(sub, v.prefix)
			}
		}
	}
}

// typesOf returns the JSON types a subschema allows, from "type", else
// from its enum/const values, through local $refs and combinators.
func (w *fieldWalker) typesOf(node any, depth int) []string {
	obj, ok := node.(map[string]any)
	if !ok || depth > maxFieldDepth || !w.step() {
		return nil
	}
	switch t := obj["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, v := range t {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	if values, ok := obj["enum"].([]any); ok {
		var out []string
		for _, v := range values {
			out = append(out, jsonType(v))
		}
		return out
	}
	if v, ok := obj["const"]; ok {
		return []string{jsonType(v)}
	}
	var out []string
	if ref, ok := obj["$ref"].(string); ok {
		out = append(out, w.typesOf(w.resolve(ref), depth+1)...)
	}
	for _, kw := range []string{"anyOf", "oneOf"} {
		if subs, ok := obj[kw].([]any); ok {
			for _, sub := range subs {
				ts := w.typesOf(sub, depth+1)
				if len(ts) == 0 {
					return nil // one branch allows anything
				}
				out = append(out, ts...)
			}
		}
	}
	return out
}

// resolve follows a local reference ("#/$defs/address") to its subschema;
// anything else resolves to nil.
func (w *fieldWalker) resolve(ref string) any {
	ptr, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil
	}
	node := w.root
	if ptr == "" {
		return node
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil // a named anchor: not followed
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch n := node.(type) {
		case map[string]any:
			node = n[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil
			}
			node = n[i]
		default:
			return nil
		}
	}
	return node
}

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}
