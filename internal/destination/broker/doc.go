// Package broker holds what the message-broker destinations (amqp, nats,
// redisstream, mqtt) share: the message to publish, the outcome of one
// publish with the error types of CONTRACT §14, the URL checks, and the
// cache that keeps one connection per broker address and credentials.
//
// A broker destination publishes the §6 body with the §6 headers as
// message headers; a refused or failed publish fails the attempt as
// connection_error, timeout or broker_error.
package broker
