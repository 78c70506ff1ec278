package redisstream

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// go-redis writes its own unstructured lines to standard error (a failed
// dial, a pool that could not reconnect). Every such failure already
// reaches hookd as the attempt's broker_error or connection_error, logged
// as a structured delivery line and kept in the delivery log, so the
// library's copy only adds noise in a format log collectors can't parse.
func init() { redis.SetLogger(quietLogger{}) }

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}
