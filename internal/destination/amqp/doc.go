// Package amqp publishes webhook deliveries to RabbitMQ over AMQP 0-9-1
// (docs/api.md §14): amqp://host:5672/vhost?exchange=EX&routing_key=KEY.
//
// Each message is persistent and counts as delivered on the broker's
// publisher confirm. The §6 headers travel as AMQP message headers, the
// event id as the message id. One connection is kept per broker address,
// virtual host and credentials, with one confirm-mode channel per exchange
// shared by concurrent publishes; a broker that closes the channel (a
// missing exchange: 404 NOT_FOUND) fails the publish as broker_error with
// its reason, and a connection lost to a broker restart fails it as
// connection_error and is opened again on the next publish.
package amqp
