package template

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

const orderPayload = `{"order_id":"ORD-123","status":"confirmed","amount":150.00,"tax":1.50,
	"qty":3,"big":123456789012345678901234567890,"exp":1e2,"tiny":1e-9,"neg":-0.25,"paid":true,"note":null,
	"customer":{"name":"John Doe","email":"john@example.com","address":{"city":"Berlin"}},
	"items":[{"name":"Headphones","price":149.99},{"name":"Cable","price":0.01}],
	"tags":["a","b"],"html":"<b>5 & 6</b>","quote":"say \"hi\"\nbye","braces":"{{status}}"}`

func mustDecode(t *testing.T, raw string) any {
	t.Helper()
	v, err := DecodePayload([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRender(t *testing.T) {
	t.Parallel()
	data := mustDecode(t, orderPayload)
	cases := []struct {
		name, tmpl, want string
	}{
		{"document example", "New order {{order_id}} for ${{amount}} has been {{status}}", "New order ORD-123 for $150 has been confirmed"},
		{"spaces in braces", "{{ order_id }}/{{\tstatus }}", "ORD-123/confirmed"},
		{"nested path", "{{customer.name}} in {{customer.address.city}}", "John Doe in Berlin"},
		{"array index", "{{items.0.name}} then {{items.1.name}} at {{items.1.price}}", "Headphones then Cable at 0.01"},
		{"missing values are empty", "[{{nope}}][{{customer.nope}}][{{items.7.name}}][{{items.x}}][{{order_id.deeper}}]", "[][][][][]"},
		{"leading-zero index is not an index", "[{{items.00.name}}]", "[]"},
		{"null is empty", "[{{note}}]", "[]"},
		{"integer stays", "{{qty}}", "3"},
		{"trailing zeros dropped", "{{amount}} {{tax}} {{neg}}", "150 1.5 -0.25"},
		{"big integer exact", "{{big}}", "123456789012345678901234567890"},
		{"exponent literal", "{{exp}} {{tiny}}", "100 1e-09"},
		{"booleans", "{{paid}}", "true"},
		{"objects as JSON", "{{customer.address}} {{tags}}", `{"city":"Berlin"} ["a","b"]`},
		{"no HTML escaping by default", "{{html}}", "<b>5 & 6</b>"},
		{"quotes and newlines kept", "{{quote}}", "say \"hi\"\nbye"},
		{"values are not expanded again", "{{braces}}", "{{status}}"},
		{"lone closing braces are text", "a }} b", "a }} b"},
		{"no placeholders", "plain text", "plain text"},
		{"empty template", "", ""},
		{"unicode text", "Bestellung {{order_id}} – ✓", "Bestellung ORD-123 – ✓"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := Parse(c.tmpl)
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.tmpl, err)
			}
			if got := tmpl.Render(data, nil); got != c.want {
				t.Errorf("Render(%q) = %q, want %q", c.tmpl, got, c.want)
			}
		})
	}
}

func TestRenderEscapesOnlyValues(t *testing.T) {
	t.Parallel()
	data := mustDecode(t, orderPayload)
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
	tmpl := MustParse("<!here> {{html}} & more")
	if got, want := tmpl.Render(data, esc), "<!here> &lt;b&gt;5 &amp; 6&lt;/b&gt; & more"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestRenderNonObjectPayloads(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{`[1,2]`, `"text"`, `42`, `null`} {
		got := MustParse("x{{a}}y{{0}}").Render(mustDecode(t, raw), nil)
		want := "xy"
		if raw == `[1,2]` {
			want = "xy1"
		}
		if got != want {
			t.Errorf("payload %s: got %q, want %q", raw, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ tmpl, want string }{
		{"Order {{order_id", "not closed"},
		{"{{}}", "names no field"},
		{"{{   }}", "names no field"},
		{"{{a..b}}", "empty path segment"},
		{"{{.a}}", "empty path segment"},
		{"{{a b}}", "dotted path"},
		{"{{{a}}}", "dotted path"},
		{"\xff{{a}}", "UTF-8"},
		{strings.Repeat("x", MaxLen+1), "at most"},
	}
	for _, c := range cases {
		_, err := Parse(c.tmpl)
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(pe.Error(), c.want) {
			t.Errorf("Parse(%.40q) = %v, want an error about %q", c.tmpl, err, c.want)
		}
	}
	if _, err := Parse(strings.Repeat("é", MaxLen)); err != nil {
		t.Errorf("a template of MaxLen characters is refused: %v", err)
	}
}

func TestFormatNumber(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"150": "150", "150.00": "150", "150.000000": "150", "1.5": "1.5", "1.50": "1.5", "-0.0": "0",
		"0": "0", "-7": "-7", "1e2": "100", "2.5E3": "2500", "1e21": "1e+21", "0.000001": "0.000001",
		"1e-7": "1e-07", "1e400": "1e400", "0.1": "0.1", "149.99": "149.99",
	}
	for in, want := range cases {
		if got := FormatNumber(in); got != want {
			t.Errorf("FormatNumber(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestRenderOutputIsBounded(t *testing.T) {
	t.Parallel()
	data := mustDecode(t, `{"v":"`+strings.Repeat("ü", 5000)+`"}`)
	out := MustParse(strings.Repeat("{{v}}", 100)).Render(data, nil)
	if len(out) > MaxOutput || !utf8.ValidString(out) || len(out) < MaxOutput-4 {
		t.Fatalf("output of %d bytes (valid UTF-8: %v)", len(out), utf8.ValidString(out))
	}
}

func TestPlaceholders(t *testing.T) {
	t.Parallel()
	got := strings.Join(MustParse("{{a}} x {{ b.c }} {{d.0}}").Placeholders(), ",")
	if got != "a,b.c,d.0" {
		t.Fatalf("got %s", got)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	names := []string{"order.created", "order.updated", "order.confirmed", "order.shipped", "order.delivered",
		"order.cancelled", "payment.received", "invoice.created", "inventory.low_stock", "inventory.out_of_stock",
		"inventory.restocked", "product.created", "product.updated", "customer.created", "customer.updated",
		"customer.deleted", "customer.subscribed"}
	for _, n := range names {
		tmpl, err := Parse(Default(n))
		if err != nil || len(tmpl.Placeholders()) == 0 {
			t.Errorf("default for %s: %q (%v)", n, Default(n), err)
		}
	}
	if len(defaults) != len(names) {
		t.Errorf("%d defaults for %d built-in types", len(defaults), len(names))
	}
	if got := MustParse(Default("order.created")).Render(mustDecode(t, orderPayload), nil); got != "New order ORD-123 for 150 (confirmed)" {
		t.Errorf("order.created default renders %q", got)
	}
	if got := Default("shipment.lost"); got != "New shipment.lost event" {
		t.Errorf("fallback %q", got)
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"abcdefgh", 5, "abcd…"},
		{"äöüäöü", 4, "äöü…"},
		{"x", 0, ""},
	}
	for _, c := range cases {
		if got := Truncate(c.in, c.max); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}
