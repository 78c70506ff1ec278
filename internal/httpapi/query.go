package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// pageParams reads limit (1-200, default 50) and offset (>= 0).
func pageParams(r *http.Request) (limit, offset int, err error) {
	limit, offset = 50, 0
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 || n > 200 {
			return 0, 0, &hookd.Error{Code: hookd.EBadRequest, Message: "invalid query parameter",
				Details: []hookd.FieldError{{Field: "limit", Message: "must be an integer 1-200"}}}
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 0 {
			return 0, 0, &hookd.Error{Code: hookd.EBadRequest, Message: "invalid query parameter",
				Details: []hookd.FieldError{{Field: "offset", Message: "must be an integer >= 0"}}}
		}
		offset = n
	}
	return limit, offset, nil
}

// parseTime reads a date (2024-01-15) or an RFC 3339 time. A date as an end
// bound means the end of that day.
func parseTime(v string, endOfDay bool) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		if endOfDay {
			t = t.Add(24*time.Hour - time.Millisecond)
		}
		return t, true
	}
	if t, err := time.Parse("2006-01-02T15:04:05", v); err == nil {
		return t, true
	}
	return time.Time{}, false
}

func parseDateParam(r *http.Request, name string, endOfDay bool) (*time.Time, []hookd.FieldError) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	t, ok := parseTime(v, endOfDay)
	if !ok {
		return nil, []hookd.FieldError{{Field: name, Message: "must be a date (2024-01-15) or an RFC 3339 time"}}
	}
	return &t, nil
}

// badQuery is a bad_request naming the query parameter at fault.
func badQuery(field, message string) error {
	return &hookd.Error{Code: hookd.EBadRequest, Message: "invalid query parameter",
		Details: []hookd.FieldError{{Field: field, Message: message}}}
}

// refuseControlText answers bad_request for a query parameter or path
// with NUL or another control character (docs/api.md §3), so no store
// sees one.
func (s *Server) refuseControlText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for name, values := range r.URL.Query() {
			for _, v := range append([]string{name}, values...) {
				if msg := hookd.CheckText(v); msg != "" {
					s.fail(w, r, badQuery(name, msg))
					return
				}
			}
		}
		if msg := hookd.CheckText(r.URL.Path); msg != "" {
			s.fail(w, r, &hookd.Error{Code: hookd.EBadRequest, Message: "invalid path: " + msg})
			return
		}
		next.ServeHTTP(w, r)
	})
}
