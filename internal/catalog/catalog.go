// Package catalog holds hookd's built-in event types, each with the JSON
// Schema its payloads must satisfy, and the rules for event type names and
// subscription patterns. It compiles and checks tenants' own schemas too,
// and turns validation failures into hookd.FieldErrors with JSON paths.
package catalog

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/hookd/hookd/internal/hookd"
)

// BuiltinVersion is the version of every built-in event type.
const BuiltinVersion = "1.0"

// typeFiles holds one JSON file per built-in event type.
//
//go:embed types/*.json
var typeFiles embed.FS

// Category groups event types in listings.
type Category struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	EventCount  int    `json:"event_count"`
}

// categoryLayout is a built-in category and its events, in listing order.
type categoryLayout struct {
	name, displayName string
	events            []string
}

// builtinLayout lists the built-in categories and event types in the
// order they are listed.
func builtinLayout() []categoryLayout {
	return []categoryLayout{
		{"sales", "Sales", []string{
			"order.created", "order.updated", "order.confirmed", "order.shipped",
			"order.delivered", "order.cancelled", "payment.received", "invoice.created",
		}},
		{"inventory", "Inventory", []string{
			"inventory.low_stock", "inventory.out_of_stock", "inventory.restocked",
			"product.created", "product.updated",
		}},
		{"customer", "Customer", []string{
			"customer.created", "customer.updated", "customer.deleted", "customer.subscribed",
		}},
		{"operations", "Operations", hookd.OperationalEvents},
	}
}

// IsBuiltin reports whether name is one of the built-in event types.
func IsBuiltin(name string) bool {
	for _, c := range builtinLayout() {
		if slices.Contains(c.events, name) {
			return true
		}
	}
	return false
}

// Catalog is the set of built-in event types with their compiled schemas.
// It also compiles tenants' schemas on demand and keeps the most recent
// compilation of each. It is safe for concurrent use.
type Catalog struct {
	types      []hookd.EventType // in listing order
	index      map[string]int
	schemas    map[string]*Schema
	categories []Category

	mu     sync.Mutex
	tenant map[tenantTypeKey]tenantSchema
}

// tenantTypeKey names a tenant's event type.
type tenantTypeKey struct{ tenant, name string }

// tenantSchema is a tenant schema's text and its compilation.
type tenantSchema struct {
	raw    string
	schema *Schema
}

// typeFile is the shape of a file under types/.
type typeFile struct {
	Name           string          `json:"name"`
	Description    string          `json:"description"`
	Category       string          `json:"category"`
	PayloadSchema  json.RawMessage `json:"payload_schema"`
	ExamplePayload json.RawMessage `json:"example_payload"`
}

// Builtin loads the built-in event types and compiles their schemas,
// checking that each example payload validates.
func Builtin() (*Catalog, error) {
	c := &Catalog{
		index:   map[string]int{},
		schemas: map[string]*Schema{},
		tenant:  map[tenantTypeKey]tenantSchema{},
	}
	files, err := fs.Glob(typeFiles, "types/*.json")
	if err != nil {
		return nil, err
	}
	for _, layout := range builtinLayout() {
		for _, name := range layout.events {
			et, sch, err := loadBuiltin(name, layout.name)
			if err != nil {
				return nil, fmt.Errorf("catalog: built-in type %s: %w", name, err)
			}
			c.index[name] = len(c.types)
			c.types = append(c.types, et)
			c.schemas[name] = sch
		}
		c.categories = append(c.categories, Category{
			Name: layout.name, DisplayName: layout.displayName, EventCount: len(layout.events),
		})
	}
	if len(files) != len(c.types) {
		return nil, fmt.Errorf("catalog: %d type files embedded but %d built-in types listed", len(files), len(c.types))
	}
	return c, nil
}

// MustBuiltin is Builtin for callers that cannot go on without the
// catalog; it panics on error, which only a broken build can cause.
func MustBuiltin() *Catalog {
	c, err := Builtin()
	if err != nil {
		panic(err)
	}
	return c
}

