package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/hookd/hookd/internal/hookd"
)

// maxBodyBytes caps every API request body (docs/api.md §3).
const maxBodyBytes = 1 << 20

// statusOf is the one table mapping error codes to HTTP statuses.
var statusOf = map[string]int{
	hookd.EBadRequest:       http.StatusBadRequest,
	hookd.EUnauthorized:     http.StatusUnauthorized,
	hookd.EForbidden:        http.StatusForbidden,
	hookd.ENotFound:         http.StatusNotFound,
	hookd.EMethodNotAllowed: http.StatusMethodNotAllowed,
	hookd.EConflict:         http.StatusConflict,
	hookd.EPayloadTooLarge:  http.StatusRequestEntityTooLarge,
	hookd.EValidation:       http.StatusUnprocessableEntity,
	hookd.ERateLimited:      http.StatusTooManyRequests,
	hookd.EInternal:         http.StatusInternalServerError,
	hookd.EUnavailable:      http.StatusServiceUnavailable,
}

type envelope struct {
	Success bool       `json:"success"`
	Data    any        `json:"data,omitempty"`
	Message string     `json:"message,omitempty"`
	Error   *errorBody `json:"error,omitempty"`
}

type errorBody struct {
	Code    string             `json:"code"`
	Message string             `json:"message"`
	Details []hookd.FieldError `json:"details,omitempty"`
}

// writeJSON encodes v with the given status. It is the only place that
// writes a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"success":false,"error":{"code":"internal_error","message":"internal error"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// ok answers 200 (or the given status) with the success envelope.
func ok(w http.ResponseWriter, status int, data any, message string) {
	writeJSON(w, status, envelope{Success: true, Data: data, Message: message})
}

// fail answers err in the error envelope. Errors that are not *hookd.Error
// are logged and answered as internal_error without their text.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *hookd.Error
	if !errors.As(err, &e) {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = &hookd.Error{Code: hookd.EInternal, Message: "internal error"}
	}
	status, known := statusOf[e.Code]
	if !known {
		status = http.StatusInternalServerError
	}
	switch e.Code {
	case hookd.EUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="hookd"`)
	case hookd.ERateLimited, hookd.EUnavailable:
		if e.Code == hookd.EUnavailable {
			s.log.Warn("request failed: database unavailable", "method", r.Method, "path", r.URL.Path, "err", e.Err)
		}
		secs := int(e.RetryAfter.Round(time.Second) / time.Second)
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	writeJSON(w, status, envelope{Error: &errorBody{Code: e.Code, Message: e.Message, Details: e.Details}})
}

// decode reads a JSON object body into dst, refusing unknown fields, bodies
// over maxBodyBytes and trailing data.
func decode(r *http.Request, dst any) error {
	if r.Body == nil {
		return hookd.Errorf(hookd.EBadRequest, "request body is required")
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeBytes(body, dst)
}

// decodePublish is decode for the publish endpoints' bodies, which carry
// every event and so are most of what the API decodes: goccy/go-json
// decodes them in about a quarter of encoding/json's time
// (BenchmarkDecodePublishBatch, 500 events of ~650 bytes read and decoded:
// 1.1 against 4.0 ms, 0.76 against 1.77 MB allocated).
// A body it refuses is decoded again with encoding/json into a fresh
// value, so every error reads as every other endpoint's;
// FuzzDecodePublish holds the two to the same verdict and result.
func decodePublish[T any](r *http.Request, dst *T) error {
	if r.Body == nil {
		return hookd.Errorf(hookd.EBadRequest, "request body is required")
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if decodeFast(body, dst) == nil {
		return nil
	}
	var zero T
	*dst = zero
	return decodeBytes(body, dst)
}

// decodeFast decodes exactly one JSON value of body into dst with
// decodeBytes' rules (unknown fields refused, numbers kept exact,
// nothing after the value) using goccy/go-json.
func decodeFast(body []byte, dst any) error {
	dec := gojson.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	if len(bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n")) != 0 {
		return errors.New("data after the value")
	}
	return nil
}

// decodeOptional is decode for requests whose body may be left out.
func decodeOptional(r *http.Request, dst any) error {
	if r.Body == nil || r.ContentLength == 0 {
		return nil
	}
	body, err := readBody(r)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return err
	}
	return decodeBytes(body, dst)
}

// decodeBytes is decode for a body already read.
func decodeBytes(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return hookd.Errorf(hookd.EBadRequest, "request body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return hookd.Errorf(hookd.EBadRequest, "malformed JSON: unexpected data after the object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return hookd.Errorf(hookd.EBadRequest, "malformed JSON: unexpected data after the object")
	}
	return nil
}

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return hookd.Errorf(hookd.EBadRequest, "malformed JSON at byte %d: %v", syntax.Offset, syntax)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return hookd.Errorf(hookd.EBadRequest, "malformed JSON: unexpected end of input")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return hookd.Errorf(hookd.EBadRequest, "request body must be a JSON object")
		}
		return hookd.Invalid(hookd.FieldError{Field: field, Message: "must be " + jsonKind(typ.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return hookd.Invalid(hookd.FieldError{Field: name, Message: "unknown field"})
	default:
		return hookd.Errorf(hookd.EBadRequest, "malformed JSON: %v", err)
	}
}

// jsonKind names a Go kind the way a JSON user thinks of it.
func jsonKind(kind string) string {
	switch {
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "a boolean"
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "an integer"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "slice" || kind == "array":
		return "an array"
	case kind == "map" || kind == "struct" || kind == "ptr":
		return "an object"
	}
	return fmt.Sprintf("of type %s", kind)
}

// readBody reads a request body under the size cap.
func readBody(r *http.Request) ([]byte, error) {
	var b []byte
	var err error
	if n := r.ContentLength; n > 0 && n <= maxBodyBytes {
		// One buffer of the announced length, where io.ReadAll would
		// grow one from 512 bytes, copying a batch's body a dozen times.
		buf := bytes.NewBuffer(make([]byte, 0, n+bytes.MinRead))
		_, err = buf.ReadFrom(r.Body)
		b = buf.Bytes()
	} else {
		b, err = io.ReadAll(r.Body)
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, hookd.Errorf(hookd.EPayloadTooLarge, "request body exceeds %d bytes", maxBodyBytes)
		}
		return nil, hookd.Errorf(hookd.EBadRequest, "cannot read request body")
	}
	return b, nil
}
