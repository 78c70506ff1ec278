package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hookd/hookd/client"
)

// The management commands talk to a running server through the Go client:
// hookd webhooks list|create|delete, hookd events publish, hookd logs tail.

// apiFlags are the flags every management command has.
type apiFlags struct {
	server, token *string
	json          *bool
}

func newAPIFlags(fs *flag.FlagSet, getenv func(string) string) apiFlags {
	server := getenv("HOOKD_SERVER")
	if server == "" {
		server = "http://127.0.0.1:8080"
	}
	return apiFlags{
		server: fs.String("server", server, "hookd server ($HOOKD_SERVER)"),
		token:  fs.String("token", getenv("HOOKD_TOKEN"), "bearer token ($HOOKD_TOKEN)"),
		json:   fs.Bool("json", false, "print JSON (for scripts) instead of a table"),
	}
}

func (f apiFlags) client() (*client.Client, error) {
	if *f.token == "" {
		return nil, errors.New("set HOOKD_TOKEN or --token (hookd serve --dev prints one)")
	}
	return client.New(*f.server, *f.token, client.WithUserAgent("hookd-cli/"+version))
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// webhooksCommand is hookd webhooks list|create|delete.
func webhooksCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const use = "usage: hookd webhooks list|create|delete [flags] (hookd webhooks <command> --help lists them)"
	if len(args) == 0 {
		return errors.New(use)
	}
	fs := flag.NewFlagSet("webhooks "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	api := newAPIFlags(fs, getenv)
	switch args[0] {
	case "list":
		event := fs.String("event", "", "only webhooks subscribed to this event type")
		status := fs.String("status", "", "active or inactive")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		c, err := api.client()
		if err != nil {
			return err
		}
		list, err := c.ListWebhooks(ctx, client.ListWebhooksOptions{Event: *event, Status: *status, Limit: 200})
		if err != nil {
			return err
		}
		if *api.json {
			return printJSON(stdout, list)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tURL\tEVENTS\tACTIVE\tSUCCESS RATE")
		for _, wh := range list.Webhooks {
			rate := "-"
			if wh.SuccessRate != nil {
				rate = strconv.FormatFloat(*wh.SuccessRate, 'f', -1, 64) + "%"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%t\t%s\n", wh.ID, wh.Name, wh.URL, strings.Join(wh.Events, ","), wh.IsActive, rate)
		}
		return tw.Flush()
	case "create":
		name := fs.String("name", "", "name (required)")
		url := fs.String("url", "", "endpoint URL (required)")
		events := fs.String("events", "", "comma-separated event types, order.* or * (required)")
		secret := fs.String("secret", "", "signing secret (default: generated)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		c, err := api.client()
		if err != nil {
			return err
		}
		in := client.WebhookInput{Name: name, URL: url, Events: strings.Split(*events, ",")}
		if *events == "" {
			in.Events = nil
		}
		if *secret != "" {
			in.Secret = secret
		}
		wh, err := c.CreateWebhook(ctx, in)
		if err != nil {
			return err
		}
		if *api.json {
			return printJSON(stdout, wh)
		}
		fmt.Fprintf(stdout, "created webhook %d %q for %s\nsigning secret: %s\n", wh.ID, wh.Name, wh.URL, wh.Secret)
		return nil
	case "delete":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		id, err := idArg(fs, "webhook")
		if err != nil {
			return err
		}
		c, err := api.client()
		if err != nil {
			return err
		}
		if err := c.DeleteWebhook(ctx, id); err != nil {
			return err
		}
		if *api.json {
			return printJSON(stdout, map[string]any{"id": id, "deleted": true})
		}
		fmt.Fprintf(stdout, "deleted webhook %d\n", id)
		return nil
	default:
		return fmt.Errorf("unknown webhooks command %q; %s", args[0], use)
	}
}

// idArg reads the one positional argument, an id.
func idArg(fs *flag.FlagSet, what string) (int64, error) {
	if fs.NArg() != 1 {
		return 0, fmt.Errorf("give one %s id (flags first: hookd webhooks delete --json 3)", what)
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id < 1 {
		return 0, fmt.Errorf("%q is not a %s id", fs.Arg(0), what)
	}
	return id, nil
}

// eventsCommand is hookd events publish.
func eventsCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "publish" {
		return errors.New("usage: hookd events publish --event TYPE --payload JSON [--idempotency-key K] [--json]")
	}
	fs := flag.NewFlagSet("events publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	api := newAPIFlags(fs, getenv)
	event := fs.String("event", "", "event type, e.g. order.created (required)")
	payload := fs.String("payload", "", `the payload, a JSON object (required), e.g. '{"order_id": "ORD-1", "status": "confirmed", "amount": 150}'`)
	key := fs.String("idempotency-key", "", "idempotency key: the same key and body within 24 h answers the first event")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if !json.Valid([]byte(*payload)) {
		return errors.New("--payload must be JSON")
	}
	c, err := api.client()
	if err != nil {
		return err
	}
	var opts []client.PublishOption
	if *key != "" {
		opts = append(opts, client.IdempotencyKey(*key))
	}
	pub, err := c.Publish(ctx, *event, json.RawMessage(*payload), opts...)
	if err != nil {
		return err
	}
	if *api.json {
		return printJSON(stdout, map[string]any{"event": pub.Event, "duplicate": pub.Duplicate})
	}
	how := "published"
	if pub.Duplicate {
		how = "already published (idempotency key seen before)"
	}
	fmt.Fprintf(stdout, "%s %s %s: %d webhook(s), %d integration(s)\n", how, pub.Event.ID, pub.Event.Type, pub.Event.WebhooksMatched, pub.Event.IntegrationsMatched)
	return nil
}

// logsCommand is hookd logs tail --webhook ID.
func logsCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "tail" {
		return errors.New("usage: hookd logs tail --webhook ID [--lines 10] [--interval 1s] [--json]")
	}
	fs := flag.NewFlagSet("logs tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	api := newAPIFlags(fs, getenv)
	webhook := fs.Int64("webhook", 0, "webhook id (required)")
	lines := fs.Int("lines", 10, "recent deliveries to print first")
	interval := fs.Duration("interval", time.Second, "how often to ask for new deliveries")
	follow := fs.Bool("follow", true, "keep printing new deliveries and status changes (--follow=false: print and exit)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *webhook < 1 {
		return errors.New("--webhook is required")
	}
	if *interval <= 0 {
		return errors.New("--interval must be above zero")
	}
	c, err := api.client()
	if err != nil {
		return err
	}
	seen := map[int64]string{} // log id → status printed
	enc := json.NewEncoder(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if !*api.json {
		fmt.Fprintln(tw, "TIME\tLOG\tEVENT\tEVENT ID\tSTATUS\tCODE\tMS\tRETRIES\tERROR")
	}
	first := true
	for {
		list, err := c.ListLogs(ctx, *webhook, client.ListLogsOptions{Limit: 200})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		logs := list.Logs
		if first && len(logs) > *lines {
			for _, l := range logs[*lines:] {
				seen[l.ID] = l.Status // older than asked for: not printed
			}
			logs = logs[:*lines]
		}
		first = false
		for i := len(logs) - 1; i >= 0; i-- { // oldest first
			l := logs[i]
			if seen[l.ID] == l.Status {
				continue
			}
			seen[l.ID] = l.Status
			if *api.json {
				if err := enc.Encode(l); err != nil {
					return err
				}
				continue
			}
			code, ms := "-", "-"
			if l.ResponseCode != nil {
				code = strconv.Itoa(*l.ResponseCode)
			}
			if l.ResponseTime != nil {
				ms = strconv.FormatInt(*l.ResponseTime, 10)
			}
			errText := l.ErrorType
			if errText == "" {
				errText = "-"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", l.Timestamp.Local().Format(time.DateTime), l.ID, l.Event, l.EventID, l.Status, code, ms, l.RetryCount, errText)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if !*follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*interval):
		}
	}
}
