package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

func TestCompileEmpty(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"", "  ", "null", "{}", " { } "} {
		f, err := Compile(json.RawMessage(raw))
		if err != nil {
			t.Fatalf("Compile(%q): %v", raw, err)
		}
		if !f.IsEmpty() {
			t.Errorf("Compile(%q).IsEmpty() = false", raw)
		}
		if !f.Match("order.created", nil, nil) {
			t.Errorf("empty filter %q did not match", raw)
		}
		if errs := f.Validate(nil); errs != nil {
			t.Errorf("empty filter %q: Validate = %v", raw, errs)
		}
	}
	var nilFilter *Filter
	if !nilFilter.IsEmpty() || !nilFilter.Match("x", nil, 1) {
		t.Error("nil *Filter must match everything")
	}
	if f := mustCompile(t, documentFilter); f.IsEmpty() {
		t.Error("document filter reported empty")
	}
}

// fieldWant is one expected validation detail: its field and a fragment of
// its message.
type fieldWant struct {
	field, msg string
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	nest := func(levels int) string {
		s := `{"status": "shipped"}`
		for range levels {
			s = `{"$or": [` + s + `]}`
		}
		return s
	}
	manyKeys := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`"f%d": 1`, i)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	manyValues := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprint(i)
		}
		return `{"amount": [` + strings.Join(parts, ",") + `]}`
	}
	tests := []struct {
		name string
		raw  string
		want []fieldWant
	}{
		{"array", `[1]`, []fieldWant{{"filters", "must be a JSON object, not an array"}}},
		{"string", `"x"`, []fieldWant{{"filters", "must be a JSON object, not a string"}}},
		{"malformed", `{"a": `, []fieldWant{{"filters", "must be a valid JSON object"}}},
		{"trailing data", `{"a": 1} {}`, []fieldWant{{"filters", "unexpected data"}}},
		{"too deep a value", `{"a": ` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`,
			[]fieldWant{{"filters", "nested deeper than"}}},
		{"unknown top-level operator", `{"$not": {"a": 1}}`, []fieldWant{{"filters.$not", `unknown operator "$not"`}}},
		{"unknown operator", `{"amount": {"$foo": 1}}`, []fieldWant{{"filters.amount", `unknown operator "$foo"`}}},
		{"comparison with boolean", `{"amount": {"$gte": true}}`, []fieldWant{{"filters.amount", "$gte needs a number or a string, not a boolean"}}},
		{"comparison with null", `{"amount": {"$lt": null}}`, []fieldWant{{"filters.amount", "$lt needs a number or a string, not null"}}},
		{"$in not an array", `{"amount": {"$in": 5}}`, []fieldWant{{"filters.amount", "$in must be an array of values, not a number"}}},
		{"$nin an object", `{"amount": {"$nin": {}}}`, []fieldWant{{"filters.amount", "$nin must be an array"}}},
		{"$in empty", `{"amount": {"$in": []}}`, []fieldWant{{"filters.amount", "$in must not be empty"}}},
		{"$exists not boolean", `{"customer.email": {"$exists": "yes"}}`, []fieldWant{{"filters.customer.email", "$exists must be true or false, not a string"}}},
		{"empty list", `{"status": []}`, []fieldWant{{"filters.status", "a list must not be empty"}}},
		{"list too long", manyValues(MaxListLen + 1), []fieldWant{{"filters.amount", "at most 100 values"}}},
		{"empty object", `{"customer": {}}`, []fieldWant{{"filters.customer", "an empty object is not a condition"}}},
		{"operators mixed with fields", `{"amount": {"$gte": 1, "max": 2}}`, []fieldWant{{"filters.amount", "may hold only operators"}}},
		{"duplicate operator", `{"amount": {"$gte": 1, "$gte": 2}}`, []fieldWant{{"filters.amount", `duplicate operator "$gte"`}}},
		{"duplicate key", `{"amount": 1, "amount": 2}`, []fieldWant{{"filters.amount", `duplicate key "amount"`}}},
		{"empty key", `{"": 1}`, []fieldWant{{"filters.", "must not be empty"}}},
		{"bad path", `{"customer..id": 1}`, []fieldWant{{"filters.customer..id", "not a valid field path"}}},
		{"trailing dot", `{"customer.": 1}`, []fieldWant{{"filters.customer.", "not a valid field path"}}},
		{"$or empty", `{"$or": []}`, []fieldWant{{"filters.$or", "$or must be a non-empty array of filter objects"}}},
		{"$or object", `{"$or": {"a": 1}}`, []fieldWant{{"filters.$or", "non-empty array"}}},
		{"$and of numbers", `{"$and": [1]}`, []fieldWant{{"filters.$and.0", "this element is a number"}}},
		{"$or of empty object", `{"$or": [{"a": 1}, {}]}`, []fieldWant{{"filters.$or.1", "this object is empty"}}},
		{"error inside $and", `{"$and": [{"a": 1}, {"$foo": 1}]}`, []fieldWant{{"filters.$and.1.$foo", "unknown operator"}}},
		{"error inside nested $or", `{"$or": [{"$and": [{"amount": {"$in": 1}}]}]}`,
			[]fieldWant{{"filters.$or.0.$and.0.amount", "$in must be an array"}}},
		{"nesting too deep", nest(MaxDepth + 1), []fieldWant{{"filters" + strings.Repeat(".$or.0", MaxDepth) + ".$or", "at most 5 levels"}}},
		{"too many keys", manyKeys(MaxKeys + 1), []fieldWant{{"filters", "at most 50 keys in total"}}},
		{"too many keys across $or", `{"$or": [` + manyKeys(MaxKeys) + `]}`, []fieldWant{{"filters", "it holds 51"}}},
		{"every problem reported", `{"$foo": 1, "amount": {"$in": 3}, "status": []}`, []fieldWant{
			{"filters.$foo", "unknown operator"},
			{"filters.amount", "$in must be an array"},
			{"filters.status", "must not be empty"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Compile(json.RawMessage(tt.raw))
			if err == nil {
				t.Fatalf("Compile(%s) = %v, want an error", tt.raw, f)
			}
			var herr *hookd.Error
			if !errors.As(err, &herr) || herr.Code != hookd.EValidation {
				t.Fatalf("error %v is not a validation_error *hookd.Error", err)
			}
			assertDetails(t, herr.Details, tt.want)
		})
	}
}

func TestCompileLimitsAccepted(t *testing.T) {
	t.Parallel()
	nest := `{"status": "shipped"}`
	for range MaxDepth {
		nest = `{"$and": [` + nest + `]}`
	}
	parts := make([]string, MaxKeys)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"f%d": 1`, i)
	}
	for _, raw := range []string{
		nest,
		"{" + strings.Join(parts, ",") + "}",
		`{"customer": {"id": 1}}`,                       // literal object: deep equality
		`{"amount": {"$eq": {}}}`,                       // compare with an empty object
		`{"tags": {"$eq": ["a", "b"]}}`,                 // $eq with an array: deep equality
		`{"amount": {"$gte": 1, "$lt": 5}}`,             // several operators
		`{"min_": 1, "max_": "x"}`,                      // no field after the prefix: plain keys
		`{"created_at": {"$gte": "2024-01-01"}}`,        // string comparison
		`{"amount": {"$nin": [1, "a", null, [1], {}]}}`, // any JSON values
	} {
		if _, err := Compile(json.RawMessage(raw)); err != nil {
			t.Errorf("Compile(%s): %v", raw, err)
		}
	}
}

// assertDetails checks that got holds exactly the wanted details in order.
func assertDetails(t *testing.T, got []hookd.FieldError, want []fieldWant) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d details %v, want %d %v", len(got), got, len(want), want)
	}
	for i, w := range want {
		if got[i].Field != w.field || !strings.Contains(got[i].Message, w.msg) {
			t.Errorf("detail %d = {%q, %q}, want field %q and a message containing %q",
				i, got[i].Field, got[i].Message, w.field, w.msg)
		}
	}
}
