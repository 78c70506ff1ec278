package filter

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// jsonKind is the JSON type of a decoded value.
type jsonKind uint8

const (
	kindNull jsonKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
	kindOther // not a JSON value (a Go type the decoder never produces)
)

// String names the kind with an article, for error messages.
func (k jsonKind) String() string {
	switch k {
	case kindNull:
		return "null"
	case kindBool:
		return "a boolean"
	case kindNumber:
		return "a number"
	case kindString:
		return "a string"
	case kindArray:
		return "an array"
	case kindObject:
		return "an object"
	}
	return "not a JSON value"
}

// kindOf returns the JSON type of v, a value decoded by encoding/json (with
// or without UseNumber) or by parseJSON.
func kindOf(v any) jsonKind {
	switch v.(type) {
	case nil:
		return kindNull
	case bool:
		return kindBool
	case json.Number, float64, float32, int, int64, int32, uint, uint64, uint32:
		return kindNumber
	case string:
		return kindString
	case []any:
		return kindArray
	case map[string]any, object:
		return kindObject
	}
	return kindOther
}

// decimal is a JSON number read for exact comparison, whatever its size or
// precision. Its value is ±0.d₁d₂…dₙ × 10^exp, where d₁…dₙ are the
// characters of mantissa from first to last, the decimal point skipped.
type decimal struct {
	mantissa string // digits with at most one '.', no sign or exponent
	first    int    // index of the first non-zero digit; -1 when the value is zero
	last     int    // index of the last non-zero digit
	exp      int64
	neg      bool
}

// maxExponent bounds exponents so that arithmetic on them cannot overflow.
// Numbers beyond 10^±maxExponent compare as if they were at that bound.
const maxExponent = 1 << 50

// parseDecimal reads a JSON number literal. It reports false when s is not
// one (the decoder never produces such, but float formatting can).
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	if strings.HasPrefix(s, "-") {
		d.neg = true
		s = s[1:]
	}
	mant, e, ok := s, int64(0), true
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e, ok = parseExponent(s[i+1:])
	}
	if !ok || mant == "" {
		return decimal{}, false
	}
	d.mantissa, d.first, d.last = mant, -1, -1
	point, digits := len(mant), 0
	for i := 0; i < len(mant); i++ {
		c := mant[i]
		switch {
		case c == '.' && point == len(mant):
			point = i
		case c >= '0' && c <= '9':
			digits++
			if c != '0' {
				if d.first < 0 {
					d.first = i
				}
				d.last = i
			}
		default:
			return decimal{}, false
		}
	}
	if digits == 0 {
		return decimal{}, false
	}
	if d.first < 0 {
		return d, true
	}
	if d.first < point {
		d.exp = int64(point-d.first) + e
	} else {
		d.exp = -int64(d.first-point-1) + e
	}
	return d, true
}

// parseExponent reads the digits after 'e', saturating at ±maxExponent.
func parseExponent(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var e int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if e < maxExponent {
			e = e*10 + int64(c-'0')
		}
	}
	e = min(e, maxExponent)
	if neg {
		e = -e
	}
	return e, true
}

// sign returns -1, 0 or 1.
func (d decimal) sign() int {
	switch {
	case d.first < 0:
		return 0
	case d.neg:
		return -1
	}
	return 1
}

// cmpDecimal compares two numbers exactly: -1 when a < b, 0 when equal,
// 1 when a > b.
func cmpDecimal(a, b decimal) int {
	sa, sb := a.sign(), b.sign()
	switch {
	case sa < sb:
		return -1
	case sa > sb:
		return 1
	case sa == 0:
		return 0
	}
	c := cmpMagnitude(a, b)
	if sa < 0 {
		return -c
	}
	return c
}

// cmpMagnitude compares the absolute values of two non-zero numbers.
func cmpMagnitude(a, b decimal) int {
	if a.exp != b.exp {
		if a.exp < b.exp {
			return -1
		}
		return 1
	}
	i, j := a.first, b.first
	for {
		aDone, bDone := i > a.last, j > b.last
		switch {
		case aDone && bDone:
			return 0
		case aDone:
			return -1
		case bDone:
			return 1
		}
		ca, cb := a.mantissa[i], b.mantissa[j]
		if ca == '.' {
			i++
			continue
		}
		if cb == '.' {
			j++
			continue
		}
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
		i++
		j++
	}
}

