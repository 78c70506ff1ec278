package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseDefaults(t *testing.T) {
	c, _, err := Parse("serve", nil, env(map[string]string{"HOOKD_JWT_SECRET": "0123456789abcdef"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DatabaseURL != "sqlite:hookd.db" || c.DeliveryTimeout != 15*time.Second ||
		c.AutoDisableAfter != 50 || c.LogRetention != 720*time.Hour || c.AllowPrivateTargets || c.SQLitePath() != "hookd.db" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestFlagsWin(t *testing.T) {
	c, _, err := Parse("serve", []string{"--addr", "127.0.0.1:9999", "--allowed-targets", "10.20.0.0/16, 192.168.1.5"},
		env(map[string]string{"HOOKD_JWT_SECRET": "0123456789abcdef", "HOOKD_ADDR": ":1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" || len(c.AllowedTargets) != 2 || c.AllowedTargets[1].Bits() != 32 {
		t.Fatalf("%+v", c)
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]map[string]string{
		"no secret":        {},
		"short secret":     {"HOOKD_JWT_SECRET": "short"},
		"bad duration":     {"HOOKD_JWT_SECRET": "0123456789abcdef", "HOOKD_DELIVERY_TIMEOUT": "soon"},
		"bad bool":         {"HOOKD_JWT_SECRET": "0123456789abcdef", "HOOKD_ALLOW_PRIVATE_TARGETS": "maybe"},
		"bad cidr":         {"HOOKD_JWT_SECRET": "0123456789abcdef", "HOOKD_ALLOWED_TARGETS": "10.0.0.0/99"},
		"bad key":          {"HOOKD_JWT_SECRET": "0123456789abcdef", "HOOKD_ENCRYPTION_KEY": "c2hvcnQ="},
		"postgres, no key": {"HOOKD_JWT_SECRET": "0123456789abcdef", "HOOKD_DATABASE_URL": "postgres://x/y"},
		"zero workers":     {"HOOKD_JWT_SECRET": "0123456789abcdef", "HOOKD_WORKERS": "0"},
		"frame ancestors":  {"HOOKD_JWT_SECRET": "0123456789abcdef", "HOOKD_PORTAL_FRAME_ANCESTORS": "https://a.example; script-src *"},
	}
	for name, vars := range cases {
		if _, _, err := Parse("serve", nil, env(vars)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, _, err := Parse("serve", []string{"--dev"}, env(nil)); err != nil {
		t.Errorf("--dev without a secret: %v", err)
	}
}

// TestReadmeListsEveryVariable keeps the README's configuration table in
// step with Vars.
func TestReadmeListsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Vars {
		if !strings.Contains(string(readme), "| `"+v.Env+"` |") {
			t.Errorf("README's configuration table lacks %s", v.Env)
		}
	}
}

func TestPortalFrameAncestors(t *testing.T) {
	c, _, err := Parse("serve", nil, env(map[string]string{"HOOKD_JWT_SECRET": "0123456789abcdef"}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.PortalFrameAncestors, " ") != "'self'" {
		t.Fatalf("default %q, want 'self'", c.PortalFrameAncestors)
	}
	c, _, err = Parse("serve", nil, env(map[string]string{"HOOKD_JWT_SECRET": "0123456789abcdef", "HOOKD_PORTAL_FRAME_ANCESTORS": " https://shop.example  'self' "}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.PortalFrameAncestors, " ") != "https://shop.example 'self'" {
		t.Fatalf("%q", c.PortalFrameAncestors)
	}
}
