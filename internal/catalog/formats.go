package catalog

// The format checks of the fast path (fastpath.go). Each accepts only
// canonical, clearly valid values: a subset of what the jsonschema
// library's own check of that format accepts, so that the fast path never
// calls valid what the library would not.

import (
	"net/url"
	"strings"
)

// isDateTime accepts YYYY-MM-DDTHH:MM:SS(.fraction)?(Z|±HH:MM) with real
// calendar dates and seconds up to 59: a subset of the library's RFC 3339
// date-time.
func isDateTime(s string) bool {
	if len(s) < 20 || s[10] != 'T' || !isDate(s[:10]) {
		return false
	}
	t := s[11:]
	if !isClock(t[:8]) {
		return false
	}
	t = t[8:]
	if rest, ok := strings.CutPrefix(t, "."); ok {
		n := 0
		for n < len(rest) && isDigit(rest[n]) {
			n++
		}
		if n == 0 {
			return false
		}
		t = rest[n:]
	}
	if t == "Z" {
		return true
	}
	return len(t) == 6 && (t[0] == '+' || t[0] == '-') && t[3] == ':' &&
		twoDigits(t[1:3], 23) && twoDigits(t[4:6], 59)
}

// isClock accepts HH:MM:SS with seconds up to 59.
func isClock(s string) bool {
	return len(s) == 8 && s[2] == ':' && s[5] == ':' &&
		twoDigits(s[0:2], 23) && twoDigits(s[3:5], 59) && twoDigits(s[6:8], 59)
}

// isDate accepts YYYY-MM-DD naming a real day, as time.Parse does.
func isDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9} {
		if !isDigit(s[i]) {
			return false
		}
	}
	year := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	month := int(s[5]-'0')*10 + int(s[6]-'0')
	day := int(s[8]-'0')*10 + int(s[9]-'0')
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month-1]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return day <= days
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// twoDigits accepts two decimal digits of a value up to max.
func twoDigits(s string, max int) bool {
	return len(s) == 2 && isDigit(s[0]) && isDigit(s[1]) && int(s[0]-'0')*10+int(s[1]-'0') <= max
}

// isEmail accepts local@domain.tld where the local part is dot-separated
// runs of letters, digits and _%+- and the domain two or more labels of
// letters, digits and inner hyphens: a subset of the library's check.
func isEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || len(local) == 0 || len(local) > 64 || len(domain) > 253 {
		return false
	}
	for _, part := range strings.Split(local, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			if c := part[i]; !isAlnum(c) && !strings.ContainsRune("_%+-", rune(c)) {
				return false
			}
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, label := range labels {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlnum(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// isURI accepts printable-ASCII URLs that net/url parses with a scheme
// and whose host is not an IPv6 literal: a subset of the library's check.
func isURI(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && !strings.Contains(u.Hostname(), ":")
}

// isUUID accepts 8-4-4-4-12 hex digits, exactly the library's check.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isDigit(c) && !('a' <= c && c <= 'f') && !('A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