// numberOf reads v as a number when it is one.
func numberOf(v any) (decimal, bool) {
	switch n := v.(type) {
	case json.Number:
		return parseDecimal(string(n))
	case float64:
		return floatDecimal(n)
	case float32:
		return floatDecimal(float64(n))
	case int:
		return parseDecimal(strconv.FormatInt(int64(n), 10))
	case int64:
		return parseDecimal(strconv.FormatInt(n, 10))
	case int32:
		return parseDecimal(strconv.FormatInt(int64(n), 10))
	case uint:
		return parseDecimal(strconv.FormatUint(uint64(n), 10))
	case uint64:
		return parseDecimal(strconv.FormatUint(n, 10))
	case uint32:
		return parseDecimal(strconv.FormatUint(uint64(n), 10))
	}
	return decimal{}, false
}

func floatDecimal(f float64) (decimal, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return decimal{}, false
	}
	return parseDecimal(strconv.FormatFloat(f, 'g', -1, 64))
}

// deepEqual compares two decoded JSON values: numbers numerically, arrays
// element by element, objects key by key; values of different JSON types
// are never equal.
func deepEqual(a, b any) bool {
	ka, kb := kindOf(a), kindOf(b)
	if ka != kb || ka == kindOther {
		return false
	}
	switch ka {
	case kindNull:
		return true
	case kindBool:
		return a.(bool) == b.(bool)
	case kindString:
		return a.(string) == b.(string)
	case kindNumber:
		da, okA := numberOf(a)
		db, okB := numberOf(b)
		return okA && okB && cmpDecimal(da, db) == 0
	case kindArray:
		xa, xb := a.([]any), b.([]any)
		if len(xa) != len(xb) {
			return false
		}
		for i := range xa {
			if !deepEqual(xa[i], xb[i]) {
				return false
			}
		}
		return true
	}
	ma, okA := a.(map[string]any)
	mb, okB := b.(map[string]any)
	if !okA || !okB || len(ma) != len(mb) {
		return false
	}
	for k, va := range ma {
		vb, ok := mb[k]
		if !ok || !deepEqual(va, vb) {
			return false
		}
	}
	return true
}

// operand is a literal from a filter, prepared for fast comparison with
// payload values.
type operand struct {
	kind  jsonKind
	str   string
	num   decimal
	b     bool
	value any // the plain decoded value, for arrays and objects
}

// newOperand prepares a value produced by parseJSON.
func newOperand(v any) operand {
	o := operand{kind: kindOf(v), value: plain(v)}
	switch o.kind {
	case kindString:
		o.str = v.(string)
	case kindBool:
		o.b = v.(bool)
	case kindNumber:
		o.num, _ = numberOf(v)
	}
	return o
}

// equal reports whether the payload value v equals the operand.
func (o *operand) equal(v any) bool {
	switch o.kind {
	case kindString:
		s, ok := v.(string)
		return ok && s == o.str
	case kindNumber:
		d, ok := numberOf(v)
		return ok && cmpDecimal(d, o.num) == 0
	case kindBool:
		b, ok := v.(bool)
		return ok && b == o.b
	case kindNull:
		return v == nil
	}
	return deepEqual(v, o.value)
}

// compare orders the payload value v against the operand: numbers
// numerically, strings byte-wise. It reports false when they are not both
// numbers or both strings.
func (o *operand) compare(v any) (int, bool) {
	switch o.kind {
	case kindNumber:
		d, ok := numberOf(v)
		if !ok {
			return 0, false
		}
		return cmpDecimal(d, o.num), true
	case kindString:
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(s, o.str), true
	}
	return 0, false
}

// describe renders the operand for an error message, shortened.
func (o *operand) describe() string {
	b, err := json.Marshal(o.value)
	if err != nil {
		return o.kind.String()
	}
	s := string(b)
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}
