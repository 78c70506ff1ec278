package httpapi

import (
	"net/http"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// defaultStatsWindow is the stats period when none is given.
const defaultStatsWindow = 30 * 24 * time.Hour

func (s *Server) webhookStats(w http.ResponseWriter, r *http.Request) {
	id, err := webhookID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.now().UTC()
	start, d1 := parseDateParam(r, "start_date", false)
	end, d2 := parseDateParam(r, "end_date", true)
	details := append(d1, d2...)
	q := hookd.StatsQuery{GroupBy: r.URL.Query().Get("group_by"), End: now, Start: now.Add(-defaultStatsWindow)}
	if q.GroupBy == "" {
		q.GroupBy = "day"
	}
	switch q.GroupBy {
	case "hour", "day", "week", "month":
	default:
		details = append(details, hookd.FieldError{Field: "group_by", Message: "must be hour, day, week or month"})
	}
	if end != nil {
		q.End = *end
	}
	if start != nil {
		q.Start = *start
	} else if end != nil {
		q.Start = q.End.Add(-defaultStatsWindow)
	}
	if q.End.Before(q.Start) {
		details = append(details, hookd.FieldError{Field: "end_date", Message: "must not be before start_date"})
	}
	if len(details) > 0 {
		s.fail(w, r, s.webhookFirst(r, id, &hookd.Error{Code: hookd.EBadRequest, Message: "invalid query parameter", Details: details}))
		return
	}
	rep, err := s.deliveries.WebhookStats(r.Context(), principal(r).Owner(), id, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	byType := make([]map[string]any, 0, len(rep.EventsByType))
	for _, e := range rep.EventsByType {
		byType = append(byType, map[string]any{"event": e.Event, "count": e.Count,
			"successful": e.Successful, "failed": e.Failed, "success_rate": hookd.SuccessRate(e.Successful, e.Failed)})
	}
	series := make([]map[string]any, 0, len(rep.TimeSeries))
	for _, b := range rep.TimeSeries {
		series = append(series, map[string]any{"date": b.Label, "total_events": b.Total, "successful": b.Successful,
			"failed": b.Failed, "avg_response_time": int64(b.AvgResponseTime + 0.5)})
	}
	failed := rep.Failed
	breakdown := make([]map[string]any, 0, len(rep.ErrorBreakdown))
	for _, e := range rep.ErrorBreakdown {
		pct := 0.0
		if failed > 0 {
			pct = hookd.Round1(float64(e.Count) * 100 / float64(failed))
		}
		breakdown = append(breakdown, map[string]any{"error_type": e.ErrorType, "count": e.Count, "percentage": pct})
	}
	ok(w, http.StatusOK, map[string]any{
		"webhook_id": id,
		"period":     map[string]string{"start_date": periodLabel(r, "start_date", q.Start), "end_date": periodLabel(r, "end_date", q.End)},
		"group_by":   q.GroupBy,
		"summary": map[string]any{
			"total_events": rep.TotalEvents, "successful_deliveries": rep.Successful, "failed_deliveries": rep.Failed,
			"success_rate": hookd.SuccessRate(rep.Successful, rep.Failed), "avg_response_time": int64(rep.AvgResponseTime + 0.5),
			"total_retries": rep.TotalRetries,
		},
		"events_by_type":  byType,
		"time_series":     series,
		"error_breakdown": breakdown,
	}, "")
}

// periodLabel echoes a period bound as the caller wrote it: a date stays a
// date.
func periodLabel(r *http.Request, name string, t time.Time) string {
	v := r.URL.Query().Get(name)
	if v == "" || len(v) == len(time.DateOnly) {
		return t.Format(time.DateOnly)
	}
	return apiTime(t)
}
