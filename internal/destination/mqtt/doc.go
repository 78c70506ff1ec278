// Package mqtt publishes webhook deliveries to an MQTT broker
// (docs/api.md §14): mqtt://host:1883/TOPIC/PATH.
//
// Each delivery is a QoS 1 PUBLISH of the §6 body that counts as delivered
// on its PUBACK. The publisher asks for MQTT 5 and then sends the §6
// headers as user properties (with payload format UTF-8 and content type
// application/json); a broker that refuses MQTT 5 gets MQTT 3.1.1 and the
// body alone. A PUBACK with a failure reason code (MQTT 5) is broker_error
// with that reason.
//
// The client is this package's own: the publisher needs CONNECT, PUBLISH at
// QoS 1, PUBACK, PINGREQ and DISCONNECT only, which are a few hundred lines
// (packet.go). Of the Go modules, paho.mqtt.golang speaks 3.1.1 only, so it
// cannot send user properties, and paho.golang (MQTT 5) is not available
// here as an approved release; a client of our own also dials through the
// guarded dialer and reports a lost connection exactly as the other
// brokers do, without a library's reconnect and in-memory queue in
// between.
//
// One connection is kept per address and credentials, shared by
// concurrent publishes (as many in flight as the broker's receive
// maximum), each connection a clean session with a random client id. A
// lost connection fails the publishes waiting on it as connection_error;
// the next publish connects again.
package mqtt
