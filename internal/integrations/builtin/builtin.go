// Package builtin registers every integration hookd ships, in catalog
// order. Adding an integration is one package below internal/integrations
// and one line here.
package builtin

import (
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/integrations/discord"
	"github.com/hookd/hookd/internal/integrations/mailchimp"
	makecom "github.com/hookd/hookd/internal/integrations/make"
	"github.com/hookd/hookd/internal/integrations/slack"
	"github.com/hookd/hookd/internal/integrations/teams"
	"github.com/hookd/hookd/internal/integrations/zapier"
)

// Registry returns the registry of the built-in integrations, sending
// with deps.
func Registry(deps integrations.Deps) *integrations.Registry {
	r, err := integrations.NewRegistry(
		slack.New(deps),
		discord.New(deps),
		teams.New(deps),
		zapier.New(deps),
		makecom.New(deps),
		mailchimp.New(deps),
	)
	if err != nil { // the list above is fixed: a clash is a programming error
		panic(err)
	}
	return r
}
