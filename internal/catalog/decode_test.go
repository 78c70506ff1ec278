package catalog

import (
	"reflect"
	"strings"
	"testing"
)

// checkDecodeAgrees fails when decodeFast and decodeJSON disagree on an
// input: both must fail, or both succeed with equal values.
func checkDecodeAgrees(t *testing.T, input []byte) {
	t.Helper()
	want, wantErr := decodeJSON(input)
	got, gotErr := decodeFast(input)
	if (gotErr != nil) != (wantErr != nil) {
		t.Fatalf("decodeFast(%q) error %v, encoding/json error %v", input, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeFast(%q) = %#v, encoding/json = %#v", input, got, want)
	}
}

// decodeSeeds are inputs on which decodeFast must agree with encoding/json.
var decodeSeeds = []string{
	// values
	`{}`, `[]`, `""`, `0`, `-0`, `1`, `-1.5e+10`, `1E-2`, `0.0`, `true`, `false`, `null`,
	`123456789012345678901234567890.123456789e-300`, `1e999`, `-0.000`,
	`{"a":1,"b":[1,2,{"c":null}],"d":{"e":"f"}}`,
	" \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } } \r\n\t ",
	`{"a":1,"a":2}`, `{"a":{"x":1},"a":[]}`, `[[],{},[[]]]`,
	// strings
	`"plain"`, `"a\"b\\c\/d\be\ff\ng\rh\ti"`, `"\u0041\u00e9\u20AC"`, `"\ud83d\ude00"`,
	`"\ud83d"`, `"\ude00"`, `"\ud83dx"`, `"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`, `"\ude00\ud83d"`,
	`"\u0000"`, `"é€😀"`, "\"\xff\"", "\"a\xc3\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"x\xffy\\n\"",
	"\"\x7f\"", `{"k\u00e9y":"v","\ud800":1}`, "{\"\xfe\":1}",
	// errors
	``, ` `, `{`, `}`, `[`, `[1,]`, `{"a":1,}`, `{,}`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a" 1}`,
	`01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `0x10`, `NaN`, `Infinity`, `tru`, `truex`, `nul`, `nulll`,
	`"abc`, `"\x"`, `"\'"`, `"\u12"`, `"\u12g4"`, `"\ud83d\u12"`, "\"a\nb\"", "\"\x00\"", "\"\x1f\"",
	`{} {}`, `{}x`, `1 2`, `[1] ]`, `{"a":1}}`, "{}\x00", "\xef\xbb\xbf{}", "{}\u00a0",
	`[1 2]`, `{"a":1 "b":2}`, `["a" : 1]`, `{"a":[}`, `[{]`,
}

func TestDecodeFastMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, in := range decodeSeeds {
		checkDecodeAgrees(t, []byte(in))
	}
}

func TestDecodeFastLongStrings(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("ab\xffc\\u00e9", 500)
	for _, in := range []string{
		`"` + strings.Repeat("x", 5000) + `"`,
		`"` + strings.Repeat("\xff", 3000) + `"`,
		`"` + long + `"`,
		`{"` + long + `":"` + long + `"}`,
		`[` + strings.Repeat(`"\ud83d\ude00",`, 1000) + `1]`,
	} {
		checkDecodeAgrees(t, []byte(in))
	}
}

func TestDecodeFastDepth(t *testing.T) {
	t.Parallel()
	for _, depth := range []int{1, 100, maxDecodeDepth - 1, maxDecodeDepth, maxDecodeDepth + 1, maxDecodeDepth + 50} {
		arrays := strings.Repeat("[", depth) + strings.Repeat("]", depth)
		checkDecodeAgrees(t, []byte(arrays))
		objects := strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
		checkDecodeAgrees(t, []byte(objects))
		mixed := strings.Repeat(`[{"a":`, depth/2) + "[]" + strings.Repeat("}]", depth/2)
		checkDecodeAgrees(t, []byte(mixed))
	}
}

func TestDecodeFastEmptyContainers(t *testing.T) {
	t.Parallel()
	v, err := decodeFast([]byte(`{"a":[],"b":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	if a, ok := m["a"].([]any); !ok || a == nil || len(a) != 0 {
		t.Fatalf("empty array decoded as %#v, want a non-nil empty []any", m["a"])
	}
	if b, ok := m["b"].(map[string]any); !ok || b == nil || len(b) != 0 {
		t.Fatalf("empty object decoded as %#v, want a non-nil empty map", m["b"])
	}
}

// FuzzDecodeFast checks that decodeFast agrees with encoding/json on
// every input: the same verdict and, when valid, the same value.
func FuzzDecodeFast(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(docOrderCreatedExample))
	f.Add([]byte(benchValidatePayload))
	f.Fuzz(func(t *testing.T, input []byte) {
		checkDecodeAgrees(t, input)
	})
}
