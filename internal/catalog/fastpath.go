package catalog

// The fast path for valid payloads.
//
// Validating with the jsonschema library costs far more than most
// payloads need: most are valid and their schemas use a handful of simple
// keywords. At Compile time compileFast turns a schema that uses only
// that handful (type, properties, required, additionalProperties, items,
// enum, minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength,
// maxLength, pattern, format, plus annotations) into a fastSchema; any
// other keyword anywhere makes it give up (nil). Of formats it checks
// date-time, date, email, uri and uuid on strings; a string under any
// other format is not decided. Every format of the library passes values
// that are not strings, so those need no check.
//
// fastSchema.valid answers only "definitely valid" (true) or "don't know"
// (false). It answers true only when every keyword of the schema certainly
// accepts the value under the library's own semantics (checked against
// its source: type integer as an exact integer, enum by string/bool/null
// equality, bounds as exact rationals, lengths in code points, patterns
// with Go's regexp, formats as subsets of the library's checks). Whenever
// it is unsure (a numeric enum, a number in exponent form against a type
// integer, an unusual format value, a false schema) it answers false. On
// false (*Schema).validate runs the library exactly as before, so every
// error a publisher sees is still the library's; only the verdict
// "valid" is ever short-circuited, and only when the library would give
// it too. FuzzFastValid checks that rule against the library.
//
// validText gives valid's verdict straight from the payload's text, in
// one pass that builds nothing; only when it does not answer "valid" is
// the payload decoded (decodeFast) for valid and then the library.

