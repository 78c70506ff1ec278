package catalog

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// handSchemas use every keyword the fast path supports.
var handSchemas = []string{
	`{"type":"object","required":["s","n"],"properties":{
		"s":{"type":"string","minLength":2,"maxLength":5,"pattern":"^[a-zé]+$"},
		"n":{"type":"integer","minimum":-3,"maximum":1e2},
		"x":{"type":"number","exclusiveMinimum":0.5,"exclusiveMaximum":10.25},
		"e":{"enum":["a","b",true,null,1,{"k":1},[1]]},
		"t":{"type":["string","null"],"format":"date-time"},
		"arr":{"type":"array","items":{"type":"boolean"}}},
		"additionalProperties":{"type":["string","number"]}}`,
	`{"properties":{"d":{"format":"date"},"dt":{"format":"date-time"},"em":{"format":"email"},
		"u":{"format":"uri"},"id":{"format":"uuid"},"h":{"format":"hostname"},"any":{"type":["integer","boolean"]}}}`,
	`{"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"https://example.com/s","title":"t",
		"description":"d","$comment":"c","examples":[{"a":1}],"default":{},
		"properties":{"a":true,"b":false,"c":{},"d":{"deprecated":true,"readOnly":true,"writeOnly":false}},
		"additionalProperties":false,"required":["a"]}`,
	`{"type":"object","properties":{"v":{"minimum":1e-3,"maximum":12345678901234567890.5,"type":["integer","number"]},
		"w":{"maxLength":0},"u":{"minLength":3,"pattern":"é"},"z":{"exclusiveMaximum":-0.0,"exclusiveMinimum":-1E+1},
		"l":{"type":"array","items":{"type":"object","properties":{"q":{"enum":[false,"",null]}},"required":["q"]}}}}`,
}

// handSeeds are payloads aimed at handSchemas.
var handSeeds = []string{
	`{"s":"abc","n":5}`, `{"s":"ab","n":-3,"x":10.2,"e":"a","t":"2024-02-29T23:59:59.123+05:30","arr":[true,false],"other":"x","o2":1.5}`,
	`{"s":"a","n":5}`, `{"s":"abcdef","n":5}`, `{"s":"ABC","n":5}`, `{"s":"éé","n":100}`, `{"s":"ab","n":101}`,
	`{"s":"ab","n":1.0}`, `{"s":"ab","n":1e1}`, `{"s":"ab","n":2,"x":0.5}`, `{"s":"ab","n":2,"x":10.25}`,
	`{"s":"ab","n":2,"e":1}`, `{"s":"ab","n":2,"e":{"k":1}}`, `{"s":"ab","n":2,"e":true}`, `{"s":"ab","n":2,"e":false}`,
	`{"s":"ab","n":2,"e":null}`, `{"s":"ab","n":2,"t":null}`, `{"s":"ab","n":2,"t":"2023-02-29T00:00:00Z"}`,
	`{"s":"ab","n":2,"arr":[1]}`, `{"s":"ab","n":2,"extra":null}`, `{"s":"ab","n":2,"extra":[]}`,
	`{"d":"2024-01-31","dt":"2024-01-15T10:30:00Z","em":"a.b+c@example.co.uk","u":"https://x.test/a?b#c","id":"123e4567-e89b-12d3-a456-426614174000","h":"host"}`,
	`{"d":"2024-13-01","dt":"2024-01-15t10:30:00z","em":"a..b@x.y","u":"/relative","id":"123e4567e89b12d3a456426614174000"}`,
	`{"d":1,"dt":true,"em":null,"u":[],"id":{},"h":2,"any":3}`, `{"any":3.5}`, `{"any":"x"}`,
	`{"dt":"2016-12-31T23:59:60Z"}`, `{"em":"\"quoted\"@example.com"}`, `{"u":"http://[::1]:80/"}`, `{"u":"http://[::1"}`,
	`{"a":1}`, `{"a":1,"b":2}`, `{"a":1,"c":3,"d":4}`, `{"a":1,"zz":1}`, `{}`,
	`{"v":0.001,"w":"","u":"abé","z":-0.5}`, `{"v":0.0009}`, `{"v":12345678901234567890.5}`, `{"v":12345678901234567890.51}`,
	`{"v":1.2345678901234567890e19}`, `{"z":0}`, `{"z":-10}`, `{"z":-9.999e0}`, `{"w":"x"}`,
	`{"l":[{"q":false},{"q":""},{"q":null}]}`, `{"l":[{"q":true}]}`, `{"l":[{}]}`, `{"l":[1]}`,
}

