// Package redisstream publishes webhook deliveries to Redis Streams
// (docs/api.md §14): redis://host:6379/DB?stream=NAME.
//
// Each delivery is one XADD NAME * entry with the field body (the §6 body)
// and one field per §6 header, its name in lower case; it counts as
// delivered once Redis answers with the entry id. One client (a small pool
// of connections) is kept per address, database and credentials; a
// connection a restart broke fails its publish as connection_error and the
// pool dials a new one for the next. A reply error (NOAUTH, WRONGTYPE,
// OOM, …) is broker_error with Redis's text.
package redisstream
