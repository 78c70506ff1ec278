package catalog

import (
	"github.com/hookd/hookd/internal/hookd"
	"iter"
	"strings"
)

// Bounds on event type and category names.
const (
	MaxNameLen     = 100
	MaxCategoryLen = 50
)

// ValidName reports whether name can name an event type: two or three
// lower-case segments joined by dots ("order.created",
// "order.line_item.added"), each a letter followed by letters, digits or
// underscores, at most MaxNameLen characters in all.
func ValidName(name string) bool {
	if len(name) > MaxNameLen {
		return false
	}
	n := strings.Count(name, ".") + 1
	if n < 2 || n > 3 {
		return false
	}
	for seg := range strings.SplitSeq(name, ".") {
		if !validSegment(seg) {
			return false
		}
	}
	return true
}

// ValidCategory reports whether name can name a category: one lower-case
// segment ("sales", "customer_success") of at most MaxCategoryLen characters.
func ValidCategory(name string) bool {
	return len(name) <= MaxCategoryLen && validSegment(name)
}

// validSegment reports whether s matches [a-z][a-z0-9_]*.
func validSegment(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ValidPattern reports whether a subscription pattern is acceptable given
// the event names a tenant knows (built-in and its own): "*"; "x.*" when x
// is one or two name segments and some known name starts with "x."; or a
// known name.
func ValidPattern(pattern string, known iter.Seq[string]) bool {
	if pattern == hookd.AllEvents {
		return true
	}
	if prefix, ok := hookd.CategoryPrefix(pattern); ok {
		if !validPrefix(strings.TrimSuffix(prefix, ".")) {
			return false
		}
		for name := range known {
			if hookd.MatchesPattern(pattern, name) {
				return true
			}
		}
		return false
	}
	if !ValidName(pattern) {
		return false
	}
	for name := range known {
		if name == pattern {
			return true
		}
	}
	return false
}

// validPrefix reports whether p is one or two valid name segments.
func validPrefix(p string) bool {
	if strings.Count(p, ".") > 1 {
		return false
	}
	for seg := range strings.SplitSeq(p, ".") {
		if !validSegment(seg) {
			return false
		}
	}
	return true
}