// fastCase is a compiled schema under test with its payload seeds.
type fastCase struct {
	name   string
	schema *Schema
	seeds  []string
}

// fastCases compiles every built-in type's schema and the hand-written
// ones, with example payloads and mutations of them as seeds.
func fastCases(t testing.TB) []fastCase {
	t.Helper()
	var cases []fastCase
	c := setup(t)
	for _, et := range c.Types() {
		s := mustSchema(t, c, et.Name)
		cases = append(cases, fastCase{et.Name, s, mutations(t, et.ExamplePayload)})
	}
	for i, src := range handSchemas {
		cases = append(cases, fastCase{fmt.Sprintf("hand%d", i), mustCompile(t, src), handSeeds})
	}
	return cases
}

// mutations answers a payload and variants of it with each top-level
// property removed or replaced by values of other types and sizes.
func mutations(t testing.TB, payload json.RawMessage) []string {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(payload, &obj); err != nil {
		t.Fatal(err)
	}
	out := []string{string(payload)}
	replacements := []string{"null", `"x"`, `""`, "1", "-1", "1.5", "1e3", "0", "true", "[]", "{}", `[{}]`,
		`"2024-01-15T10:30:00Z"`, `"a@b.c"`, `"https://example.com"`, `"9999-99-99"`}
	for k := range obj {
		variant := func(v json.RawMessage) {
			m := make(map[string]json.RawMessage, len(obj))
			for k2, v2 := range obj {
				m[k2] = v2
			}
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(b))
		}
		variant(nil)
		for _, r := range replacements {
			variant(json.RawMessage(r))
		}
	}
	return out
}

// withoutFast is s with its fast path turned off.
func withoutFast(s *Schema) *Schema {
	slow := *s
	slow.fast = nil
	return &slow
}

// checkFastSound fails when the fast path calls a payload valid that the
// library refuses, or when Validate answers differently with and without
// the fast path.
func checkFastSound(t *testing.T, s *Schema, payload []byte) {
	t.Helper()
	// Fields that compare equal ("0" and "00") keep the library's
	// map-dependent order, so compare the details as sorted sets.
	if got, want := sortedDetails(s.Validate(payload)), sortedDetails(withoutFast(s).Validate(payload)); !reflect.DeepEqual(got, want) {
		t.Fatalf("Validate(%s) = %v with the fast path, %v without", payload, got, want)
	}
	doc, err := decodeJSON(payload)
	if s.fast != nil && s.fast.validText(payload) {
		// The text is read as its decoded document is judged.
		if err != nil || len(checkNumbers(doc, "payload")) > 0 || !s.fast.valid(doc) {
			t.Fatalf("validText accepts %q; decoded (error %v) the fast path does not", payload, err)
		}
	}
	if err != nil || s.fast == nil {
		return
	}
	if _, ok := doc.(map[string]any); !ok || len(checkNumbers(doc, "payload")) > 0 {
		return
	}
	if s.fast.valid(doc) {
		if err := s.compiled.Validate(doc); err != nil {
			t.Fatalf("fast path accepts %s, the library refuses it: %v", payload, err)
		}
	}
}

// sortedDetails sorts a copy of details by field, then message.
func sortedDetails(details []hookd.FieldError) []hookd.FieldError {
	details = slices.Clone(details)
	slices.SortFunc(details, func(a, b hookd.FieldError) int {
		return cmp.Or(strings.Compare(a.Field, b.Field), strings.Compare(a.Message, b.Message))
	})
	return details
}

func TestFastPathSound(t *testing.T) {
	t.Parallel()
	for _, fc := range fastCases(t) {
		for _, p := range fc.seeds {
			checkFastSound(t, fc.schema, []byte(p))
		}
	}
}

