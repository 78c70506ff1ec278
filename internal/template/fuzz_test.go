package template

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRender parses arbitrary templates and renders them over arbitrary
// payloads: nothing panics, output stays bounded and valid UTF-8, and a
// template renders its literal text unchanged around the placeholders.
func FuzzRender(f *testing.F) {
	f.Add("New order {{order_id}} for ${{amount}} has been {{status}}", []byte(`{"order_id":"ORD-1","amount":150.00,"status":"ok"}`))
	f.Add("{{customer.name}} {{items.0.price}}", []byte(`{"customer":{"name":"Jo"},"items":[{"price":1.50}]}`))
	f.Add("{{a}}{{a}}{{a}}", []byte(`{"a":[1,{"b":null}]}`))
	f.Add("{{", []byte(`{}`))
	f.Add("}}{{x}", []byte(`[]`))
	f.Add("{{ x.y.z }}", []byte(`{"x":{"y":{"z":1e400}}}`))
	f.Fuzz(func(t *testing.T, tmpl string, payload []byte) {
		parsed, err := Parse(tmpl)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("Parse error of type %T", err)
			}
			return
		}
		data, err := DecodePayload(payload)
		if err != nil {
			data = nil
		}
		out := parsed.Render(data, nil)
		if len(out) > MaxOutput {
			t.Fatalf("output of %d bytes", len(out))
		}
		if !utf8.ValidString(out) && utf8.Valid(payload) {
			t.Fatalf("invalid UTF-8 output %q", out)
		}
		if out != parsed.Render(data, nil) {
			t.Fatal("rendering is not deterministic")
		}
		// Without data every placeholder is empty: only the literal text remains.
		var literal strings.Builder
		for _, p := range parsed.parts {
			if p.path == nil {
				literal.WriteString(p.text)
			}
		}
		if got := parsed.Render(nil, nil); got != cutUTF8(literal.String(), MaxOutput) {
			t.Fatalf("Render(nil) = %q, want the literal text %q", got, literal.String())
		}
		if !strings.Contains(tmpl, "{{") && parsed.Render(data, nil) != tmpl {
			t.Fatalf("a template without placeholders changed: %q", tmpl)
		}
		// Escaping touches substituted values only.
		marked := parsed.Render(data, func(string) string { return "" })
		if marked != parsed.Render(nil, nil) {
			t.Fatalf("escape applied to literal text: %q", marked)
		}
	})
}