// loadBuiltin reads, compiles and checks one built-in type's file.
func loadBuiltin(name, category string) (hookd.EventType, *Schema, error) {
	data, err := typeFiles.ReadFile("types/" + name + ".json")
	if err != nil {
		return hookd.EventType{}, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f typeFile
	if err := dec.Decode(&f); err != nil {
		return hookd.EventType{}, nil, err
	}
	switch {
	case f.Name != name:
		return hookd.EventType{}, nil, fmt.Errorf("file names type %q", f.Name)
	case f.Category != category:
		return hookd.EventType{}, nil, fmt.Errorf("file has category %q, want %q", f.Category, category)
	case f.Description == "":
		return hookd.EventType{}, nil, errors.New("no description")
	case len(f.ExamplePayload) == 0:
		return hookd.EventType{}, nil, errors.New("no example payload")
	}
	sch, err := Compile(f.PayloadSchema)
	if err != nil {
		return hookd.EventType{}, nil, err
	}
	if err := sch.CheckExample(f.ExamplePayload); err != nil {
		return hookd.EventType{}, nil, err
	}
	et := hookd.EventType{
		Name:           f.Name,
		Description:    f.Description,
		Category:       f.Category,
		Version:        BuiltinVersion,
		PayloadSchema:  sch.Raw(),
		ExamplePayload: hookd.CompactJSON(f.ExamplePayload),
	}
	return et, sch, nil
}

// Types returns the built-in event types, by category (sales, inventory,
// customer) and then in their listed order. The result is the caller's.
func (c *Catalog) Types() []hookd.EventType {
	out := make([]hookd.EventType, len(c.types))
	for i, et := range c.types {
		out[i] = cloneType(et)
	}
	return out
}

// Names yields the built-in event type names in listing order.
func (c *Catalog) Names() iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, et := range c.types {
			if !yield(et.Name) {
				return
			}
		}
	}
}

// Get returns the built-in event type called name.
func (c *Catalog) Get(name string) (hookd.EventType, bool) {
	i, ok := c.index[name]
	if !ok {
		return hookd.EventType{}, false
	}
	return cloneType(c.types[i]), true
}

// Categories returns the built-in categories with their event counts.
func (c *Catalog) Categories() []Category {
	return slices.Clone(c.categories)
}

// Schema returns the compiled schema of the built-in event type name.
func (c *Catalog) Schema(name string) (*Schema, bool) {
	s, ok := c.schemas[name]
	return s, ok
}

// SchemaFor returns the compiled schema of any event type: a built-in
// one's (when et has no tenant and a built-in name), or a tenant type's,
// compiled on first use and again whenever its schema text changes.
func (c *Catalog) SchemaFor(et hookd.EventType) (*Schema, error) {
	if et.Tenant == "" {
		if s, ok := c.schemas[et.Name]; ok {
			return s, nil
		}
	}
	key := tenantTypeKey{et.Tenant, et.Name}
	raw := string(et.PayloadSchema)
	c.mu.Lock()
	cached, ok := c.tenant[key]
	c.mu.Unlock()
	if ok && cached.raw == raw {
		return cached.schema, nil
	}
	s, err := Compile(et.PayloadSchema)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.tenant[key] = tenantSchema{raw: raw, schema: s}
	c.mu.Unlock()
	return s, nil
}

// Forget drops the cached compilation of a tenant's event type, for when
// the type is deleted.
func (c *Catalog) Forget(tenant, name string) {
	c.mu.Lock()
	delete(c.tenant, tenantTypeKey{tenant, name})
	c.mu.Unlock()
}

// Categorize counts event types by category: the built-in categories
// first (always listed, in their order), then any others by name, with a
// display name made from the category name ("customer_success" becomes
// "Customer Success").
func Categorize(types []hookd.EventType) []Category {
	counts := map[string]int{}
	for _, et := range types {
		counts[et.Category]++
	}
	var out []Category
	for _, layout := range builtinLayout() {
		out = append(out, Category{Name: layout.name, DisplayName: layout.displayName, EventCount: counts[layout.name]})
		delete(counts, layout.name)
	}
	var others []string
	for name := range counts {
		others = append(others, name)
	}
	slices.Sort(others)
	for _, name := range others {
		out = append(out, Category{Name: name, DisplayName: displayName(name), EventCount: counts[name]})
	}
	return out
}

// displayName title-cases a category name's underscore-separated words.
func displayName(name string) string {
	words := strings.Split(name, "_")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// cloneType copies an event type so that callers cannot change the
// catalog's schema or example bytes.
func cloneType(et hookd.EventType) hookd.EventType {
	et.PayloadSchema = slices.Clone(et.PayloadSchema)
	et.ExamplePayload = slices.Clone(et.ExamplePayload)
	return et
}