// FuzzFastValid checks, for every built-in and hand-written schema, that
// the fast path only ever accepts what the library accepts.
func FuzzFastValid(f *testing.F) {
	cases := fastCases(f)
	for i, fc := range cases {
		for _, p := range fc.seeds {
			f.Add(uint8(i), []byte(p))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, payload []byte) {
		checkFastSound(t, cases[int(which)%len(cases)].schema, payload)
	})
}

func TestFastPathUsedForBuiltinExamples(t *testing.T) {
	t.Parallel()
	c := setup(t)
	for _, et := range c.Types() {
		s := mustSchema(t, c, et.Name)
		if s.fast == nil {
			t.Errorf("%s: schema has no fast path", et.Name)
			continue
		}
		doc, err := decodeFast(et.ExamplePayload)
		if err != nil {
			t.Fatalf("%s: %v", et.Name, err)
		}
		if !s.fast.valid(doc) {
			t.Errorf("%s: fast path does not accept the example payload %s", et.Name, et.ExamplePayload)
		}
	}
	s := mustSchema(t, c, "order.created")
	doc, err := decodeFast([]byte(benchValidatePayload))
	if err != nil || !s.fast.valid(doc) {
		t.Errorf("fast path does not accept the benchmark payload (decode error %v)", err)
	}
}

func TestFastPathHandSchemas(t *testing.T) {
	t.Parallel()
	tests := []struct {
		schema  int
		payload string
		want    bool
	}{
		{0, handSeeds[0], true},
		{0, handSeeds[1], true},
		{0, `{"s":"a","n":5}`, false},          // too short
		{0, `{"s":"ab","n":1.0}`, false},       // integer in decimal form: not decided
		{0, `{"s":"ab","n":2,"e":1}`, false},   // numeric enum: not decided
		{0, `{"s":"ab","n":2,"x":0.5}`, false}, // exclusive bound
		{0, `{"s":"ab","n":2,"extra":[]}`, false},
		{1, handSeeds[21], false}, // hostname is not a fast format
		{1, `{"d":"2024-01-31","dt":"2024-01-15T10:30:00Z","em":"a.b+c@example.co.uk","u":"https://x.test/a?b#c","id":"123e4567-e89b-12d3-a456-426614174000"}`, true},
		{1, `{"d":1,"dt":true,"em":null,"u":[],"id":{},"h":2,"any":3}`, true},
		{2, `{"a":1}`, true},
		{2, `{"a":1,"b":2}`, false},
		{2, `{"a":1,"zz":1}`, false},
		{3, `{"v":0.001,"w":"","u":"abé","z":-0.5}`, true},
		{3, `{"v":1.2345678901234567890e19}`, true},
		{3, `{"z":0}`, false},
		{3, `{"l":[{"q":false},{"q":""},{"q":null}]}`, true},
	}
	for _, tt := range tests {
		s := mustCompile(t, handSchemas[tt.schema])
		if s.fast == nil {
			t.Fatalf("hand schema %d has no fast path", tt.schema)
		}
		doc, err := decodeFast([]byte(tt.payload))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.fast.valid(doc); got != tt.want {
			t.Errorf("schema %d, %s: fast valid = %v, want %v", tt.schema, tt.payload, got, tt.want)
		}
		if got := s.fast.validText([]byte(tt.payload)); got != tt.want {
			t.Errorf("schema %d, %s: validText = %v, want %v", tt.schema, tt.payload, got, tt.want)
		}
		checkFastSound(t, s, []byte(tt.payload))
	}
}

