package broker

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// ParseURL parses a broker URL of the given scheme and returns it with the
// broker's host:port address (defaultPort when the URL names none). It
// refuses credentials in the URL (they come from the webhook's basic auth),
// a missing host and a fragment; each destination checks its own path and
// query.
func ParseURL(raw, scheme, defaultPort string) (*url.URL, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("invalid URL: %w", err)
	}
	if !strings.EqualFold(u.Scheme, scheme) {
		return nil, "", fmt.Errorf("URL scheme must be %s://", scheme)
	}
	if u.Opaque != "" {
		return nil, "", fmt.Errorf("URL must be %s://host[:port]/…", scheme)
	}
	if u.User != nil {
		return nil, "", errors.New("credentials go in the webhook's basic auth, not in the URL")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, "", errors.New("URL must not have a fragment")
	}
	host := u.Hostname()
	if host == "" {
		return nil, "", errors.New("URL must name the broker's host")
	}
	if !validHost(host) {
		return nil, "", errors.New("URL host must be a host name or an IP address")
	}
	port := u.Port()
	if port == "" {
		if strings.HasSuffix(u.Host, ":") {
			return nil, "", errors.New("URL port must be a number from 1 to 65535")
		}
		port = defaultPort
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, "", errors.New("URL port must be a number from 1 to 65535")
	}
	return u, net.JoinHostPort(host, port), nil
}

// CheckQuery refuses query parameters other than the allowed ones, and any
// given twice.
func CheckQuery(q url.Values, allowed ...string) error {
	for k, vs := range q {
		known := false
		for _, a := range allowed {
			known = known || k == a
		}
		if !known {
			return fmt.Errorf("unknown URL parameter %q (allowed: %s)", k, strings.Join(allowed, ", "))
		}
		if len(vs) > 1 {
			return fmt.Errorf("URL parameter %q given more than once", k)
		}
	}
	return nil
}

// validHost reports whether host is an IP address or a DNS name: labels
// of letters, digits, hyphens and underscores, separated by dots.
func validHost(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}
