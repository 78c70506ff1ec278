package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/auth"
)

// token prints an HS256 JWT for the configured secret.
func token(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sub := fs.String("sub", "", "user the token is for (required)")
	tenant := fs.String("tenant", "default", "tenant (account) of the user")
	scope := fs.String("scope", "", `space-separated scopes, e.g. "events:publish events:admin"; "readonly" allows reading only`)
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	secret := fs.String("jwt-secret", getenv("HOOKD_JWT_SECRET"), "HS256 secret ($HOOKD_JWT_SECRET)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *sub == "" {
		return errors.New("token: --sub is required")
	}
	if *secret == "" {
		return errors.New("token: set HOOKD_JWT_SECRET or --jwt-secret")
	}
	if *ttl <= 0 {
		return errors.New("token: --ttl must be above zero")
	}
	p := auth.Principal{Tenant: *tenant, User: *sub, Scopes: strings.Fields(*scope)}
	tok, err := auth.Issue([]byte(*secret), p, *ttl, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