// TestValidTextDoubtsWhatItCannotRead: validText answers "don't know"
// for what is not one JSON object and for a key given twice whose first
// value fails (the decoded document keeps only the last), and checks the
// numbers checkNumbers checks whatever the schema says of them.
func TestValidTextDoubtsWhatItCannotRead(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, handSchemas[2])
	for _, payload := range []string{
		``, ` `, `[]`, `"a"`, `1`, `null`, `{`, `{"a":1`, `{"a":1}x`, `{"a":1}{}`, `{"a":1,}`, `{"a" 1}`,
		`{"a":01}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}", `{"a":1e999}`, `{"a":1,"b":2}`,
	} {
		if s.fast.validText([]byte(payload)) {
			t.Errorf("validText(%s) = true, want false", payload)
		}
	}
	// Decoded, the second is valid: its last "n" is.
	s0 := mustCompile(t, handSchemas[0])
	for _, payload := range []string{`{"s":"abc","n":5,"n":"x"}`, `{"s":"abc","n":"x","n":5}`} {
		if s0.fast.validText([]byte(payload)) {
			t.Errorf("validText(%s) = true, want false", payload)
		}
	}
	for _, payload := range []string{`{"a":1}`, " {\"a\" : 1 }\n", `{"a":"x","a":1}`} {
		if !s.fast.validText([]byte(payload)) {
			t.Errorf("validText(%s) = false, want true", payload)
		}
	}
}

func TestCompileFastUnsupported(t *testing.T) {
	t.Parallel()
	for _, schema := range []string{
		`{"$ref":"#/$defs/a","$defs":{"a":{"type":"object"}}}`,
		`{"properties":{"a":{"$ref":"#"}}}`,
		`{"anyOf":[{"type":"object"}]}`,
		`{"properties":{"a":{"const":1}}}`,
		`{"properties":{"a":{"oneOf":[true]}}}`,
		`{"patternProperties":{"^a":{"type":"string"}}}`,
		`{"properties":{"a":{"prefixItems":[true]}}}`,
		`{"properties":{"a":{"multipleOf":2}}}`,
		`{"properties":{"a":{"uniqueItems":true}}}`,
		`{"minProperties":1}`,
		`{"unevaluatedProperties":false}`,
		`{"properties":{"a":{"$id":"https://example.com/a"}}}`,
		`{"properties":{"a":{"$anchor":"a"}}}`,
		`{"$schema":"http://json-schema.org/draft-07/schema#"}`,
		`{"x-custom":1}`,
	} {
		if s := mustCompile(t, schema); s.fast != nil {
			t.Errorf("Compile(%s) built a fast path, want none", schema)
		}
	}
	for _, schema := range handSchemas {
		if s := mustCompile(t, schema); s.fast == nil {
			t.Errorf("Compile(%s) built no fast path", schema)
		}
	}
}

// TestFormatChecksAreSubsets checks each fast format check against the
// library's on many candidates: whatever the fast check accepts, the
// library must accept.
func TestFormatChecksAreSubsets(t *testing.T) {
	t.Parallel()
	var dates []string
	for _, y := range []int{0, 1, 4, 100, 1900, 2000, 2023, 2024, 9999} {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				dates = append(dates, fmt.Sprintf("%04d-%02d-%02d", y, m, d))
			}
		}
	}
	for _, d := range dates {
		_, err := time.Parse("2006-01-02", d)
		if isDate(d) != (err == nil) {
			t.Errorf("isDate(%q) = %v, time.Parse error %v", d, isDate(d), err)
		}
	}
	var dateTimes []string
	for _, clock := range []string{"00:00:00", "23:59:59", "24:00:00", "23:60:00", "23:59:60", "12:30:45.5", "12:30:45.", "1:2:3"} {
		for _, zone := range []string{"Z", "z", "+00:00", "-23:59", "+24:00", "+05:60", "+0530", "", " Z"} {
			for _, date := range []string{"2024-02-29", "2023-02-29", "2024-1-1"} {
				for _, sep := range []string{"T", "t", " "} {
					dateTimes = append(dateTimes, date+sep+clock+zone)
				}
			}
		}
	}
	emails := []string{"a@b.c", "a.b@c.d", ".a@b.c", "a.@b.c", "a..b@c.d", "a@b", "a@-b.c", "a@b-.c", "a@b..c",
		"a+b_c%d-e@x-y.z", "a@@b.c", "a@b.c.", `"a"@b.c`, "a@[127.0.0.1]", "é@b.c", "a b@c.d", "@b.c", "a@"}
	uris := []string{"https://example.com", "mailto:a@b.c", "urn:isbn:1", "/rel", "rel", "http://[::1]/", "http://[::1",
		"http://a b", "http://example.com/%zz", "https://ex.com:80/p?q#f", "a:", ":a", "http://x\x7f"}
	uuids := []string{"123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000",
		"123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400g", "123e4567-e89b-12d3-a456-4266141740000"}
	for _, tc := range []struct {
		format string
		check  func(string) bool
		values []string
	}{
		{"date", isDate, dates},
		{"date-time", isDateTime, dateTimes},
		{"email", isEmail, emails},
		{"uri", isURI, uris},
		{"uuid", isUUID, uuids},
	} {
		s := withoutFast(mustCompile(t, `{"properties":{"v":{"format":"`+tc.format+`"}}}`))
		accepted := 0
		for _, v := range tc.values {
			if !tc.check(v) {
				continue
			}
			accepted++
			if err := s.compiled.Validate(map[string]any{"v": v}); err != nil {
				t.Errorf("format %s: fast check accepts %q, the library refuses it: %v", tc.format, v, err)
			}
		}
		if accepted == 0 {
			t.Errorf("format %s: fast check accepts none of the candidates", tc.format)
		}
	}
}

func TestCompareDecimals(t *testing.T) {
	t.Parallel()
	lits := []string{"0", "-0", "0.0", "-0.000", "1", "-1", "1.0", "1.00001", "0.99999", "10", "9.999", "100.5",
		"-100.5", "-100.50", "12345678901234567890.5", "12345678901234567890.51", "0.001", "0.0009", "-0.0009"}
	for _, a := range lits {
		for _, b := range lits {
			got, ok := compareDecimals(a, b)
			ra, _ := new(big.Rat).SetString(a)
			rb, _ := new(big.Rat).SetString(b)
			if !ok || got != ra.Cmp(rb) {
				t.Errorf("compareDecimals(%s, %s) = %d, %v; want %d", a, b, got, ok, ra.Cmp(rb))
			}
		}
	}
	if _, ok := compareDecimals("1e2", "100"); ok {
		t.Error("compareDecimals decided on an exponent")
	}
}

// benchValidatePayload is a valid order.created payload of about 900 bytes.
const benchValidatePayload = `{"order_id":"ORD-123","status":"confirmed","amount":223.50,"customer":{"id":123,"name":"Benchmark Customer","email":"customer@example.com"},"items":[{"product_id":1000,"name":"Wireless Headphones, noise cancelling, model 0","quantity":1,"price":25.25},{"product_id":1001,"name":"Wireless Headphones, noise cancelling, model 1","quantity":1,"price":25.25},{"product_id":1002,"name":"Wireless Headphones, noise cancelling, model 2","quantity":1,"price":25.25},{"product_id":1003,"name":"Wireless Headphones, noise cancelling, model 3","quantity":1,"price":25.25},{"product_id":1004,"name":"Wireless Headphones, noise cancelling, model 4","quantity":1,"price":25.25},{"product_id":1005,"name":"Wireless Headphones, noise cancelling, model 5","quantity":1,"price":25.25}],"created_at":"2024-01-15T10:30:00Z"}`

// BenchmarkValidate measures Validate on a valid order.created payload,
// with the fast path and, for comparison, without it.
func BenchmarkValidate(b *testing.B) {
	s := mustSchema(b, setup(b), "order.created")
	payload := json.RawMessage(benchValidatePayload)
	for _, bc := range []struct {
		name   string
		schema *Schema
	}{{"fast", s}, {"library", withoutFast(s)}} {
		b.Run(bc.name, func(b *testing.B) {
			if errs := bc.schema.Validate(payload); errs != nil {
				b.Fatalf("benchmark payload invalid: %v", errs)
			}
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if errs := bc.schema.Validate(payload); errs != nil {
					b.Fatal(errs)
				}
			}
		})
	}
	// The path before the fast one existed: encoding/json, then the library.
	b.Run("encoding_json_library", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		for b.Loop() {
			doc, err := decodeJSON(payload)
			if err != nil || len(checkNumbers(doc, payloadField)) > 0 || s.compiled.Validate(doc) != nil {
				b.Fatal("benchmark payload invalid")
			}
		}
	})
}

// BenchmarkDecode compares decodeFast with encoding/json on the same payload.
func BenchmarkDecode(b *testing.B) {
	payload := []byte(benchValidatePayload)
	for _, bc := range []struct {
		name   string
		decode func([]byte) (any, error)
	}{{"fast", decodeFast}, {"encoding_json", decodeJSON}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.decode(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
