package auth

import "testing"

func TestMayUse(t *testing.T) {
	t.Parallel()
	ro := Principal{User: "u", Scopes: []string{ScopePublish, ScopeReadOnly}}
	rw := Principal{User: "u", Scopes: []string{ScopePublish}}
	for _, tt := range []struct {
		p      Principal
		method string
		want   bool
	}{
		{ro, "GET", true}, {ro, "HEAD", true}, {ro, "POST", false}, {ro, "PUT", false}, {ro, "DELETE", false}, {ro, "PATCH", false},
		{rw, "GET", true}, {rw, "POST", true}, {rw, "DELETE", true},
	} {
		if got := tt.p.MayUse(tt.method); got != tt.want {
			t.Errorf("%v MayUse(%s) = %v, want %v", tt.p.Scopes, tt.method, got, tt.want)
		}
	}
}