import (
	"encoding/json"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// draft2020 is the only $schema value a fast schema may name.
const draft2020 = "https://json-schema.org/draft/2020-12/schema"

// jsonTypes is a set of JSON Schema type names, one bit each.
type jsonTypes uint8

const (
	typeObject jsonTypes = 1 << iota
	typeArray
	typeString
	typeNumber
	typeInteger
	typeBoolean
	typeNull
)

var typeNames = map[string]jsonTypes{
	"object": typeObject, "array": typeArray, "string": typeString, "number": typeNumber,
	"integer": typeInteger, "boolean": typeBoolean, "null": typeNull,
}

// stringFormat is a format the fast path checks.
type stringFormat uint8

const (
	formatNone stringFormat = iota
	formatDateTime
	formatDate
	formatEmail
	formatURI
	formatUUID
	formatOther // any other format: strings are not decided
)

var formatNames = map[string]stringFormat{
	"date-time": formatDateTime, "date": formatDate, "email": formatEmail, "uri": formatURI, "uuid": formatUUID,
}

// annotations are keywords that never affect validation.
var annotations = map[string]bool{
	"description": true, "title": true, "$comment": true, "examples": true,
	"default": true, "deprecated": true, "readOnly": true, "writeOnly": true,
}

// fastSchema is a schema, or subschema, in the form the fast path checks.
type fastSchema struct {
	never bool      // the false schema
	types jsonTypes // 0: any type

	enum           bool // enum is present
	enumStrings    []string
	enumBools      [2]bool // false, true
	enumNull       bool
	minLength      int // -1: absent
	maxLength      int // -1: absent
	pattern        *regexp.Regexp
	format         stringFormat
	minimum        *numberBound
	maximum        *numberBound
	exclusiveMin   *numberBound
	exclusiveMax   *numberBound
	properties     map[string]*fastSchema
	required       []string
	additional     *fastSchema // nil: any additional property
	items          *fastSchema // nil: any items
	hasConstraints bool        // anything beyond the type
}

// numberBound is a numeric limit: its literal and its exact value.
type numberBound struct {
	lit string
	rat *big.Rat
}

// compileFast builds the fast path of a decoded schema document, or
// answers nil when the schema uses anything the fast path does not know.
func compileFast(doc map[string]any) *fastSchema {
	if v, ok := doc["$schema"]; ok && v != draft2020 {
		return nil
	}
	if v, ok := doc["$id"]; ok {
		if _, ok := v.(string); !ok {
			return nil
		}
	}
	f, ok := buildFast(doc, true)
	if !ok {
		return nil
	}
	return f
}

// buildFast builds one subschema; root allows $schema and $id.
func buildFast(v any, root bool) (*fastSchema, bool) {
	switch v := v.(type) {
	case bool:
		return &fastSchema{never: !v, minLength: -1, maxLength: -1}, true
	case map[string]any:
		f := &fastSchema{minLength: -1, maxLength: -1}
		for kw, val := range v {
			if annotations[kw] || root && (kw == "$schema" || kw == "$id") {
				continue
			}
			if !f.addKeyword(kw, val) {
				return nil, false
			}
		}
		return f, true
	}
	return nil, false
}

// addKeyword adds one keyword to f, answering false when it is not
// supported (or malformed, which the library would have refused anyway).
func (f *fastSchema) addKeyword(kw string, val any) bool {
	if kw != "type" {
		f.hasConstraints = true
	}
	switch kw {
	case "type":
		return f.addTypes(val)
	case "properties":
		props, ok := val.(map[string]any)
		if !ok {
			return false
		}
		f.properties = make(map[string]*fastSchema, len(props))
		for name, sub := range props {
			sf, ok := buildFast(sub, false)
			if !ok {
				return false
			}
			f.properties[name] = sf
		}
		return true
	case "required":
		arr, ok := val.([]any)
		if !ok {
			return false
		}
		for _, r := range arr {
			s, ok := r.(string)
			if !ok {
				return false
			}
			f.required = append(f.required, s)
		}
		return true
	case "additionalProperties", "items":
		sf, ok := buildFast(val, false)
		if !ok {
			return false
		}
		if kw == "items" {
			f.items = sf
		} else {
			f.additional = sf
		}
		return true
	case "enum":
		return f.addEnum(val)
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
		n, ok := val.(json.Number)
		if !ok {
			return false
		}
		r, ok := new(big.Rat).SetString(string(n))
		if !ok {
			return false
		}
		b := &numberBound{lit: string(n), rat: r}
		switch kw {
		case "minimum":
			f.minimum = b
		case "maximum":
			f.maximum = b
		case "exclusiveMinimum":
			f.exclusiveMin = b
		default:
			f.exclusiveMax = b
		}
		return true
	case "minLength", "maxLength":
		n, ok := val.(json.Number)
		if !ok || len(n) > 9 || strings.ContainsAny(string(n), ".eE-") {
			return false
		}
		i, err := strconv.Atoi(string(n))
		if err != nil {
			return false
		}
		if kw == "minLength" {
			f.minLength = i
		} else {
			f.maxLength = i
		}
		return true
	case "pattern":
		s, ok := val.(string)
		if !ok {
			return false
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return false
		}
		f.pattern = re
		return true
	case "format":
		s, ok := val.(string)
		if !ok {
			return false
		}
		if f.format, ok = formatNames[s]; !ok {
			f.format = formatOther
		}
		return true
	}
	return false
}

func (f *fastSchema) addTypes(val any) bool {
	switch val := val.(type) {
	case string:
		t, ok := typeNames[val]
		f.types = t
		return ok
	case []any:
		if len(val) == 0 {
			return false
		}
		for _, v := range val {
			s, _ := v.(string)
			t, ok := typeNames[s]
			if !ok {
				return false
			}
			f.types |= t
		}
		return true
	}
	return false
}

func (f *fastSchema) addEnum(val any) bool {
	arr, ok := val.([]any)
	if !ok {
		return false
	}
	f.enum = true
	for _, m := range arr {
		switch m := m.(type) {
		case string:
			f.enumStrings = append(f.enumStrings, m)
		case bool:
			if m {
				f.enumBools[1] = true
			} else {
				f.enumBools[0] = true
			}
		case nil:
			f.enumNull = true
		}
	}
	return true
}

// valid reports whether v is certainly valid against f; false means
// "don't know".
func (f *fastSchema) valid(v any) bool {
	if f.never {
		return false
	}
	if !f.hasConstraints {
		return f.typeOK(v)
	}
	switch v := v.(type) {
	case map[string]any:
		return f.allows(typeObject) && !f.enum && f.validObject(v)
	case []any:
		if !f.allows(typeArray) || f.enum {
			return false
		}
		if f.items != nil {
			for _, item := range v {
				if !f.items.valid(item) {
					return false
				}
			}
		}
		return true
	case string:
		return f.allows(typeString) && f.validString(v)
	case json.Number:
		return (f.allows(typeNumber) || f.allows(typeInteger) && isIntegerLiteral(string(v))) &&
			!f.enum && f.validNumber(string(v))
	case bool:
		i := 0
		if v {
			i = 1
		}
		return f.allows(typeBoolean) && (!f.enum || f.enumBools[i])
	case nil:
		return f.allows(typeNull) && (!f.enum || f.enumNull)
	}
	return false
}

// validText is valid for a document still in its text: it reports whether
// data holds one JSON object, followed only by whitespace, that valid
// accepts and whose numbers checkNumbers accepts; false means "don't
// know" (or not JSON at all). It reads the text once and builds nothing,
// so a valid payload costs no allocation beyond the copy of its text and
// its escaped strings, where decodeFast then valid cost one a value. Of a
// key given twice it checks every value, where the decoded document keeps
// the last: it may answer false where valid would not, never the reverse.
func (f *fastSchema) validText(data []byte) bool {
	d := jsonDecoder{src: string(data)}
	d.skipSpace()
	if d.pos >= len(d.src) || d.src[d.pos] != '{' || !d.checkValue(f) {
		return false
	}
	d.skipSpace()
	return d.pos == len(d.src)
}

// checkValue reads the value at the next non-space byte and reports
// whether it is certainly valid against f (nil: any value, its numbers
// still checked), as valid answers for it decoded.
func (d *jsonDecoder) checkValue(f *fastSchema) bool {
	d.skipSpace()
	if d.pos >= len(d.src) || f != nil && f.never {
		return false
	}
	switch c := d.src[d.pos]; {
	case c == '{':
		return (f == nil || f.allows(typeObject) && !f.enum) && d.checkObject(f)
	case c == '[':
		if f == nil {
			return d.checkArray(nil)
		}
		return f.allows(typeArray) && !f.enum && d.checkArray(f.items)
	case c == '"':
		s, ok := d.str()
		return ok && (f == nil || f.allows(typeString) && f.validString(s))
	case c == '-' || '0' <= c && c <= '9':
		n, ok := d.number()
		if !ok || !numberInRange(string(n)) {
			return false
		}
		return f == nil || (f.allows(typeNumber) || f.allows(typeInteger) && isIntegerLiteral(string(n))) &&
			!f.enum && f.validNumber(string(n))
	case c == 't':
		return d.literal("true") && (f == nil || f.allows(typeBoolean) && (!f.enum || f.enumBools[1]))
	case c == 'f':
		return d.literal("false") && (f == nil || f.allows(typeBoolean) && (!f.enum || f.enumBools[0]))
	case c == 'n':
		return d.literal("null") && (f == nil || f.allows(typeNull) && (!f.enum || f.enumNull))
	}
	return false
}

// checkObject reads an object (d.pos at its '{') and reports whether it
// is certainly valid against f (nil: any object), as validObject answers.
func (d *jsonDecoder) checkObject(f *fastSchema) bool {
	var required []string
	if f != nil {
		required = f.required
	}
	if len(required) > 64 || !d.enter() {
		return false
	}
	var seen uint64 // bit i: required[i] is there
	d.skipSpace()
	if d.pos < len(d.src) && d.src[d.pos] == '}' {
		d.pos++
		d.depth--
		return len(required) == 0
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.src) || d.src[d.pos] != '"' {
			return false
		}
		k, ok := d.str()
		if !ok {
			return false
		}
		d.skipSpace()
		if d.pos >= len(d.src) || d.src[d.pos] != ':' {
			return false
		}
		d.pos++
		var sub *fastSchema
		if f != nil {
			for i, name := range required {
				if name == k {
					seen |= 1 << i
				}
			}
			if sub, ok = f.properties[k]; !ok {
				sub = f.additional
			}
		}
		if !d.checkValue(sub) {
			return false
		}
		end, ok := d.separator('}')
		if !ok {
			return false
		}
		if end {
			return seen == 1<<len(required)-1
		}
	}
}

