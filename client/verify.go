package client

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a delivery's webhook-timestamp may be from
// the receiver's clock, either way, for Verify.
const DefaultTolerance = 5 * time.Minute

// Verification errors; Verify wraps them with detail.
var (
	ErrMissingHeaders   = errors.New("hookd: missing webhook-id, webhook-timestamp or webhook-signature")
	ErrInvalidTimestamp = errors.New("hookd: webhook-timestamp is outside the tolerance")
	ErrNoMatch          = errors.New("hookd: no webhook-signature matches")
)

// Verifier checks deliveries signed with a webhook's secret, as the
// Standard Webhooks specification says: the webhook-signature header
// holds space-separated "v1,<base64 HMAC-SHA256>" signatures of
// "<webhook-id>.<webhook-timestamp>.<body>"; one must match (during a
// secret rotation hookd sends one per secret).
type Verifier struct {
	key []byte
	// Tolerance bounds the timestamp's distance from Now (default
	// DefaultTolerance), so that a captured delivery cannot be replayed
	// later.
	Tolerance time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// NewVerifier returns a Verifier for a webhook secret ("whsec_" followed
// by base64, as hookd generates them; any other secret is used as it is).
func NewVerifier(secret string) *Verifier {
	key := []byte(secret)
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		if k, err := base64.StdEncoding.DecodeString(rest); err == nil && len(k) > 0 {
			key = k
		}
	}
	return &Verifier{key: key}
}

// Verify checks the delivery with headers h and the raw body (read it
// whole before verifying; do not re-encode it).
func (v *Verifier) Verify(body []byte, h http.Header) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not unix seconds", ErrInvalidTimestamp, ts)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	tolerance := v.Tolerance
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if d := now().Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: %s away from now (tolerance %s)", ErrInvalidTimestamp, d.Round(time.Second), tolerance)
	}
	mac := hmac.New(sha256.New, v.key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		if got, err := base64.StdEncoding.DecodeString(b64); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrNoMatch
}
