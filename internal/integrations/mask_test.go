package integrations

import (
	"strings"
	"testing"
)

func TestMaskURL(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX":                    "https://hooks.slack.com/services/...",
		"https://discord.com/api/webhooks/123/token":                                                       "https://discord.com/api/...",
		"https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=SECRET": "https://prod-12.westus.logic.azure.com:443/workflows/...",
		"https://hook.eu1.make.com/k2b7xq9vj1m3n5p8":                                                       "https://hook.eu1.make.com/...",
		"https://hook.eu1.make.com/":                                                                       "https://hook.eu1.make.com/...",
		"https://hooks.zapier.com/hooks/catch/123/abc/":                                                    "https://hooks.zapier.com/hooks/...",
		"http://127.0.0.1:8080/services/T0/B0/X":                                                           "http://127.0.0.1:8080/services/...",
		"not a url":                                                                                        "********",
		"":                                                                                                 "********",
	}
	for in, want := range cases {
		if got := MaskURL(in); got != want {
			t.Errorf("MaskURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskKey(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"0123456789abcdef0123456789abcdef-us6": "********-us6",
		"zap-key-1234":                         "********1234",
		"12345678":                             "********",
		"abc":                                  "********",
		"ünïcödé-kéy":                          "********-kéy",
	}
	for in, want := range cases {
		if got := MaskKey(in); got != want {
			t.Errorf("MaskKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskedConfig(t *testing.T) {
	t.Parallel()
	info := Info{Fields: []Field{
		{Name: "webhook_url", Mask: SecretURL}, {Name: "api_key", Mask: SecretKey}, {Name: "channel"}, {Name: "unset"},
	}}
	cfg := &Config{
		Fields:          map[string]string{"webhook_url": "https://hooks.slack.com/services/T/B/SECRETTOKEN", "api_key": "key-abcdefgh-us6", "channel": "#orders"},
		Notifications:   map[string]bool{"order.created": true, "order.updated": false},
		MessageTemplate: "Order {{order_id}}",
	}
	got := MaskedConfig(info, cfg)
	if got["webhook_url"] != "https://hooks.slack.com/services/..." || got["api_key"] != "********-us6" || got["channel"] != "#orders" ||
		got["message_template"] != "Order {{order_id}}" || len(got["notifications"].(map[string]bool)) != 2 {
		t.Fatalf("MaskedConfig = %v", got)
	}
	if _, has := got["unset"]; has {
		t.Error("an unset field is shown")
	}
	empty := MaskedConfig(info, &Config{})
	if n, ok := empty["notifications"].(map[string]bool); !ok || n == nil {
		t.Errorf("notifications of an empty config = %#v, want {}", empty["notifications"])
	}
	if _, has := empty["message_template"]; has {
		t.Error("an unset template is shown")
	}
}

func TestConfigRoundTrip(t *testing.T) {
	t.Parallel()
	c := &Config{Fields: map[string]string{"webhook_url": "https://x.test/a"}, Notifications: map[string]bool{"b.x": true, "a.y": true, "c.z": false}}
	back, err := ParseConfig(c.Raw())
	if err != nil || back.Field("webhook_url") != "https://x.test/a" || strings.Join(back.Events(), ",") != "a.y,b.x" {
		t.Fatalf("round trip = %+v, %v", back, err)
	}
	if _, err := ParseConfig([]byte("{not json")); err == nil {
		t.Error("ParseConfig accepted a broken document")
	}
	if c, err := ParseConfig(nil); err != nil || len(c.Events()) != 0 {
		t.Errorf("ParseConfig(nil) = %+v, %v", c, err)
	}
	// sha256("zap-key-123"), computed outside Go.
	if got := LookupKey("zap-key-123"); got != "8fa41a4616224144bef0228d04fc2b960f899ae501262c49f4b4134b5ea93afb" {
		t.Errorf("LookupKey = %s", got)
	}
}