// checkArray reads an array (d.pos at its '[') and reports whether every
// element is certainly valid against items (nil: any value).
func (d *jsonDecoder) checkArray(items *fastSchema) bool {
	if !d.enter() {
		return false
	}
	d.skipSpace()
	if d.pos < len(d.src) && d.src[d.pos] == ']' {
		d.pos++
		d.depth--
		return true
	}
	for {
		if !d.checkValue(items) {
			return false
		}
		end, ok := d.separator(']')
		if !ok {
			return false
		}
		if end {
			return true
		}
	}
}

// allows reports whether f's type admits t (integer only as itself).
func (f *fastSchema) allows(t jsonTypes) bool {
	return f.types == 0 || f.types&t != 0
}

// typeOK checks only the type keyword.
func (f *fastSchema) typeOK(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		return f.allows(typeObject)
	case []any:
		return f.allows(typeArray)
	case string:
		return f.allows(typeString)
	case json.Number:
		return f.allows(typeNumber) || f.allows(typeInteger) && isIntegerLiteral(string(v))
	case bool:
		return f.allows(typeBoolean)
	case nil:
		return f.allows(typeNull)
	}
	return false
}

// isIntegerLiteral reports whether a number literal has neither a
// fraction nor an exponent, so that it is certainly an integer.
func isIntegerLiteral(lit string) bool {
	return !strings.ContainsAny(lit, ".eE")
}

