package integrations

import (
	"strings"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/template"
)

// Text renders the chat message an event becomes: the user's
// message_template, or the event type's default template when none is set
// or the user's renders to nothing. escape, when not nil, is applied to
// the payload values substituted (see template.Template.Render).
func Text(c *Config, ev *hookd.Event, escape func(string) string) string {
	data, err := template.DecodePayload(ev.Payload)
	if err != nil {
		data = nil
	}
	if c.MessageTemplate != "" {
		if t, err := template.Parse(c.MessageTemplate); err == nil {
			if out := t.Render(data, escape); strings.TrimSpace(out) != "" {
				return out
			}
		}
	}
	if t, err := template.Parse(template.Default(ev.Type)); err == nil {
		if out := t.Render(data, escape); strings.TrimSpace(out) != "" {
			return out
		}
	}
	return "New " + ev.Type + " event"
}
