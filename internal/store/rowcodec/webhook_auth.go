package rowcodec

import (
	"encoding/json"
	"fmt"

	"github.com/hookd/hookd/internal/hookd"
)

// sealAuth is the auth column's value for a: its JSON sealed with c (the
// secrets inside with the rest), nil (NULL) for no auth.
func sealAuth(c hookd.Cipher, a *hookd.EndpointAuth) (*string, error) {
	if a == nil {
		return nil, nil
	}
	b, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	sealed, err := c.Seal(b)
	if err != nil {
		return nil, fmt.Errorf("seal auth: %w", err)
	}
	return &sealed, nil
}

// openAuth opens the auth column's value; nil (NULL) is no auth.
func openAuth(c hookd.Cipher, sealed *string) (*hookd.EndpointAuth, error) {
	if sealed == nil {
		return nil, nil
	}
	plain, err := c.Open(*sealed)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	var a hookd.EndpointAuth
	if err := json.Unmarshal(plain, &a); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &a, nil
}
