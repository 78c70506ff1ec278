package outbound

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	svix "github.com/svix/svix-webhooks/go"
)

// The published Standard Webhooks test vector (spec, "Signature scheme").
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorMsgID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorPayload   = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignStandardPublishedVector(t *testing.T) {
	t.Parallel()
	got := SignStandard(SecretKey(vectorSecret), vectorMsgID, time.Unix(vectorTimestamp, 0), []byte(vectorPayload))
	if got != vectorSignature {
		t.Fatalf("SignStandard = %q, want %q", got, vectorSignature)
	}
	_, webhookSig := SignatureHeaders(vectorMsgID, time.Unix(vectorTimestamp, 0), []byte(vectorPayload), vectorSecret, "")
	if webhookSig != vectorSignature {
		t.Fatalf("SignatureHeaders webhook-signature = %q, want %q", webhookSig, vectorSignature)
	}
}

func TestSecretKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secret string
		want   []byte
	}{
		{"whsec base64", "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef")), []byte("0123456789abcdef")},
		{"plain secret", "my-plain-secret-value", []byte("my-plain-secret-value")},
		{"whsec not base64", "whsec_not*base64!!", []byte("whsec_not*base64!!")},
		{"whsec unpadded", "whsec_YWJj" + "ZA", []byte("whsec_YWJjZA")},
		{"whsec empty rest", "whsec_", []byte("whsec_")},
		{"prefix elsewhere", "xwhsec_YWJjZA==", []byte("xwhsec_YWJjZA==")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := SecretKey(tt.secret); !bytes.Equal(got, tt.want) {
				t.Fatalf("SecretKey(%q) = %q, want %q", tt.secret, got, tt.want)
			}
		})
	}
}

func TestSignHex(t *testing.T) {
	t.Parallel()
	key := []byte("plain-secret-key")
	body := []byte(`{"id":"evt_1","event":"order.created"}`)
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := SignHex(key, body); got != want {
		t.Fatalf("SignHex = %q, want %q", got, want)
	}
	// RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
	const rfc4231 = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got := SignHex([]byte("Jefe"), []byte("what do ya want for nothing?")); got != rfc4231 {
		t.Fatalf("SignHex RFC 4231 case 2 = %q, want %q", got, rfc4231)
	}
}

// standardHeaders builds the headers a delivery carries for the libraries.
func standardHeaders(msgID string, ts time.Time, webhookSig string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", msgID)
	h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("webhook-signature", webhookSig)
	return h
}

// verifiers returns Verify functions from both official libraries for secret.
func verifiers(t *testing.T, secret string) map[string]func([]byte, http.Header) error {
	t.Helper()
	std, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("standardwebhooks.NewWebhook: %v", err)
	}
	sv, err := svix.NewWebhook(secret)
	if err != nil {
		t.Fatalf("svix.NewWebhook: %v", err)
	}
	return map[string]func([]byte, http.Header) error{"standard-webhooks": std.Verify, "svix": sv.Verify}
}

