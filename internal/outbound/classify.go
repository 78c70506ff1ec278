package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/hookd/hookd/internal/hookd"
)

// Classify names the outcome of one delivery attempt with the error types
// of the contract (§6) and a message for the log. err is the error from
// sending the request or reading its response, resp the response when
// there is one; err wins when both are given. A 2xx response without an
// error is a success: ("", ""). Any other response is "http_<code>" with
// a message such as "HTTP 500 Internal Server Error"; the caller may
// append the start of the response body.
//
// Errors are checked in this order: blocked_target (a *BlockedError
// anywhere in the chain), dns_error (*net.DNSError, including lookup
// timeouts), timeout, tls_error, then connection_error for everything else
// (refused, reset, EOF, and context.Canceled, which the dispatcher may
// want to treat as an interrupted attempt instead).
func Classify(err error, resp *http.Response) (errType, message string) {
	if err == nil && resp != nil {
		return classifyStatus(resp.StatusCode, statusReason(resp))
	}
	return classifyErr(err)
}

// statusReason is the text of resp's status line after the code, if any.
func statusReason(resp *http.Response) string {
	reason, _ := strings.CutPrefix(resp.Status, strconv.Itoa(resp.StatusCode)+" ")
	return reason
}

// classifyStatus names an answer by its status code; reason is the
// status line's text after the code, if any.
func classifyStatus(code int, reason string) (errType, message string) {
	if code >= 200 && code <= 299 {
		return "", ""
	}
	return "http_" + strconv.Itoa(code), statusMessage(code, reason)
}

// classifyErr names a failure without an answer (err nil: none came).
func classifyErr(err error) (errType, message string) {
	if err == nil {
		return hookd.ErrTypeConnection, "no response"
	}
	message = errorMessage(err)
	var blocked *BlockedError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &blocked):
		return hookd.ErrTypeBlocked, blockedMessage(err, blocked)
	case errors.As(err, &dnsErr):
		return hookd.ErrTypeDNS, message
	case isTimeout(err):
		return hookd.ErrTypeTimeout, message
	case isTLS(err):
		return hookd.ErrTypeTLS, message
	default:
		return hookd.ErrTypeConnection, message
	}
}

// blockedMessage tells a user the target is not allowed without saying
// what its host name resolved to (Guard.Control logs that). A target
// written as an address is named with its kind, which tells nothing new.
func blockedMessage(err error, blocked *BlockedError) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return BlockedMessage(ue.URL, blocked)
	}
	return BlockedMessage("", blocked)
}

// BlockedMessage is what a user is told when the guard refused the
// connection to target (a URL): its address and kind when the URL names
// that address, else only that it is not allowed.
func BlockedMessage(target string, blocked *BlockedError) string {
	if u, perr := url.Parse(target); perr == nil {
		if a, aerr := netip.ParseAddr(u.Hostname()); aerr == nil && a.WithZone("") == blocked.Addr.WithZone("") {
			return fmt.Sprintf("target address %s is not allowed (%s)", u.Hostname(), blocked.Reason)
		}
	}
	return "the target is not allowed: its host is not a public internet address"
}

// statusMessage is "HTTP <code> <reason>" for an answer, with the
// standard text when the answer gave none.
func statusMessage(code int, reason string) string {
	c := strconv.Itoa(code)
	if reason == "" {
		reason = http.StatusText(code)
	}
	if reason != "" {
		return "HTTP " + c + " " + reason
	}
	return "HTTP " + c
}

// errorMessage drops the *url.Error wrapper's `Post "<url>":` prefix,
// which repeats what the log already shows.
func errorMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return err.Error()
}

// isTimeout reports a context deadline, a net.Error timeout (dial, read,
// http.Client.Timeout, TLS handshake timeout) or an expired I/O deadline.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isTLS reports a failed TLS handshake or certificate check. The typed
// errors cover the usual cases; crypto/tls and crypto/x509 still return
// some failures as plain errors (a peer's alert is "remote error: tls: …"),
// recognised by their "tls: " or "x509: " text, and net/http replaces the
// record error of an https request to a plain HTTP server with its own.
func isTLS(err error) bool {
	var (
		recordErr   tls.RecordHeaderError
		verifyErr   *tls.CertificateVerificationError
		alertErr    tls.AlertError
		echErr      *tls.ECHRejectionError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidErr  x509.CertificateInvalidError
		systemErr   x509.SystemRootsError
		constraint  x509.ConstraintViolationError
		insecureAlg x509.InsecureAlgorithmError
	)
	switch {
	case errors.As(err, &recordErr), errors.As(err, &verifyErr), errors.As(err, &alertErr),
		errors.As(err, &echErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr),
		errors.As(err, &invalidErr), errors.As(err, &systemErr), errors.As(err, &constraint),
		errors.As(err, &insecureAlg):
		return true
	}
	msg := errorMessage(err)
	return strings.Contains(msg, "tls: ") || strings.Contains(msg, "x509: ") ||
		strings.Contains(msg, "server gave HTTP response to HTTPS client")
}
