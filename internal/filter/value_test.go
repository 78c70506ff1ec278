package filter

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestCmpDecimal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"150", "150.0", 0},
		{"150", "1.5e2", 0},
		{"150", "15000e-2", 0},
		{"0", "-0", 0},
		{"0.000", "0e99", 0},
		{"1", "2", -1},
		{"-1", "-2", 1},
		{"-1", "0", -1},
		{"0", "0.0001", -1},
		{"99.99", "100", -1},
		{"100.5", "100.05", 1},
		{"0.1", "0.10000000000000000001", -1},
		{"12345678901234567890123", "12345678901234567890124", -1},
		{"9007199254740993", "9007199254740992", 1}, // equal as float64
		{"1e400", "2e400", -1},
		{"1e-400", "0", 1},
		{"-1e-400", "1e-400", -1},
		{"10", "9.99999", 1},
		{"1.000000000000000000001", "1", 1},
		{"1E+2", "100", 0},
	}
	for _, tt := range tests {
		a, okA := parseDecimal(tt.a)
		b, okB := parseDecimal(tt.b)
		if !okA || !okB {
			t.Fatalf("parseDecimal(%q, %q) failed", tt.a, tt.b)
		}
		if got := cmpDecimal(a, b); got != tt.want {
			t.Errorf("cmp(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := cmpDecimal(b, a); got != -tt.want {
			t.Errorf("cmp(%s, %s) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestParseDecimalRejects(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "-", ".", "1e", "1e+", "abc", "1.2.3", "NaN", "+Inf", "1e5x", "--1"} {
		if _, ok := parseDecimal(s); ok {
			t.Errorf("parseDecimal(%q) accepted", s)
		}
	}
}

// TestCmpDecimalAgainstBigRat compares random numbers both ways.
func TestCmpDecimalAgainstBigRat(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		a, b := randomNumber(rng), randomNumber(rng)
		if rng.IntN(4) == 0 {
			b = a + "0" // same digits, often a different value
		}
		checkAgainstRat(t, a, b)
	}
}

func FuzzCmpDecimal(f *testing.F) {
	f.Add("150", "150.0")
	f.Add("-0.5e-3", "-5e-4")
	f.Add("12345678901234567890", "12345678901234567891")
	f.Add("0E100000000000000000000", "0")
	f.Fuzz(func(t *testing.T, a, b string) {
		if !isSmallJSONNumber(a) || !isSmallJSONNumber(b) {
			return
		}
		checkAgainstRat(t, a, b)
	})
}

// isSmallJSONNumber accepts JSON number literals whose exponent big.Rat
// can expand quickly.
func isSmallJSONNumber(s string) bool {
	var n json.Number
	if err := json.Unmarshal([]byte(s), &n); err != nil || string(n) != s {
		return false
	}
	d, ok := parseDecimal(s)
	if !ok || d.exp <= -400 || d.exp >= 400 {
		return false
	}
	_, ok = new(big.Rat).SetString(s) // refuses exponents beyond int range, even on zero
	return ok
}

func checkAgainstRat(t *testing.T, a, b string) {
	t.Helper()
	ra, okA := new(big.Rat).SetString(a)
	rb, okB := new(big.Rat).SetString(b)
	da, okDA := parseDecimal(a)
	db, okDB := parseDecimal(b)
	if !okA || !okB || !okDA || !okDB {
		t.Fatalf("cannot parse %q or %q", a, b)
	}
	if got, want := cmpDecimal(da, db), ra.Cmp(rb); got != want {
		t.Fatalf("cmp(%s, %s) = %d, big.Rat says %d", a, b, got, want)
	}
}

// randomNumber produces a JSON number literal with leading zeros in the
// fraction, trailing zeros and exponents, all of which must not matter.
func randomNumber(rng *rand.Rand) string {
	s := ""
	if rng.IntN(2) == 0 {
		s = "-"
	}
	s += fmt.Sprint(rng.IntN(1000))
	if rng.IntN(2) == 0 {
		s += "." + fmt.Sprintf("%0*d", rng.IntN(4)+1, rng.IntN(1000))
	}
	if rng.IntN(3) == 0 {
		s += fmt.Sprintf("e%d", rng.IntN(11)-5)
	}
	return s
}

func TestDeepEqual(t *testing.T) {
	t.Parallel()
	decode := func(s string) any { return mustDecode(t, s) }
	tests := []struct {
		a, b string
		want bool
	}{
		{`{"a": [1, {"b": 2.0}]}`, `{"a": [1.0, {"b": 2}]}`, true},
		{`{"a": 1}`, `{"a": 1, "b": 2}`, false},
		{`{"a": 1, "c": 2}`, `{"a": 1, "b": 2}`, false},
		{`[1, 2]`, `[1, 2, 3]`, false},
		{`[1, 2]`, `[2, 1]`, false},
		{`null`, `null`, true},
		{`null`, `false`, false},
		{`"1"`, `1`, false},
		{`true`, `true`, true},
		{`{}`, `[]`, false},
	}
	for _, tt := range tests {
		if got := deepEqual(decode(tt.a), decode(tt.b)); got != tt.want {
			t.Errorf("deepEqual(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	if deepEqual(struct{}{}, struct{}{}) {
		t.Error("non-JSON values must not be equal")
	}
	if !deepEqual(float64(2), json.Number("2.0")) || !deepEqual(int64(3), json.Number("3")) {
		t.Error("numbers of different Go types must compare numerically")
	}
}
