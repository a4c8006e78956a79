package ratelimit

import (
	"errors"
	"fmt"
)

var (
	// ErrExceedsCapacity is wrapped by the error of Semaphore.Acquire and
	// Semaphore.Do when the request is larger than the semaphore's whole
	// capacity, so that it could never be granted: at the call, or when a
	// Resize makes the capacity smaller than a request that is waiting.
	ErrExceedsCapacity = errors.New("ratelimit: request exceeds the semaphore's capacity")

	// ErrExceedsBurst is wrapped by the error of Limiter.WaitN when n is
	// larger than the limiter's burst (and the limit is not Inf): the bucket
	// never holds that many tokens. Its words are golang.org/x/time/rate's.
	ErrExceedsBurst = errors.New("ratelimit: exceeds limiter's burst")

	// ErrExceedsDeadline is wrapped by the error of Limiter.WaitN when the
	// tokens would come only after the context's deadline, or never (a
	// limit of 0 and too few tokens). WaitN returns it at once, without
	// waiting and without taking tokens. Its words are
	// golang.org/x/time/rate's, "would exceed context deadline", which the
	// error of a wait past the deadline keeps; the error of a wait that
	// would never end says so instead.
	ErrExceedsDeadline = errors.New("ratelimit: would exceed context deadline")

	// ErrTooManyKeys is wrapped by the error of Keyed.WaitN, and makes
	// Keyed.AllowN report false, when a new key arrives while the Keyed
	// limiter holds its maximum number of keys and none of them can be
	// forgotten (see Keyed).
	ErrTooManyKeys = errors.New("ratelimit: too many keys")
)

// An error of this package that wraps one of its sentinels. Its message
// carries the package's name once, and the sentinel's words.
type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.err }

// errorf returns an error wrapping err whose message is "ratelimit: "
// followed by the formatted text.
func errorf(err error, format string, args ...any) error {
	return &wrapError{msg: "ratelimit: " + fmt.Sprintf(format, args...), err: err}
}

// ErrExceedsLimit is wrapped by the errors of an Adaptive limit: Do's when
// the limit is reached (and WithMaxWait's wait, if any, passed), and
// Acquire's when the weight asked is more than the limit.
var ErrExceedsLimit = errors.New("ratelimit: adaptive limit reached")
