package catalog

import (
	"errors"

	"github.com/hookd/hookd/internal/hookd"
)

// Bounds on the free-text fields of a tenant's event type.
const (
	MaxDescriptionLen = 500
	MaxVersionLen     = 20
)

// CheckEventType checks a tenant's event type before it is registered or
// changed: its name, category, version, description, payload schema and
// example payload. It answers the compiled schema, or a validation_error
// listing every bad field. Whether the name is free (not built-in, not
// already registered) is the caller's to check.
func CheckEventType(et hookd.EventType) (*Schema, error) {
	var details []hookd.FieldError
	bad := func(field, msg string) { details = append(details, hookd.FieldError{Field: field, Message: msg}) }
	switch {
	case et.Name == "":
		bad("name", "is required")
	case !ValidName(et.Name):
		bad("name", "must be 2 or 3 dot-separated lower-case segments such as \"order.created\" ([a-z][a-z0-9_]* each, at most 100 characters)")
	}
	switch {
	case et.Category == "":
		bad("category", "is required")
	case !ValidCategory(et.Category):
		bad("category", "must be a lower-case name such as \"sales\" ([a-z][a-z0-9_]*, at most 50 characters)")
	}
	switch {
	case et.Version == "":
		bad("version", "is required")
	case !validVersion(et.Version):
		bad("version", "must be 1 to 20 letters, digits, dots, dashes or underscores, starting with a letter or digit (such as \"1.0\")")
	}
	if len([]rune(et.Description)) > MaxDescriptionLen {
		bad("description", "must be at most 500 characters long")
	}
	sch, err := Compile(et.PayloadSchema)
	if err != nil {
		details = append(details, fieldErrors(err)...)
	} else if err := sch.CheckExample(et.ExamplePayload); err != nil {
		details = append(details, fieldErrors(err)...)
	}
	if len(details) > 0 {
		sortFieldErrors(details)
		return nil, hookd.Invalid(details...)
	}
	return sch, nil
}

// fieldErrors returns the details of a validation error.
func fieldErrors(err error) []hookd.FieldError {
	var e *hookd.Error
	if errors.As(err, &e) && len(e.Details) > 0 {
		return e.Details
	}
	return []hookd.FieldError{{Field: payloadSchemaField, Message: hookd.ErrorMessage(err)}}
}

// validVersion reports whether v is a short version label like "1.0" or
// "2024-01".
func validVersion(v string) bool {
	if v == "" || len(v) > MaxVersionLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '-' && c != '_') {
			return false
		}
	}
	return true
}
