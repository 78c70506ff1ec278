// Package dispatch sends the queued deliveries.
//
// It owns the Dispatcher (claiming due deliveries with a lease, taking
// over deliveries a publish on this node leased to it with Offer, sharing
// the senders fairly among webhooks, backing off endpoints that do not
// answer, recording attempts in batches), the one retry rule every
// destination kind follows (RetryPolicy), each webhook's rate limit
// (Limiters), its circuit breaker (Breakers) and the delivery metrics.
//
// It sends through a Sender (internal/destination's Registry), which
// knows every destination kind; it never builds a request itself.
//
// # Isolation under faults
//
// An endpoint is a webhook row: what its owner configures, what
// max_concurrency and rate_limit are set on and what the API shows. (A
// URL host would make tenants who share a receiving service, such as a
// chat provider's hooks host, share each other's back-off.)
//
// Fair share. The senders (Config.Workers) are shared, work-conserving:
// a free sender takes, among the webhooks with a claimed delivery
// waiting, the one with the fewest requests in flight (then one whose
// endpoint is not failing, then the earliest queued delivery). So a
// webhook alone may use every sender, and under contention each gets an
// equal share of the senders. An eighth of the senders is headroom: a
// webhook at or over its share (the other seven eighths ÷ webhooks with
// work) takes a sender only while more than the headroom is idle, and
// the headroom goes only to webhooks under their share whose endpoint is
// not failing (its last attempt neither timed out nor failed to
// connect). So a healthy endpoint that gets work finds a sender at once
// even while failing ones hold every other sender waiting on timeouts.
// Until an endpoint's first timeout nothing tells it from a healthy one:
// with more newly hanging endpoints than senders, a healthy one can wait
// until each of them has timed out once, a delivery timeout per
// senders' worth of them (hookbench's isolation phase with 100).
// Claims follow the same share: a webhook with its share of deliveries
// already waiting is left out of the next claim, so the claimed backlog
// of slow webhooks cannot fill the dispatcher's room. A webhook's
// MaxConcurrency (and Config.PerWebhook, when set) bounds it whatever is
// idle.
//
// Circuit breaker. After BreakerPolicy.Failures attempts in a row that
// timed out or could not connect (5 by default), a webhook's circuit
// opens for BreakerPolicy.Open (30 s), doubling after each failed probe
// up to MaxOpen (10 min). While open, its deliveries are not claimed, and
// those already claimed are released: they keep their due time and
// attempt count, nothing is failed or dropped. Then one probe goes; any
// HTTP answer closes the circuit, another timeout reopens it. HTTP error
// answers never open it: such an endpoint answers quickly and costs the
// senders little; retries and auto-disable deal with it. The state is
// per node (Breakers); with several nodes each learns from its own
// attempts.
//
// Stop means stop. Right before each request a sender reads the
// webhook's row again (reads batched: one read answers every sender that
// asked while the previous one ran, plus a millisecond; a row is opened
// again only when its version changed); a webhook deleted or switched
// off on any node is then skipped and its waiting deliveries released. Forget does the same at once for a change made in
// this process, and also stops a read already under way from answering
// for it.
//
// What the peers do, and what hookd takes from them. Convoy keeps a
// three-state breaker per endpoint, in Redis so every worker shares it:
// it trips on a failure rate over a minimum number of requests in an
// observation window, waits an error timeout, then lets limited traffic
// through half-open. hookd keeps the three states but trips on
// consecutive timeouts and connection errors, which are what tie senders
// up, and keeps the state per node rather than add a shared store.
// Svix throttles per endpoint (a rate the receiver sets, the excess
// buffered, not dropped), stops attempts at once when an endpoint is
// disabled or removed, and disables an endpoint only after days of
// failures: hookd's rate_limit, stop-means-stop and auto-disable follow
// the same lines, and the breaker never fails a delivery. Hookdeck
// Outpost bounds delivery concurrency globally per consumer and leaves
// per-destination isolation to retries with back-off and to disabling
// failing destinations; hookd adds the fair share on top of a global
// bound so that one destination cannot hold the others back.
package dispatch