func (f *fastSchema) validObject(obj map[string]any) bool {
	for _, name := range f.required {
		if _, ok := obj[name]; !ok {
			return false
		}
	}
	if f.properties == nil && f.additional == nil {
		return true
	}
	for name, v := range obj {
		sub, ok := f.properties[name]
		if !ok {
			sub = f.additional
		}
		if sub != nil && !sub.valid(v) {
			return false
		}
	}
	return true
}

func (f *fastSchema) validString(s string) bool {
	if f.enum && !containsString(f.enumStrings, s) {
		return false
	}
	if f.minLength >= 0 || f.maxLength >= 0 {
		n := utf8.RuneCountInString(s)
		if f.minLength >= 0 && n < f.minLength || f.maxLength >= 0 && n > f.maxLength {
			return false
		}
	}
	if f.pattern != nil && !f.pattern.MatchString(s) {
		return false
	}
	switch f.format {
	case formatDateTime:
		return isDateTime(s)
	case formatDate:
		return isDate(s)
	case formatEmail:
		return isEmail(s)
	case formatURI:
		return isURI(s)
	case formatUUID:
		return isUUID(s)
	case formatOther:
		return false
	}
	return true
}

func containsString(list []string, s string) bool {
	for _, m := range list {
		if m == s {
			return true
		}
	}
	return false
}

// validNumber checks the numeric bounds of a number literal.
func (f *fastSchema) validNumber(lit string) bool {
	var exact *big.Rat // the literal's value, parsed on first need
	check := func(b *numberBound, ok func(c int) bool) bool {
		if b == nil {
			return true
		}
		if c, decided := compareDecimals(lit, b.lit); decided {
			return ok(c)
		}
		if exact == nil {
			var parsed bool
			if exact, parsed = new(big.Rat).SetString(lit); !parsed {
				return false
			}
		}
		return ok(exact.Cmp(b.rat))
	}
	return check(f.minimum, func(c int) bool { return c >= 0 }) &&
		check(f.maximum, func(c int) bool { return c <= 0 }) &&
		check(f.exclusiveMin, func(c int) bool { return c > 0 }) &&
		check(f.exclusiveMax, func(c int) bool { return c < 0 })
}

// compareDecimals compares two JSON number literals without exponents
// exactly, answering decided=false when either has an exponent.
func compareDecimals(a, b string) (c int, decided bool) {
	if strings.ContainsAny(a, "eE") || strings.ContainsAny(b, "eE") {
		return 0, false
	}
	negA, intA, fracA := splitDecimal(a)
	negB, intB, fracB := splitDecimal(b)
	if negA != negB {
		if negA {
			return -1, true
		}
		return 1, true
	}
	c = compareMagnitudes(intA, fracA, intB, fracB)
	if negA {
		c = -c
	}
	return c, true
}

// splitDecimal splits a literal into its sign, integer digits without
// leading zeros and fraction digits without trailing zeros; zero has
// no sign.
func splitDecimal(lit string) (neg bool, intPart, frac string) {
	lit, neg = strings.CutPrefix(lit, "-")
	intPart, frac, _ = strings.Cut(lit, ".")
	intPart = strings.TrimLeft(intPart, "0")
	frac = strings.TrimRight(frac, "0")
	if intPart == "" && frac == "" {
		neg = false
	}
	return neg, intPart, frac
}

func compareMagnitudes(intA, fracA, intB, fracB string) int {
	if len(intA) != len(intB) {
		if len(intA) < len(intB) {
			return -1
		}
		return 1
	}
	if c := strings.Compare(intA, intB); c != 0 {
		return c
	}
	return strings.Compare(fracA, fracB)
}
