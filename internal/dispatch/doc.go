// Package dispatch sends the queued deliveries.
//
// It owns the Dispatcher (claiming due deliveries with a lease, taking
// over deliveries a publish on this node leased to it with Offer, a fair
// share of senders per webhook, recording attempts in batches), the one
// retry rule every destination kind follows (RetryPolicy), each webhook's
// rate limit (Limiters) and the delivery metrics.
//
// It sends through a Sender (internal/destination's Registry), which
// knows every destination kind; it never builds a request itself.
package dispatch
