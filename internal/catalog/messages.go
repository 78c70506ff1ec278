package catalog

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/hookd/hookd/internal/hookd"
)

// flatten turns the validator's error tree into one FieldError per failing
// instance location, fields named under root and sorted. Several failures
// at one location are joined with "; ".
func flatten(ve *jsonschema.ValidationError, root string) []hookd.FieldError {
	c := &collector{root: root, messages: map[string][]string{}}
	c.walk(ve)
	details := make([]hookd.FieldError, 0, len(c.messages))
	for field, msgs := range c.messages {
		details = append(details, hookd.FieldError{Field: field, Message: strings.Join(msgs, "; ")})
	}
	sortFieldErrors(details)
	return details
}

// collector gathers messages by field path.
type collector struct {
	root     string
	messages map[string][]string
	printer  *message.Printer // made on first use, for kinds without a message of ours
}

// add records msg at the instance location loc (plus an optional child).
func (c *collector) add(loc []string, msg string, child ...string) {
	field := fieldPath(c.root, append(slices.Clip(loc), child...))
	if !slices.Contains(c.messages[field], msg) {
		c.messages[field] = append(c.messages[field], msg)
	}
}

// walk records the leaves of an error tree.
func (c *collector) walk(e *jsonschema.ValidationError) {
	loc := e.InstanceLocation
	switch k := e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.AllOf, *kind.Reference, *kind.ContentSchema:
		if len(e.Causes) == 0 {
			c.add(loc, "is invalid")
		}
		for _, cause := range e.Causes {
			c.walk(cause)
		}
	case *kind.AnyOf:
		c.alternatives(e, "must match at least one of the allowed schemas")
	case *kind.OneOf:
		if len(k.Subschemas) > 1 {
			c.add(loc, "must match exactly one of the allowed schemas, but matches more than one")
			return
		}
		c.alternatives(e, "must match exactly one of the allowed schemas")
	case *kind.Required:
		for _, p := range k.Missing {
			c.add(loc, "is required", p)
		}
	case *kind.DependentRequired:
		for _, p := range k.Missing {
			c.add(loc, fmt.Sprintf("is required when %q is present", k.Prop), p)
		}
	case *kind.Dependency:
		if len(k.Missing) == 0 {
			for _, cause := range e.Causes {
				c.walk(cause)
			}
		}
		for _, p := range k.Missing {
			c.add(loc, fmt.Sprintf("is required when %q is present", k.Prop), p)
		}
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			c.add(loc, "is not allowed", p)
		}
	default:
		c.add(loc, c.message(e.ErrorKind))
	}
}

// alternatives reports a failed anyOf/oneOf. Branches that failed only
// because the value is not of their type are set aside: when exactly one
// branch is left its errors are reported, when none is left the allowed
// types are listed, and otherwise the generic message is used.
func (c *collector) alternatives(e *jsonschema.ValidationError, generic string) {
	var candidates []*jsonschema.ValidationError
	var types []string
	for _, branch := range e.Causes {
		if want, ok := onlyTypeMismatch(branch, e.InstanceLocation); ok {
			types = append(types, want...)
			continue
		}
		candidates = append(candidates, branch)
	}
	switch {
	case len(candidates) == 1:
		c.walk(candidates[0])
	case len(candidates) == 0 && len(types) > 0:
		c.add(e.InstanceLocation, typeMessage(types))
	default:
		c.add(e.InstanceLocation, generic)
	}
}

// onlyTypeMismatch reports whether every leaf of a branch's error tree is
// a type error at loc, and which types the branch wanted.
func onlyTypeMismatch(e *jsonschema.ValidationError, loc []string) ([]string, bool) {
	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		return k.Want, slices.Equal(e.InstanceLocation, loc)
	case *kind.Schema, *kind.Group, *kind.AllOf, *kind.Reference:
		if len(e.Causes) == 0 {
			return nil, false
		}
		var want []string
		for _, cause := range e.Causes {
			w, ok := onlyTypeMismatch(cause, loc)
			if !ok {
				return nil, false
			}
			want = append(want, w...)
		}
		return want, true
	}
	return nil, false
}

