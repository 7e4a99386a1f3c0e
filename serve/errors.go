package serve

import (
	"context"
	"errors"
	"net/http"

	"google.golang.org/grpc/codes"
)

// reason classifies a failed request: whose fault it was, and how HTTP and
// gRPC say so. The names are the failure metric's reason label.
type reason uint8

const (
	reasonInternal reason = iota
	reasonBadRequest
	reasonNotFound
	reasonUnavailable
	reasonQueueFull
	reasonCancelled
	reasonDeadline
	reasonTooLarge
	reasonUnauthorized
)

var reasons = [...]struct {
	name   string
	status int
	code   codes.Code
}{
	reasonInternal:     {"internal", http.StatusInternalServerError, codes.Internal},
	reasonBadRequest:   {"bad_request", http.StatusBadRequest, codes.InvalidArgument},
	reasonNotFound:     {"not_found", http.StatusNotFound, codes.NotFound},
	reasonUnavailable:  {"unavailable", http.StatusServiceUnavailable, codes.Unavailable},
	reasonQueueFull:    {"queue_full", http.StatusTooManyRequests, codes.ResourceExhausted},
	reasonCancelled:    {"cancelled", 499, codes.Canceled}, // 499: nginx's "client closed request"
	reasonDeadline:     {"deadline", http.StatusGatewayTimeout, codes.DeadlineExceeded},
	reasonTooLarge:     {"too_large", http.StatusRequestEntityTooLarge, codes.ResourceExhausted},
	reasonUnauthorized: {"unauthorized", http.StatusUnauthorized, codes.Unauthenticated},
}

func (r reason) String() string { return reasons[r].name }

// failure is an error with its reason.
type failure struct {
	reason reason
	err    error
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

func fail(r reason, err error) error { return &failure{r, err} }

// reasonOf classifies any error met while serving a request.
func reasonOf(err error) reason {
	var f *failure
	switch {
	case errors.As(err, &f):
		return f.reason
	case errors.Is(err, ErrQueueFull):
		return reasonQueueFull
	case errors.Is(err, context.DeadlineExceeded):
		return reasonDeadline
	case errors.Is(err, context.Canceled):
		return reasonCancelled
	case errors.Is(err, errUnknownModel):
		return reasonNotFound
	case errors.Is(err, errNotReady), errors.Is(err, errStopped):
		return reasonUnavailable
	}
	return reasonInternal
}
