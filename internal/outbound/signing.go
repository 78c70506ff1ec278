package outbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// secretPrefix marks a Standard Webhooks secret whose key is the base64
// text that follows it.
const secretPrefix = "whsec_"

// secretKeyBytes is how many random bytes GenerateSecret draws.
const secretKeyBytes = 24

// SecretKey returns the HMAC key for a webhook secret: the base64-decoded
// part after "whsec_" when the secret has that prefix and the rest decodes
// (standard, padded base64, as the Standard Webhooks libraries expect) to a
// non-empty key; otherwise the UTF-8 bytes of the whole secret.
func SecretKey(secret string) []byte {
	if rest, ok := strings.CutPrefix(secret, secretPrefix); ok {
		if key, err := base64.StdEncoding.DecodeString(rest); err == nil && len(key) > 0 {
			return key
		}
	}
	return []byte(secret)
}

// SignHex returns the X-Webhook-Signature value for body:
// "sha256=" followed by the hex HMAC-SHA256 of the raw body.
func SignHex(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// SignStandard returns one Standard Webhooks signature, "v1,<base64>", of
// HMAC-SHA256(key, msgID + "." + unix seconds of ts + "." + body).
func SignStandard(key []byte, msgID string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SignatureHeaders returns the values of X-Webhook-Signature (signed with
// the current secret only) and webhook-signature (the current secret's
// signature, then the previous secret's when previous is not empty,
// space-separated, so receivers keep verifying during a rotation).
func SignatureHeaders(msgID string, ts time.Time, body []byte, current, previous string) (xSig, webhookSig string) {
	currentKey := SecretKey(current)
	xSig = SignHex(currentKey, body)
	webhookSig = SignStandard(currentKey, msgID, ts, body)
	if previous != "" {
		webhookSig += " " + SignStandard(SecretKey(previous), msgID, ts, body)
	}
	return xSig, webhookSig
}

// GenerateSecret returns a new webhook secret, "whsec_" followed by the
// padded standard base64 of 24 bytes read from r (crypto/rand.Reader in
// production).
func GenerateSecret(r io.Reader) (string, error) {
	key := make([]byte, secretKeyBytes)
	if _, err := io.ReadFull(r, key); err != nil {
		return "", fmt.Errorf("generate webhook secret: %w", err)
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(key), nil
}
