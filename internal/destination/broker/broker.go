package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// Error types of a failed publish (docs/api.md §6 and §14).
const (
	ErrTypeConnection = hookd.ErrTypeConnection
	ErrTypeTimeout    = hookd.ErrTypeTimeout
	ErrTypeBroker     = hookd.ErrTypeBroker
)

// DefaultTimeout bounds one publish, connecting included, when
// Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// DialFunc opens a network connection. The destinations connect only
// through it, so a guarded dialer checks every broker host at connect time.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Options configures a broker Publisher.
type Options struct {
	// Dial connects to the broker; nil means a plain net.Dialer.
	Dial DialFunc
	// Timeout bounds one publish, connecting included; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Clock reads the time for Result.Duration; nil means time.Now.
	Clock func() time.Time
}

// WithDefaults returns o with its zero fields filled in.
func (o Options) WithDefaults() Options {
	if o.Dial == nil {
		var d net.Dialer
		o.Dial = d.DialContext
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return o
}

// Message is one event to publish to a broker.
type Message struct {
	// URL names the broker and where on it the message goes (docs/api.md §14).
	URL string
	// Username and Password come from the webhook's basic auth; both may be
	// empty.
	Username, Password string
	// EventID is the event's id; brokers that de-duplicate use it.
	EventID string
	// Headers are the §6 headers, sent as message headers.
	Headers map[string]string
	// Body is the §6 body.
	Body []byte
}

// Result is the outcome of one publish, shaped for a delivery attempt:
// there is never a status code; a failure has an error type, a message and
// whether retrying can help.
type Result struct {
	// Success is true when the broker acknowledged the message.
	Success bool
	// RequestHeaders are the message headers as sent, sensitive values
	// masked (the attempt's "request"); the body sent is Message.Body.
	RequestHeaders map[string]string
	// Response is the broker's answer, e.g. "confirmed delivery tag 7".
	Response string
	// Duration is the time the publish took, connecting included.
	Duration time.Duration
	// ErrorType is "" on success, else ErrTypeConnection, ErrTypeTimeout or
	// ErrTypeBroker.
	ErrorType string
	// ErrorMessage says what failed, with the broker's reason when it gave one.
	ErrorMessage string
	// Permanent says retrying the same message cannot help (e.g. it is larger
	// than the broker accepts).
	Permanent bool
	// Err is the underlying error, so a caller can look for its own error
	// types in the chain (e.g. a dialer's refusal of a blocked host).
	Err error
}

// Failure is an error with the error type it is reported under. Publishers
// return it from the broker-specific code; Classify keeps its type.
type Failure struct {
	Type      string
	Permanent bool
	Err       error
}

func (f *Failure) Error() string { return f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

// BrokerError reports a publish the broker refused, with its reason.
func BrokerError(format string, args ...any) error {
	return &Failure{Type: ErrTypeBroker, Err: fmt.Errorf(format, args...)}
}

// ConnectionError reports err as a connection_error whatever it wraps.
func ConnectionError(err error) error {
	return &Failure{Type: ErrTypeConnection, Err: err}
}

// Classify names the error type of a failed publish: a *Failure keeps its
// own; deadlines and network timeouts are timeout; everything else (refused,
// reset, DNS, a connection closed under the publish) is connection_error.
func Classify(err error) (errType string, permanent bool) {
	var f *Failure
	if errors.As(err, &f) {
		return f.Type, f.Permanent
	}
	if IsTimeout(err) {
		return ErrTypeTimeout, false
	}
	return ErrTypeConnection, false
}

// IsTimeout reports whether err is a deadline or a network timeout.
func IsTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Finish fills in r's outcome from err (nil is a success) and its duration
// from start, and returns it.
func Finish(r Result, err error, start time.Time, now func() time.Time) Result {
	r.Duration = now().Sub(start)
	if err == nil {
		r.Success = true
		return r
	}
	r.Success = false
	r.ErrorType, r.Permanent = Classify(err)
	r.ErrorMessage = err.Error()
	r.Err = err
	return r
}

// LowerHeaders returns the headers with lower-case names.
func LowerHeaders(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[strings.ToLower(k)] = v
	}
	return out
}

// PoolSize caps the connections a pooled client (Redis) keeps per broker
// address and credentials.
const PoolSize = 32

// LogHeaders copies headers for the log, with sensitive values masked as
// in every log (docs/api.md §4).
func LogHeaders(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if hookd.SensitiveHeader(k) {
			v = hookd.Masked
		}
		out[k] = v
	}
	return out
}

// Publisher is what every broker destination package offers: URL checks
// for its scheme, one publish with its outcome, and closing the
// connections it keeps.
type Publisher interface {
	Validate(rawURL string) error
	Publish(ctx context.Context, m Message) Result
	Close() error
}
