package vapi

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrorType is the vAPI standard error type carried in error_type.
type ErrorType string

// The standard error types wcpd answers with.
const (
	ErrorGeneric               ErrorType = "ERROR"
	ErrorAlreadyExists         ErrorType = "ALREADY_EXISTS"
	ErrorAlreadyInDesiredState ErrorType = "ALREADY_IN_DESIRED_STATE"
	ErrorConcurrentChange      ErrorType = "CONCURRENT_CHANGE"
	ErrorInternalServerError   ErrorType = "INTERNAL_SERVER_ERROR"
	ErrorInvalidArgument       ErrorType = "INVALID_ARGUMENT"
	ErrorInvalidRequest        ErrorType = "INVALID_REQUEST"
	ErrorNotAllowedInState     ErrorType = "NOT_ALLOWED_IN_CURRENT_STATE"
	ErrorNotFound              ErrorType = "NOT_FOUND"
	ErrorOperationNotFound     ErrorType = "OPERATION_NOT_FOUND"
	ErrorResourceBusy          ErrorType = "RESOURCE_BUSY"
	ErrorResourceInUse         ErrorType = "RESOURCE_IN_USE"
	ErrorServiceUnavailable    ErrorType = "SERVICE_UNAVAILABLE"
	ErrorTimedOut              ErrorType = "TIMED_OUT"
	ErrorUnableToAllocate      ErrorType = "UNABLE_TO_ALLOCATE_RESOURCE"
	ErrorUnauthenticated       ErrorType = "UNAUTHENTICATED"
	ErrorUnauthorized          ErrorType = "UNAUTHORIZED"
	ErrorUnsupported           ErrorType = "UNSUPPORTED"
	ErrorFeatureInUse          ErrorType = "FEATURE_IN_USE"
	ErrorResourceInaccessible  ErrorType = "RESOURCE_INACCESSIBLE"
	ErrorUnexpectedInput       ErrorType = "UNEXPECTED_INPUT"
	ErrorInvalidElementConfig  ErrorType = "INVALID_ELEMENT_CONFIGURATION"
	ErrorInvalidElementType    ErrorType = "INVALID_ELEMENT_TYPE"
	ErrorCanceled              ErrorType = "CANCELED"
	ErrorUnverifiedPeer        ErrorType = "UNVERIFIED_PEER"
)

// HTTPStatus is the status vCenter's /api answers for t: the per-operation table of the vCenter
// OpenAPI document, falling back to the vAPI runtimes' generic mapping.
func (t ErrorType) HTTPStatus() int {
	switch t {
	case ErrorUnauthenticated:
		return http.StatusUnauthorized
	case ErrorUnauthorized:
		return http.StatusForbidden
	case ErrorNotFound, ErrorOperationNotFound:
		return http.StatusNotFound
	case ErrorConcurrentChange:
		return http.StatusConflict
	case ErrorGeneric, ErrorInternalServerError, ErrorUnableToAllocate:
		return http.StatusInternalServerError
	case ErrorServiceUnavailable:
		return http.StatusServiceUnavailable
	case ErrorTimedOut:
		return http.StatusGatewayTimeout
	default:
		return http.StatusBadRequest
	}
}

// legacyName is the error's structure name in the old /rest protocol.
func (t ErrorType) legacyName() string {
	return "com.vmware.vapi.std.errors." + toLowerSnake(string(t))
}

func toLowerSnake(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Message is a localizable message of a vAPI error.
type Message struct {
	ID             string   `json:"id"`
	DefaultMessage string   `json:"default_message"`
	Args           []string `json:"args"`
}

// Error is the one error type every operation answers with. Service code returns it (or a wrapped
// one); anything else becomes INTERNAL_SERVER_ERROR without leaking its text.
type Error struct {
	Type     ErrorType `json:"error_type"`
	Messages []Message `json:"messages"`
	Data     any       `json:"data,omitempty"`
	// Status overrides the status derived from Type (used for 405).
	Status int `json:"-"`
}

func (e *Error) Error() string {
	if len(e.Messages) == 0 {
		return string(e.Type)
	}
	return string(e.Type) + ": " + e.Messages[0].DefaultMessage
}

// HTTPStatus is the status the error is answered with.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	return e.Type.HTTPStatus()
}

// NewError builds an error with one message. id is a stable message id (wcpd.<area>.<what>); args are
// the values the message names, in order.
func NewError(t ErrorType, id, defaultMessage string, args ...string) *Error {
	if args == nil {
		args = []string{}
	}
	return &Error{Type: t, Messages: []Message{{ID: id, DefaultMessage: defaultMessage, Args: args}}}
}

// Errorf builds an error whose message is formatted from args, which are also listed as its args.
func Errorf(t ErrorType, id, format string, args ...any) *Error {
	strs := make([]string, len(args))
	for i, a := range args {
		strs[i] = fmt.Sprint(a)
	}
	return NewError(t, id, fmt.Sprintf(format, args...), strs...)
}

// NotFound says that the object of kind with id does not exist.
func NotFound(kind, id string) *Error {
	return NewError(ErrorNotFound, "wcpd.not_found", fmt.Sprintf("%s %q was not found.", kind, id), kind, id)
}

// InvalidArgument says that field (a path such as spec.storage_specs[1].policy) has an unusable value.
func InvalidArgument(field string, value any, reason string) *Error {
	v := fmt.Sprint(value)
	return NewError(ErrorInvalidArgument, "wcpd.invalid_argument",
		fmt.Sprintf("Invalid value %q for %s: %s.", v, field, reason), field, v, reason)
}

// FieldErrors collects validation failures so one answer can name every bad field.
type FieldErrors struct{ msgs []Message }

// Add records that field has value and why that is wrong.
func (f *FieldErrors) Add(field string, value any, reason string) {
	f.msgs = append(f.msgs, InvalidArgument(field, value, reason).Messages[0])
}

// Missing records that a required field was not given.
func (f *FieldErrors) Missing(field string) {
	f.msgs = append(f.msgs, Message{ID: "wcpd.invalid_argument.missing",
		DefaultMessage: fmt.Sprintf("Required field %s is missing.", field), Args: []string{field}})
}

// Len is the number of failures recorded.
func (f *FieldErrors) Len() int { return len(f.msgs) }

// Err returns nil when nothing was recorded, else one INVALID_ARGUMENT error carrying every message.
func (f *FieldErrors) Err() error {
	if len(f.msgs) == 0 {
		return nil
	}
	return &Error{Type: ErrorInvalidArgument, Messages: append([]Message(nil), f.msgs...)}
}

// AsError converts any error into the vAPI error to answer with. Errors that are not *Error are
// internal failures: their text is not shown to the client.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return NewError(ErrorInternalServerError, "wcpd.internal", "An internal error occurred; see the wcpd log for details.")
}
