// Package outbound makes hookd's outbound HTTP requests and says what they
// found.
//
// It owns the transport every destination kind sends through: the SSRF
// Guard that refuses addresses inside the operator's network (checked on
// the dialled IP, after DNS), NewTransport and NewClient built on it,
// NewDeliveryClient (the HTTP/1.1 client webhook deliveries go out with,
// dialling through the same guard), the
// Sender of signed webhook requests (Message in, Outcome out), the
// Authorizer a message may carry (the endpoint's credentials, fetched
// anew once on a 401) and NewTLSClient for a client certificate, the
// signatures (X-Webhook-Signature and Standard Webhooks, SecretKey,
// SignatureHeaders, GenerateSecret), Classify, which names a failed
// attempt with the contract's error types, Retry-After parsing, and
// EventBody, the JSON body of an event.
//
// It decides nothing about retries or queues: that is internal/dispatch.
package outbound
