package config

import (
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseDefaults(t *testing.T) {
	c, _, err := Parse("serve", nil, env(map[string]string{"HOOKD_JWT_SECRET": "0123456789abcdef"}), io.Discard)
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
		env(map[string]string{"HOOKD_JWT_SECRET": "0123456789abcdef", "HOOKD_ADDR": ":1"}), io.Discard)
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
		if _, _, err := Parse("serve", nil, env(vars), io.Discard); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, _, err := Parse("serve", []string{"--dev"}, env(nil), io.Discard); err != nil {
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
	c, _, err := Parse("serve", nil, env(map[string]string{"HOOKD_JWT_SECRET": "0123456789abcdef"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.PortalFrameAncestors, " ") != "'self'" {
		t.Fatalf("default %q, want 'self'", c.PortalFrameAncestors)
	}
	c, _, err = Parse("serve", nil, env(map[string]string{"HOOKD_JWT_SECRET": "0123456789abcdef", "HOOKD_PORTAL_FRAME_ANCESTORS": " https://shop.example  'self' "}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.PortalFrameAncestors, " ") != "https://shop.example 'self'" {
		t.Fatalf("%q", c.PortalFrameAncestors)
	}
}

func TestTypedFlags(t *testing.T) {
	secret := map[string]string{"HOOKD_JWT_SECRET": "0123456789abcdef"}
	c, _, err := Parse("serve", []string{"--allow-private-targets", "--workers", "3", "--delivery-timeout", "2s", "--addr", ":1"}, env(secret), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !c.AllowPrivateTargets || !c.AllowPrivateTargetsSet || c.Workers != 3 || c.DeliveryTimeout != 2*time.Second || c.Addr != ":1" {
		t.Fatalf("%+v", c)
	}
	if _, _, err := Parse("serve", []string{"--allow-private-targets", "false"}, env(secret), io.Discard); err == nil ||
		!strings.Contains(err.Error(), `unexpected argument "false"`) {
		t.Errorf("a bool flag's separate value: %v", err)
	}
	if _, _, err := Parse("serve", []string{"--help"}, env(secret), io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
}

func TestErrorsNameTheFlagAndVariable(t *testing.T) {
	cases := []struct {
		args []string
		vars map[string]string
		want []string
	}{
		{[]string{"--workers", "many"}, nil, []string{"-workers", "many"}},
		{nil, map[string]string{"HOOKD_WORKERS": "many"}, []string{"--workers", "HOOKD_WORKERS", "many"}},
		{nil, map[string]string{"HOOKD_DELIVERY_TIMEOUT": "soon"}, []string{"--delivery-timeout", "HOOKD_DELIVERY_TIMEOUT"}},
		{[]string{"--workers", "0"}, nil, []string{"--workers: must be at least 1"}},
		{nil, map[string]string{"HOOKD_WORKERS": "0"}, []string{"--workers (from HOOKD_WORKERS): must be at least 1"}},
		{[]string{"--log-level", "loud"}, nil, []string{"--log-level", "loud"}},
	}
	for _, tc := range cases {
		vars := map[string]string{"HOOKD_JWT_SECRET": "0123456789abcdef"}
		for k, v := range tc.vars {
			vars[k] = v
		}
		_, _, err := Parse("serve", tc.args, env(vars), io.Discard)
		if err == nil {
			t.Errorf("%v %v: no error", tc.args, tc.vars)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v %v: %q lacks %q", tc.args, tc.vars, err, w)
			}
		}
	}
}
