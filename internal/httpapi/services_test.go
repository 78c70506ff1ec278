package httpapi

import "github.com/hookd/hookd/internal/app"

// withServices returns d with internal/app's services built over deps,
// as cmd/hookd wires them.
func withServices(d Deps, deps app.Deps) Deps {
	svc := app.New(deps)
	d.Webhooks, d.EventTypes, d.Events = svc.Webhooks, svc.EventTypes, svc.Events
	d.Deliveries, d.Integrations, d.Readiness = svc.Deliveries, svc.Integrations, svc.Readiness
	return d
}
