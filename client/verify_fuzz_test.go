package client

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// FuzzVerify: whatever the signature header holds, Verify never panics;
// it accepts the genuine signature of the body wherever it stands among
// the header's signatures, and not for another body (the fuzzer's own
// signatures would have to be an HMAC under the key to sign it).
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"event":"order.created"}`), "v1,AAAA v2,xyz", "msg_1")
	f.Add([]byte(""), "", "m")
	f.Add([]byte("x"), "v1, v1,,", "")
	now := time.Unix(1_700_000_000, 0)
	key := []byte("0123456789abcdef0123456789abcdef")
	v := NewVerifier("whsec_" + base64.StdEncoding.EncodeToString(key))
	v.Now = func() time.Time { return now }
	ts := strconv.FormatInt(now.Unix(), 10)
	f.Fuzz(func(t *testing.T, body []byte, others, id string) {
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", ts)
		h.Set("webhook-signature", others)
		_ = v.Verify(body, h) // arbitrary signatures: any answer, no panic
		if id == "" {
			return
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "."))
		mac.Write(body)
		genuine := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		h.Set("webhook-signature", others+" "+genuine)
		if h.Get("webhook-signature") == others+" "+genuine { // the header kept it as set
			if err := v.Verify(body, h); err != nil {
				t.Fatalf("genuine signature after %q refused: %v", others, err)
			}
			if err := v.Verify(append(body, '!'), h); err == nil {
				t.Fatalf("another body accepted with %q", others)
			}
		}
	})
}
