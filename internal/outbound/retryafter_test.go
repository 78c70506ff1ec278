package outbound

import (
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"120", 2 * time.Minute},
		{" 30 ", 30 * time.Second},
		{"3600", time.Hour},
		{"3601", time.Hour},
		{"86400", time.Hour},
		{"99999999999999999999999", time.Hour},
		{"-5", 0},
		{"+5", 0},
		{"1.5", 0},
		{"soon", 0},
		{"Mon, 15 Jan 2024 10:02:00 GMT", 2 * time.Minute},
		{"Monday, 15-Jan-24 10:00:45 GMT", 45 * time.Second}, // RFC 850
		{"Mon Jan 15 10:00:10 2024", 10 * time.Second},       // ANSI C asctime
		{"Mon, 15 Jan 2024 09:59:00 GMT", 0},                 // in the past
		{"Mon, 15 Jan 2024 13:00:00 GMT", time.Hour},         // capped
		{"Mon, 32 Jan 2024 10:00:00 GMT", 0},
	}
	for _, tt := range tests {
		if got := ParseRetryAfter(tt.header, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestHonorsRetryAfter(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]bool{429: true, 502: true, 503: true, 504: true, 500: false, 501: false, 408: false, 301: false, 200: false} {
		if got := HonorsRetryAfter(status); got != want {
			t.Errorf("HonorsRetryAfter(%d) = %v, want %v", status, got, want)
		}
	}
}
