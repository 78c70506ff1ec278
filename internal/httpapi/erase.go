package httpapi

import (
	"fmt"
	"net/http"

	"github.com/hookd/hookd/internal/hookd"
)

// eraseEvents erases the payloads of the tenant's matching events
// (docs/api.md §13).
func (s *Server) eraseEvents(w http.ResponseWriter, r *http.Request) {
	var in hookd.EraseInput
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := s.events.EraseEvents(r.Context(), principal(r).Tenant, in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{"erased": n}, fmt.Sprintf("%d events erased", n))
}

// eraseEvent erases the payload of one of the tenant's events.
func (s *Server) eraseEvent(w http.ResponseWriter, r *http.Request) {
	n, err := s.events.EraseEvent(r.Context(), principal(r).Tenant, r.PathValue("event_id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{"erased": n}, "Event erased")
}
