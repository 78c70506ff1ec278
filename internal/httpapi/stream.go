package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/stream"
)

// newStreamer builds the event streamer, or nil when there is no broker.
func (s *Server) newStreamer(b stream.Broker, opts stream.Options) *stream.Streamer {
	if b == nil {
		return nil
	}
	if opts.Logger == nil {
		opts.Logger = s.log
	}
	return stream.NewStreamer(b, s.events, stream.NewMetrics(s.registry), opts)
}

// streamEvents serves GET /api/events/stream/ (docs/api.md §9). Bad query
// values answer 400 before anything streams. A Last-Event-ID that names
// no event of the caller's tenant (never published, pruned, or another
// tenant's) answers 404: replaying from a guess could skip events, so
// the client must decide to start live instead.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) {
	if s.streamer == nil {
		s.fail(w, r, errors.New("event streams are not configured: no broker"))
		return
	}
	p := principal(r)
	q := r.URL.Query()
	format, known := stream.ParseFormat(q.Get("format"))
	if !known {
		s.fail(w, r, badQuery("format", "must be json or sse"))
		return
	}
	patterns, err := s.streamPatterns(r.Context(), p.Tenant, q.Get("events"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req := stream.Request{Tenant: p.Tenant, Events: patterns, Format: format}
	field, id := "Last-Event-ID", strings.TrimSpace(r.Header.Get("Last-Event-ID"))
	if id == "" {
		field, id = "last_event_id", strings.TrimSpace(q.Get("last_event_id"))
	}
	if id != "" {
		if !strings.HasPrefix(id, "evt_") {
			s.fail(w, r, badQuery(field, "must be an event id (evt_…)"))
			return
		}
		ev, _, err := s.events.FindEvent(r.Context(), p.Owner(), id)
		if hookd.IsNotFound(err) {
			err = hookd.Errorf(hookd.ENotFound, "event %s not found: it was never published in this account or was pruned; reconnect without Last-Event-ID to start live", id)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		req.Resume, req.AfterSeq = true, ev.Seq
	}
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", format.ContentType())
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := s.streamer.Serve(r.Context(), w, req); err != nil {
		if errors.Is(err, stream.ErrClosed) {
			err = hookd.Errorf(hookd.EInternal, "the server is shutting down; reconnect shortly")
		}
		s.fail(w, r, err)
	}
}

// maxStreamPatterns bounds the event types one stream names.
const maxStreamPatterns = 100

// streamPatterns reads the events parameter: a comma-separated list of
// known event types (built-in or the tenant's own), category wildcards
// such as order.*, or *. Empty: every event.
func (s *Server) streamPatterns(ctx context.Context, tenant, param string) ([]string, error) {
	if strings.TrimSpace(param) == "" {
		return nil, nil
	}
	var patterns []string
	seen := map[string]bool{}
	for p := range strings.SplitSeq(param, ",") {
		if p = strings.TrimSpace(p); !seen[p] {
			seen[p] = true
			patterns = append(patterns, p)
		}
	}
	if len(patterns) > maxStreamPatterns {
		return nil, badQuery("events", fmt.Sprintf("must list at most %d event types", maxStreamPatterns))
	}
	all := slices.Index(patterns, "*")
	if all >= 0 {
		patterns = patterns[:all] // "*" covers whatever follows it
	}
	unknown, found, err := s.eventTypes.UnknownPattern(ctx, tenant, patterns)
	if err != nil {
		return nil, err
	}
	if found {
		return nil, badQuery("events", fmt.Sprintf("%q is not a known event type, a category wildcard such as order.*, or *", unknown))
	}
	if all >= 0 {
		return nil, nil
	}
	return patterns, nil
}
