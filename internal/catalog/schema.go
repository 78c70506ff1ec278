package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookd/hookd/internal/hookd"
)

// Field paths of the request bodies that carry schemas and payloads.
const (
	payloadField        = "payload"
	payloadSchemaField  = "payload_schema"
	examplePayloadField = "example_payload"
)

// schemaBase is the URL a schema is compiled under. Relative references
// resolve against it and are then refused by the loader, as is any
// absolute URL: only references inside the schema itself can be followed.
const schemaBase = "https://schemas.hookd.invalid/payload_schema.json"

// Limits on number literals in payloads. The validator turns numbers into
// exact rationals, whose cost grows with their digits and exponent; these
// bounds keep that cost small whatever a publisher sends.
const (
	maxNumberLen      = 100
	maxNumberExponent = 400
)

// Schema is a compiled JSON Schema for event payloads. It is safe for
// concurrent use.
type Schema struct {
	compiled *jsonschema.Schema
	fast     *fastSchema // nil when the schema is beyond the fast path
	raw      json.RawMessage
}

// Compile checks a tenant-supplied JSON Schema (draft 2020-12 unless it
// names another draft in $schema) and compiles it. A schema that is not
// valid JSON Schema, is not an object schema, or references anything
// outside itself answers a validation_error at "payload_schema".
func Compile(schema json.RawMessage) (*Schema, error) {
	if len(bytes.TrimSpace(schema)) == 0 || bytes.Equal(bytes.TrimSpace(schema), []byte("null")) {
		return nil, hookd.Invalid(hookd.FieldError{Field: payloadSchemaField, Message: "is required"})
	}
	doc, err := decodeJSON(schema)
	if err != nil {
		return nil, hookd.Invalid(hookd.FieldError{Field: payloadSchemaField, Message: "is not valid JSON"})
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, hookd.Invalid(hookd.FieldError{Field: payloadSchemaField, Message: "must be a JSON object"})
	}
	if details := checkNumbers(doc, payloadSchemaField); len(details) > 0 {
		return nil, hookd.Invalid(details...)
	}
	if t, ok := obj["type"]; ok && !allowsObject(t) {
		return nil, hookd.Invalid(hookd.FieldError{
			Field:   payloadSchemaField + ".type",
			Message: `must be "object": event payloads are JSON objects`,
		})
	}
	compiled, err := compileDoc(doc)
	if err != nil {
		return nil, compileError(err)
	}
	return &Schema{compiled: compiled, fast: compileFast(obj), raw: hookd.CompactJSON(schema)}, nil
}

// compileDoc compiles a decoded schema with format assertions on and every
// external reference refused.
func compileDoc(doc any) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(refusingLoader{})
	if err := c.AddResource(schemaBase, doc); err != nil {
		return nil, err
	}
	return c.Compile(schemaBase)
}

// refusingLoader is the compiler's URL loader: it loads nothing, so a
// tenant's schema can reach neither the network nor the file system.
// (The JSON Schema meta-schemas are built into the library and still load.)
type refusingLoader struct{}

// Load refuses every URL.
func (refusingLoader) Load(url string) (any, error) {
	return nil, errExternalRef
}

var errExternalRef = errors.New("external references are not allowed")

// compileError turns a compiler error into a validation_error naming the
// part of payload_schema at fault.
func compileError(err error) *hookd.Error {
	var sve *jsonschema.SchemaValidationError
	if errors.As(err, &sve) {
		var ve *jsonschema.ValidationError
		if errors.As(sve.Err, &ve) {
			if details := flatten(ve, payloadSchemaField); len(details) > 0 {
				return hookd.Invalid(details...)
			}
		}
	}
	var lue *jsonschema.LoadURLError
	if errors.As(err, &lue) {
		return hookd.Invalid(hookd.FieldError{
			Field: payloadSchemaField,
			Message: fmt.Sprintf("refers to %q, which is not allowed: only references inside the schema (such as \"#/$defs/name\") can be used",
				displayURL(lue.URL)),
		})
	}
	var rxe *jsonschema.InvalidRegexError
	if errors.As(err, &rxe) {
		return hookd.Invalid(hookd.FieldError{
			Field:   payloadSchemaField,
			Message: fmt.Sprintf("has an invalid regular expression %q: %v", rxe.Regex, rxe.Err),
		})
	}
	msg := strings.ReplaceAll(err.Error(), schemaBase, "")
	return hookd.Invalid(hookd.FieldError{Field: payloadSchemaField, Message: "is not a valid JSON Schema: " + msg})
}

