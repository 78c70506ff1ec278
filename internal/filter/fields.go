package filter

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// typeSet is a set of JSON Schema types a field may take.
type typeSet uint8

const (
	typeNull typeSet = 1 << iota
	typeBoolean
	typeInteger
	typeNumber
	typeString
	typeArray
	typeObject

	typeAny     = typeNull | typeBoolean | typeInteger | typeNumber | typeString | typeArray | typeObject
	typeNumeric = typeInteger | typeNumber
)

// typeNames lists the JSON Schema type names in typeSet bit order.
func typeNames() [7]string {
	return [...]string{"null", "boolean", "integer", "number", "string", "array", "object"}
}

// typeFromName returns the set holding the named JSON Schema type, or 0.
func typeFromName(name string) typeSet {
	for i, n := range typeNames() {
		if n == name {
			return 1 << i
		}
	}
	return 0
}

// names lists the types in the set; nil for typeAny.
func (t typeSet) names() []string {
	if t == typeAny {
		return nil
	}
	var out []string
	for i, n := range typeNames() {
		if t&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// String renders the set for error messages ("string or null").
func (t typeSet) String() string {
	if t == typeAny {
		return "any type"
	}
	return strings.Join(t.names(), " or ")
}

// Fields is the set of dotted payload paths an event type's schema defines,
// each with the JSON types the schema allows there. A Fields is immutable;
// build it once per schema and reuse the same pointer, since filters cache
// their per-event-type work keyed by it.
type Fields struct {
	types map[string]typeSet
}

// NewFields builds Fields from path → JSON Schema type names ("string",
// "number", "integer", "object", "array", "boolean", "null"). An empty or
// unrecognised list means the field may hold any type.
func NewFields(paths map[string][]string) *Fields {
	f := &Fields{types: make(map[string]typeSet, len(paths))}
	for path, names := range paths {
		var t typeSet
		for _, n := range names {
			t |= typeFromName(n)
		}
		if t == 0 {
			t = typeAny
		}
		f.types[path] = t
	}
	return f
}

// Has reports whether the schema defines path. A nil Fields defines nothing.
func (f *Fields) Has(path string) bool {
	if f == nil {
		return false
	}
	_, ok := f.types[path]
	return ok
}

// Types returns the JSON types the schema allows at path, nil when it
// allows any type or does not define path.
func (f *Fields) Types(path string) []string {
	return f.typeOf(path).names()
}

func (f *Fields) typeOf(path string) typeSet {
	if f == nil {
		return typeAny
	}
	if t, ok := f.types[path]; ok {
		return t
	}
	return typeAny
}

// Paths returns every defined path, sorted.
func (f *Fields) Paths() []string {
	if f == nil {
		return nil
	}
	out := make([]string, 0, len(f.types))
	for p := range f.types {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Limits on schema walking, so that a hostile or recursive schema cannot
// make FieldsFromSchema run long or grow without bound.
const (
	maxSchemaPathDepth = 16
	maxSchemaFields    = 4096
	maxSchemaVisits    = 1 << 16
)

// FieldsFromSchema lists the paths a JSON Schema defines: the names under
// "properties", recursively as dotted paths ("customer.id"); the element
// properties of arrays under the array's own path ("items.product_id");
// local "$ref"s ("#/$defs/…", "#/definitions/…", any "#/…" pointer)
// followed; allOf, anyOf, oneOf, then and else merged. A schema that is
// not valid JSON defines nothing.
func FieldsFromSchema(schema json.RawMessage) *Fields {
	f := &Fields{types: map[string]typeSet{}}
	var root any
	if err := json.Unmarshal(schema, &root); err != nil {
		return f
	}
	w := &schemaWalker{root: root, fields: f.types}
	w.walk(root, "", false, 0)
	return f
}

// schemaWalker collects the fields of one schema.
type schemaWalker struct {
	root   any
	fields map[string]typeSet
	refs   []string // $refs being expanded, to stop on cycles
	visits int
}

// walk records the fields below schema at path. self says whether path
// itself is a field (false for the root and for array elements, whose
// properties live under the array's path).
func (w *schemaWalker) walk(schema any, path string, self bool, depth int) {
	w.visits++
	s, ok := schema.(map[string]any)
	if !ok || w.visits > maxSchemaVisits || len(w.fields) >= maxSchemaFields {
		if self {
			w.add(path, typeAny)
		}
		return
	}
	if own, known := ownTypes(s); known && self {
		w.add(path, own)
	}
	if ref, ok := s["$ref"].(string); ok {
		w.followRef(ref, path, self, depth)
	}
	for _, key := range []string{"allOf", "anyOf", "oneOf"} {
		if subs, ok := s[key].([]any); ok {
			for _, sub := range subs {
				w.walk(sub, path, self, depth)
			}
		}
	}
	for _, key := range []string{"then", "else"} {
		if sub, ok := s[key]; ok {
			w.walk(sub, path, self, depth)
		}
	}
	if props, ok := s["properties"].(map[string]any); ok && depth < maxSchemaPathDepth {
		names := make([]string, 0, len(props))
		for name := range props {
			names = append(names, name)
		}
		sort.Strings(names) // deterministic under the limits above
		for _, name := range names {
			w.walk(props[name], joinPath(path, name), true, depth+1)
		}
	}
	switch items := s["items"].(type) {
	case map[string]any:
		w.walk(items, path, false, depth)
	case []any: // draft-07 tuple form
		for _, it := range items {
			w.walk(it, path, false, depth)
		}
	}
	if prefix, ok := s["prefixItems"].([]any); ok {
		for _, it := range prefix {
			w.walk(it, path, false, depth)
		}
	}
	if self {
		if _, seen := w.fields[path]; !seen {
			w.add(path, typeAny) // typed only through something unresolved
		}
	}
}

// followRef walks the target of a local reference, unless it is already
// being expanded further up (a recursive schema).
func (w *schemaWalker) followRef(ref, path string, self bool, depth int) {
	for _, r := range w.refs {
		if r == ref {
			return
		}
	}
	target, ok := resolvePointer(w.root, ref)
	if !ok {
		return
	}
	w.refs = append(w.refs, ref)
	w.walk(target, path, self, depth)
	w.refs = w.refs[:len(w.refs)-1]
}

func (w *schemaWalker) add(path string, t typeSet) {
	if path == "" {
		return
	}
	if _, ok := w.fields[path]; !ok && len(w.fields) >= maxSchemaFields {
		return
	}
	w.fields[path] |= t
}

// ownTypes reads the types a schema node states itself: "type" (a name or
// a list), else the types of its "const" or "enum" values, else object when
// it has "properties" and array when it has "items". known is false when
// the node says nothing about its type.
func ownTypes(s map[string]any) (t typeSet, known bool) {
	switch v := s["type"].(type) {
	case string:
		t = typeFromName(v)
	case []any:
		for _, n := range v {
			if name, ok := n.(string); ok {
				t |= typeFromName(name)
			}
		}
	}
	if t != 0 {
		return t, true
	}
	if c, ok := s["const"]; ok {
		return valueType(c), true
	}
	if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
		for _, v := range enum {
			t |= valueType(v)
		}
		return t, true
	}
	if _, ok := s["properties"]; ok {
		return typeObject, true
	}
	if _, ok := s["items"]; ok {
		return typeArray, true
	}
	return 0, false
}

// valueType is the JSON Schema type of a value decoded by encoding/json.
func valueType(v any) typeSet {
	switch x := v.(type) {
	case nil:
		return typeNull
	case bool:
		return typeBoolean
	case float64:
		if x == float64(int64(x)) {
			return typeInteger | typeNumber
		}
		return typeNumber
	case string:
		return typeString
	case []any:
		return typeArray
	case map[string]any:
		return typeObject
	}
	return typeAny
}

// resolvePointer follows a local reference ("#" or "#/a/b") from root.
func resolvePointer(root any, ref string) (any, bool) {
	if ref == "#" {
		return root, true
	}
	if !strings.HasPrefix(ref, "#/") {
		return nil, false // remote references and anchors are not followed
	}
	cur := root
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch node := cur.(type) {
		case map[string]any:
			next, ok := node[tok]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(node) {
				return nil, false
			}
			cur = node[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
