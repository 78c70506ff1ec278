package auth

import (
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

func TestBearerToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		headers []string
		want    string
		wantErr string
	}{
		{name: "bearer", headers: []string{"Bearer abc.def.ghi"}, want: "abc.def.ghi"},
		{name: "lower-case scheme", headers: []string{"bearer abc.def.ghi"}, want: "abc.def.ghi"},
		{name: "upper-case scheme", headers: []string{"BEARER abc.def.ghi"}, want: "abc.def.ghi"},
		{name: "extra spaces", headers: []string{"Bearer   abc.def.ghi  "}, want: "abc.def.ghi"},
		{name: "missing", wantErr: "missing bearer token"},
		{name: "empty header", headers: []string{""}, wantErr: "missing bearer token"},
		{name: "scheme only", headers: []string{"Bearer"}, wantErr: "missing bearer token"},
		{name: "scheme and space", headers: []string{"Bearer "}, wantErr: "missing bearer token"},
		{name: "basic", headers: []string{"Basic YWxpY2U6cHc="}, wantErr: "malformed authorization header"},
		{name: "no scheme", headers: []string{"abc.def.ghi"}, wantErr: "malformed authorization header"},
		{name: "bearer prefix of another word", headers: []string{"Bearerabc.def.ghi"}, wantErr: "malformed authorization header"},
		{name: "two tokens", headers: []string{"Bearer abc def"}, wantErr: "malformed authorization header"},
		{name: "tab inside token", headers: []string{"Bearer abc\tdef"}, wantErr: "malformed authorization header"},
		{name: "repeated header", headers: []string{"Bearer a.b.c", "Bearer d.e.f"}, wantErr: "malformed authorization header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/api/webhooks", nil)
			for _, h := range tt.headers {
				r.Header.Add("Authorization", h)
			}
			got, err := BearerToken(r)
			if tt.wantErr != "" {
				wantUnauthorized(t, err, tt.wantErr)
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("BearerToken = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestIssue(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef-issue-secret")
	v := newVerifier(t, Options{HS256Secret: secret})
	tests := []struct {
		name string
		in   Principal
		want Principal
	}{
		{name: "user only", in: Principal{User: "alice"}, want: Principal{Tenant: DefaultTenant, User: "alice"}},
		{name: "tenant and scopes", in: Principal{Tenant: "acme", User: "bob", Scopes: []string{ScopePublish, ScopeAdmin}},
			want: Principal{Tenant: "acme", User: "bob", Scopes: []string{ScopePublish, ScopeAdmin}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := Issue(secret, tt.in, time.Hour, testNow)
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Verify(t.Context(), tok)
			if err != nil {
				t.Fatalf("Verify(Issue) = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Verify(Issue) = %+v, want %+v", got, tt.want)
			}
		})
	}

	t.Run("claims", func(t *testing.T) {
		t.Parallel()
		tok, err := Issue(secret, Principal{Tenant: "acme", User: "bob", Scopes: []string{"a", "b"}}, 90*time.Minute, testNow)
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(tok, ".")
		header, _ := base64.RawURLEncoding.DecodeString(parts[0])
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var h map[string]any
		var c map[string]any
		if err := json.Unmarshal(header, &h); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(payload, &c); err != nil {
			t.Fatal(err)
		}
		if h["alg"] != "HS256" {
			t.Errorf("alg = %v, want HS256", h["alg"])
		}
		want := map[string]any{
			"sub": "bob", "tenant": "acme", "scope": "a b",
			"iat": float64(testNow.Unix()), "nbf": float64(testNow.Unix()),
			"exp": float64(testNow.Add(90 * time.Minute).Unix()),
		}
		if !reflect.DeepEqual(c, want) {
			t.Errorf("claims = %v, want %v", c, want)
		}
	})

	t.Run("expires", func(t *testing.T) {
		t.Parallel()
		tok, err := Issue(secret, Principal{User: "alice"}, time.Minute, testNow.Add(-2*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(t.Context(), tok)
		wantUnauthorized(t, err, "token expired")
	})
}

func TestIssueErrors(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef")
	tests := []struct {
		name   string
		secret []byte
		p      Principal
		ttl    time.Duration
	}{
		{name: "no secret", p: Principal{User: "alice"}, ttl: time.Hour},
		{name: "zero ttl", secret: secret, p: Principal{User: "alice"}},
		{name: "negative ttl", secret: secret, p: Principal{User: "alice"}, ttl: -time.Second},
		{name: "no user", secret: secret, ttl: time.Hour},
		{name: "user too long", secret: secret, p: Principal{User: strings.Repeat("u", 201)}, ttl: time.Hour},
		{name: "tenant too long", secret: secret, p: Principal{User: "a", Tenant: strings.Repeat("t", 201)}, ttl: time.Hour},
		{name: "empty scope", secret: secret, p: Principal{User: "a", Scopes: []string{""}}, ttl: time.Hour},
		{name: "scope with space", secret: secret, p: Principal{User: "a", Scopes: []string{"a b"}}, ttl: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tok, err := Issue(tt.secret, tt.p, tt.ttl, testNow); err == nil {
				t.Errorf("Issue = %q, want an error", tok)
			}
		})
	}
}

func TestPrincipal(t *testing.T) {
	t.Parallel()
	p := Principal{Tenant: "acme", User: "bob", Scopes: []string{ScopePublish}}
	if got, want := p.Owner(), (hookd.Owner{Tenant: "acme", User: "bob"}); got != want {
		t.Errorf("Owner = %+v, want %+v", got, want)
	}
	tests := []struct {
		scope string
		want  bool
	}{
		{ScopePublish, true},
		{ScopeAdmin, false},
		{"events", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := p.HasScope(tt.scope); got != tt.want {
			t.Errorf("HasScope(%q) = %v, want %v", tt.scope, got, tt.want)
		}
	}
}