// displayURL shows a URL relative to schemaBase when it is under it.
func displayURL(u string) string {
	if rest, ok := strings.CutPrefix(u, schemaBase); ok {
		return rest
	}
	dir := schemaBase[:strings.LastIndexByte(schemaBase, '/')+1]
	if rest, ok := strings.CutPrefix(u, dir); ok {
		return rest
	}
	return u
}

// allowsObject reports whether a schema's "type" value admits objects.
func allowsObject(t any) bool {
	switch t := t.(type) {
	case string:
		return t == "object"
	case []any:
		for _, v := range t {
			if v == "object" {
				return true
			}
		}
	}
	return false
}

// Raw returns the schema's JSON text, compacted. Callers must not modify it.
func (s *Schema) Raw() json.RawMessage { return s.raw }

// Validate checks an event payload against the schema. It answers one
// FieldError per failing location, with Field a JSON path under "payload"
// (such as "payload.customer.id"), sorted by field; nil means valid.
// A payload that is not JSON or not an object answers a single error at
// "payload".
func (s *Schema) Validate(payload json.RawMessage) []hookd.FieldError {
	return s.validate(payload, payloadField)
}

// CheckExample checks that an example payload validates against the
// schema, answering a validation_error with fields under "example_payload".
// An absent (empty or null) example is accepted.
func (s *Schema) CheckExample(example json.RawMessage) error {
	trimmed := bytes.TrimSpace(example)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return nil
	}
	if details := s.validate(example, examplePayloadField); len(details) > 0 {
		return hookd.Invalid(details...)
	}
	return nil
}

// validate decodes a payload and validates it, naming fields under root.
func (s *Schema) validate(payload json.RawMessage, root string) []hookd.FieldError {
	if len(bytes.TrimSpace(payload)) == 0 {
		return []hookd.FieldError{{Field: root, Message: "is required"}}
	}
	if s.fast != nil && s.fast.validText(payload) {
		return nil
	}
	doc, err := decodeFast(payload)
	if err != nil {
		// decodeFast refuses what encoding/json refuses; decoding again
		// keeps its verdict authoritative.
		if doc, err = decodeJSON(payload); err != nil {
			return []hookd.FieldError{{Field: root, Message: "is not valid JSON"}}
		}
	}
	if _, ok := doc.(map[string]any); !ok {
		return []hookd.FieldError{{Field: root, Message: "must be a JSON object"}}
	}
	if details := checkNumbers(doc, root); len(details) > 0 {
		return details
	}
	if s.fast != nil && s.fast.valid(doc) {
		return nil
	}
	err = s.compiled.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []hookd.FieldError{{Field: root, Message: "could not be validated"}}
	}
	details := flatten(ve, root)
	if len(details) == 0 {
		return []hookd.FieldError{{Field: root, Message: "does not match the event's schema"}}
	}
	return details
}

// decodeJSON decodes exactly one JSON value, keeping numbers exact.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

// checkNumbers reports numbers whose literal is too long or whose exponent
// is out of range (beyond float64, or so small or large that validating
// it exactly would be costly).
func checkNumbers(doc any, root string) []hookd.FieldError {
	var details []hookd.FieldError
	var walk func(v any, path []string)
	walk = func(v any, path []string) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				walk(child, append(path, k))
			}
		case []any:
			for i, child := range v {
				walk(child, append(path, strconv.Itoa(i)))
			}
		case json.Number:
			if !numberInRange(string(v)) {
				details = append(details, hookd.FieldError{Field: fieldPath(root, path), Message: "is a number out of range"})
			}
		}
	}
	walk(doc, make([]string, 0, 8))
	sortFieldErrors(details)
	return details
}

// numberInRange reports whether a JSON number literal is short, finite as
// a float64 and has an exponent of moderate size.
func numberInRange(lit string) bool {
	if len(lit) > maxNumberLen {
		return false
	}
	i := strings.IndexAny(lit, "eE")
	if i < 0 {
		// Without an exponent a literal of at most maxNumberLen digits
		// is below 1e100 and so always a finite float64.
		return true
	}
	exp, err := strconv.Atoi(strings.TrimPrefix(lit[i+1:], "+"))
	if err != nil || exp > maxNumberExponent || exp < -maxNumberExponent {
		return false
	}
	_, err = strconv.ParseFloat(lit, 64)
	return err == nil
}

// fieldPath joins a root field name and instance location tokens with dots.
func fieldPath(root string, tokens []string) string {
	if len(tokens) == 0 {
		return root
	}
	var b strings.Builder
	b.WriteString(root)
	for _, t := range tokens {
		b.WriteByte('.')
		b.WriteString(t)
	}
	return b.String()
}
