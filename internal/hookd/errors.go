// Package hookd holds hookd's domain: webhooks, events, deliveries, the
// error type every layer returns, and the interfaces that storage and
// transport implement. It imports only the standard library.
package hookd

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Each maps to exactly one HTTP status in internal/httpapi.
const (
	EBadRequest       = "bad_request"
	EUnauthorized     = "unauthorized"
	EForbidden        = "forbidden"
	ENotFound         = "not_found"
	EMethodNotAllowed = "method_not_allowed"
	EConflict         = "conflict"
	EPayloadTooLarge  = "payload_too_large"
	EValidation       = "validation_error"
	ERateLimited      = "rate_limited"
	EInternal         = "internal_error"
	// EUnavailable: the database cannot be reached or written right now
	// (restarting, connection lost, disk full, locked); retrying later
	// can pass. Stores translate their driver's errors into it.
	EUnavailable = "unavailable"
)

// UnavailableRetryAfter is how long clients are told to wait after an
// EUnavailable.
const UnavailableRetryAfter = 5 * time.Second

// FieldError names one bad field by its JSON path (for example
// "retry_config.max_retries" or "payload.amount").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type that crosses package boundaries. Its Message
// is safe to show to API clients; anything else becomes internal_error.
type Error struct {
	Code       string
	Message    string
	Details    []FieldError
	RetryAfter time.Duration // for ERateLimited and EUnavailable
	// Err is the cause, for the server log only (an EUnavailable's
	// driver error); never answered.
	Err error
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Unavailable returns the EUnavailable error for a driver error that says
// the database cannot be reached or written.
func Unavailable(cause error) *Error {
	return &Error{Code: EUnavailable, Message: "the database is unavailable; try again shortly",
		RetryAfter: UnavailableRetryAfter, Err: cause}
}

func (e *Error) Error() string {
	if len(e.Details) == 0 {
		return fmt.Sprintf("hookd error: code=%s message=%s", e.Code, e.Message)
	}
	return fmt.Sprintf("hookd error: code=%s message=%s details=%v", e.Code, e.Message, e.Details)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a validation_error listing every bad field.
func Invalid(details ...FieldError) *Error {
	return &Error{Code: EValidation, Message: "request validation failed", Details: details}
}

// ErrorCode returns the code of err, or EInternal when err is not an *Error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EInternal
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// IsNotFound reports whether err carries ENotFound.
func IsNotFound(err error) bool { return ErrorCode(err) == ENotFound }
