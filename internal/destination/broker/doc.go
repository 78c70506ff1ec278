// Package broker holds what the message-broker destinations (amqp, nats,
// redisstream, mqtt) share: the message to publish, the outcome of one
// publish with the error types of docs/api.md §14, the URL checks, and the
// cache that keeps one connection per broker address and credentials.
//
// A broker destination publishes the §6 body with the §6 headers as
// message headers; a refused or failed publish fails the attempt as
// connection_error, timeout or broker_error. A Result maps onto a delivery
// attempt with no status code: RequestHeaders are the attempt's request
// headers, Response its response body, Duration its response time,
// ErrorType and ErrorMessage its error, and Permanent says the delivery
// fails for good at once. Err keeps the underlying error, so the caller can
// find its guarded dialer's refusal of a blocked host in the chain and
// report blocked_target instead.
package broker
