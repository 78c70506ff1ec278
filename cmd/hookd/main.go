// Command hookd is the hookd server and its tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hookd:", err)
		os.Exit(1)
	}
}

const usage = `hookd: a self-hosted webhooks server

Usage:
  hookd serve [--dev] [flags]   run the server (hookd serve --help lists every flag)
  hookd token --sub USER [--tenant T] [--scope "events:publish events:admin"] [--ttl 1h]
                                print a JWT signed with HOOKD_JWT_SECRET
  hookd listen --forward-to http://localhost:3000/webhooks [--events order.*] [--server URL] [--token T]
                                forward a server's live events to a local URL, signed
  hookd rekey --new-key B64 [--old-key B64] [--database-url URL]
                                re-encrypt stored secrets with a new key (stop hookd first)
  hookd webhooks list|create|delete [--json]
                                manage your webhooks on a server ($HOOKD_SERVER, $HOOKD_TOKEN)
  hookd events publish --event order.created --payload '{…}' [--idempotency-key K]
                                publish an event
  hookd logs tail --webhook ID  print a webhook's recent deliveries, then follow new ones
  hookd openapi                 print the OpenAPI document the server serves at /api/openapi.json
  hookd version                 print the module version and the commit it was built from
`

// run is the whole program; main only wires it to the process. --help of
// any command prints its usage and succeeds.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	err := command(ctx, args, getenv, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func command(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "token":
		return token(args[1:], getenv, stdout, stderr)
	case "listen":
		return listen(ctx, args[1:], getenv, stdout, stderr)
	case "rekey":
		return rekey(ctx, args[1:], getenv, stdout, stderr)
	case "webhooks":
		return webhooksCommand(ctx, args[1:], getenv, stdout, stderr)
	case "events":
		return eventsCommand(ctx, args[1:], getenv, stdout, stderr)
	case "logs":
		return logsCommand(ctx, args[1:], getenv, stdout, stderr)
	case "openapi":
		return openapi(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, buildDescription())
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