func TestSignatureHeadersVerifiedByOfficialLibraries(t *testing.T) {
	t.Parallel()
	current, err := GenerateSecret(bytes.NewReader(bytes.Repeat([]byte{7}, 24)))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"id":"evt_abc","event":"order.created","version":"1.0","data":{"amount":12.5}}`)
	ts := time.Now()
	xSig, webhookSig := SignatureHeaders("evt_abc", ts, body, current, "")
	if strings.Contains(webhookSig, " ") {
		t.Fatalf("webhook-signature without a previous secret has two signatures: %q", webhookSig)
	}
	if want := SignHex(SecretKey(current), body); xSig != want {
		t.Fatalf("X-Webhook-Signature = %q, want %q", xSig, want)
	}
	for name, verify := range verifiers(t, current) {
		if err := verify(body, standardHeaders("evt_abc", ts, webhookSig)); err != nil {
			t.Errorf("%s: Verify: %v", name, err)
		}
		tampered := append(bytes.Clone(body[:len(body)-1]), ' ', '}')
		if err := verify(tampered, standardHeaders("evt_abc", ts, webhookSig)); err == nil {
			t.Errorf("%s: Verify accepted a tampered body", name)
		}
		if err := verify(body, standardHeaders("evt_other", ts, webhookSig)); err == nil {
			t.Errorf("%s: Verify accepted another message id", name)
		}
		if err := verify(body, standardHeaders("evt_abc", ts.Add(time.Second), webhookSig)); err == nil {
			t.Errorf("%s: Verify accepted another timestamp", name)
		}
	}
	// The svix library also reads its own header family.
	sv, err := svix.NewWebhook(current)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("svix-id", "evt_abc")
	h.Set("svix-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("svix-signature", webhookSig)
	if err := sv.Verify(body, h); err != nil {
		t.Errorf("svix with svix-* headers: %v", err)
	}
}

func TestSignatureHeadersDuringRotation(t *testing.T) {
	t.Parallel()
	previous := "whsec_" + base64.StdEncoding.EncodeToString([]byte("old-secret-key-bytes-24b"))
	current := "whsec_" + base64.StdEncoding.EncodeToString([]byte("new-secret-key-bytes-24b"))
	unrelated := "whsec_" + base64.StdEncoding.EncodeToString([]byte("some-other-key-bytes-24b"))
	body := []byte(`{"id":"evt_rot","event":"order.updated"}`)
	ts := time.Now()

	xSig, webhookSig := SignatureHeaders("evt_rot", ts, body, current, previous)
	parts := strings.Split(webhookSig, " ")
	if len(parts) != 2 {
		t.Fatalf("webhook-signature = %q, want two space-separated signatures", webhookSig)
	}
	if want := SignStandard(SecretKey(current), "evt_rot", ts, body); parts[0] != want {
		t.Errorf("first signature = %q, want the current secret's %q", parts[0], want)
	}
	if want := SignStandard(SecretKey(previous), "evt_rot", ts, body); parts[1] != want {
		t.Errorf("second signature = %q, want the previous secret's %q", parts[1], want)
	}
	if want := SignHex(SecretKey(current), body); xSig != want {
		t.Errorf("X-Webhook-Signature = %q, want the current secret's %q", xSig, want)
	}

	for _, secret := range []string{current, previous} {
		for name, verify := range verifiers(t, secret) {
			if err := verify(body, standardHeaders("evt_rot", ts, webhookSig)); err != nil {
				t.Errorf("%s with %s: Verify: %v", name, secret, err)
			}
		}
	}
	for name, verify := range verifiers(t, unrelated) {
		if err := verify(body, standardHeaders("evt_rot", ts, webhookSig)); err == nil {
			t.Errorf("%s: Verify accepted a signature from an unrelated secret", name)
		}
	}
}

func TestSignatureHeadersPlainSecret(t *testing.T) {
	t.Parallel()
	const secret = "a-plain-secret-of-some-length"
	body := []byte(`{"id":"evt_plain"}`)
	ts := time.Now()
	_, webhookSig := SignatureHeaders("evt_plain", ts, body, secret, "")
	raw, err := standardwebhooks.NewWebhookRaw([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Verify(body, standardHeaders("evt_plain", ts, webhookSig)); err != nil {
		t.Fatalf("Verify with the secret's UTF-8 bytes as key: %v", err)
	}
}

func TestGenerateSecret(t *testing.T) {
	t.Parallel()
	src := bytes.NewReader([]byte("abcdefghijklmnopqrstuvwxyz"))
	got, err := GenerateSecret(src)
	if err != nil {
		t.Fatal(err)
	}
	want := "whsec_" + base64.StdEncoding.EncodeToString([]byte("abcdefghijklmnopqrstuvwx"))
	if got != want {
		t.Fatalf("GenerateSecret = %q, want %q", got, want)
	}
	if !bytes.Equal(SecretKey(got), []byte("abcdefghijklmnopqrstuvwx")) {
		t.Fatalf("SecretKey(GenerateSecret) = %q, want the 24 drawn bytes", SecretKey(got))
	}
	if len(got) < 16 || len(got) > 128 {
		t.Fatalf("generated secret length %d outside the 16–128 a given secret must have", len(got))
	}
	if _, err := standardwebhooks.NewWebhook(got); err != nil {
		t.Fatalf("standard-webhooks library rejects the generated secret: %v", err)
	}

	if _, err := GenerateSecret(bytes.NewReader(make([]byte, 10))); err == nil {
		t.Fatal("GenerateSecret with a short reader: want an error")
	}
	boom := errors.New("entropy exhausted")
	if _, err := GenerateSecret(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Fatalf("GenerateSecret error = %v, want it to wrap %v", err, boom)
	}
}