// message is the human text for one error kind at its location.
func (c *collector) message(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return typeMessage(k.Want)
	case *kind.Enum:
		return enumMessage(k.Want)
	case *kind.Const:
		if text, ok := primitiveText(k.Want); ok {
			return "must be " + text
		}
		return "must equal the allowed value"
	case *kind.Format:
		return formatMessage(k.Want)
	case *kind.MinLength:
		return fmt.Sprintf("must be at least %s long", plural(k.Want, "character"))
	case *kind.MaxLength:
		return fmt.Sprintf("must be at most %s long", plural(k.Want, "character"))
	case *kind.Pattern:
		return fmt.Sprintf("must match the pattern %s", k.Want)
	case *kind.Minimum:
		return "must be at least " + ratText(k.Want)
	case *kind.Maximum:
		return "must be at most " + ratText(k.Want)
	case *kind.ExclusiveMinimum:
		return "must be greater than " + ratText(k.Want)
	case *kind.ExclusiveMaximum:
		return "must be less than " + ratText(k.Want)
	case *kind.MultipleOf:
		return "must be a multiple of " + ratText(k.Want)
	case *kind.MinItems:
		return fmt.Sprintf("must have at least %s", plural(k.Want, "item"))
	case *kind.MaxItems:
		return fmt.Sprintf("must have at most %s", plural(k.Want, "item"))
	case *kind.AdditionalItems:
		return fmt.Sprintf("has %s more than allowed", plural(k.Count, "item"))
	case *kind.UniqueItems:
		return fmt.Sprintf("must not contain duplicate items (items %d and %d are equal)", k.Duplicates[0], k.Duplicates[1])
	case *kind.Contains:
		return "must contain at least one matching item"
	case *kind.MinProperties:
		return fmt.Sprintf("must have at least %s", plural(k.Want, "property"))
	case *kind.MaxProperties:
		return fmt.Sprintf("must have at most %s", plural(k.Want, "property"))
	case *kind.PropertyNames:
		return fmt.Sprintf("has an invalid property name %q", k.Property)
	case *kind.FalseSchema:
		return "is not allowed"
	case *kind.Not:
		return "must not match the excluded schema"
	}
	if c.printer == nil {
		c.printer = message.NewPrinter(language.English)
	}
	return k.LocalizedString(c.printer)
}

// typeMessage says which JSON types are allowed: "must be a number",
// "must be a string or null".
func typeMessage(want []string) string {
	seen := map[string]bool{}
	var parts []string
	for _, t := range want {
		if seen[t] {
			continue
		}
		seen[t] = true
		switch t {
		case "integer", "object", "array":
			parts = append(parts, "an "+t)
		case "null":
			parts = append(parts, "null")
		default:
			parts = append(parts, "a "+t)
		}
	}
	return "must be " + strings.Join(parts, " or ")
}

// enumMessage lists the allowed values: "must be one of draft, confirmed".
func enumMessage(want []any) string {
	texts := make([]string, 0, len(want))
	for _, v := range want {
		text, ok := primitiveText(v)
		if !ok {
			return "must be one of the allowed values"
		}
		texts = append(texts, text)
	}
	if len(texts) == 1 {
		return "must be " + texts[0]
	}
	return "must be one of " + strings.Join(texts, ", ")
}

// primitiveText shows a scalar JSON value; strings are shown unquoted.
func primitiveText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	case nil:
		return "null", true
	}
	return "", false
}

// formatMessage explains a failed "format" assertion.
func formatMessage(format string) string {
	switch format {
	case "date-time":
		return "must be an RFC 3339 date-time (such as 2024-01-15T10:30:00Z)"
	case "date":
		return "must be a date (YYYY-MM-DD)"
	case "time":
		return "must be an RFC 3339 time (such as 10:30:00Z)"
	case "email", "idn-email":
		return "must be a valid email address"
	case "uri", "iri":
		return "must be an absolute URI"
	case "uuid":
		return "must be a UUID"
	case "ipv4":
		return "must be an IPv4 address"
	case "ipv6":
		return "must be an IPv6 address"
	case "hostname", "idn-hostname":
		return "must be a valid hostname"
	}
	return "must be a valid " + format
}

// ratText shows an exact number as an integer or a decimal.
func ratText(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// plural shows a count with its noun: "1 item", "3 items", "2 properties".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return strconv.Itoa(n) + " " + strings.TrimSuffix(noun, "y") + "ies"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// sortFieldErrors orders details by field, comparing path segments so
// that numeric indexes sort by value ("items.2" before "items.10").
func sortFieldErrors(details []hookd.FieldError) {
	slices.SortFunc(details, func(a, b hookd.FieldError) int {
		if c := comparePaths(a.Field, b.Field); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
}

// comparePaths compares dotted paths segment by segment.
func comparePaths(a, b string) int {
	for a != "" && b != "" {
		var sa, sb string
		sa, a, _ = strings.Cut(a, ".")
		sb, b, _ = strings.Cut(b, ".")
		if c := compareSegments(sa, sb); c != 0 {
			return c
		}
	}
	return strings.Compare(a, b)
}

// compareSegments compares two path segments, numbers by value.
func compareSegments(a, b string) int {
	na, errA := strconv.Atoi(a)
	nb, errB := strconv.Atoi(b)
	if errA == nil && errB == nil {
		switch {
		case na < nb:
			return -1
		case na > nb:
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}
