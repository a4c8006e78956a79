package ratelimit

import "errors"

var (
	// ErrExceedsCapacity is wrapped by the error of Semaphore.Acquire and
	// Semaphore.Do when the request is larger than the semaphore's whole
	// capacity, so that it could never be granted: at the call, or when a
	// Resize makes the capacity smaller than a request that is waiting.
	ErrExceedsCapacity = errors.New("ratelimit: request exceeds the semaphore's capacity")

	// ErrExceedsBurst is wrapped by the error of Limiter.WaitN when n is
	// larger than the limiter's burst (and the limit is not Inf): the bucket
	// never holds that many tokens.
	ErrExceedsBurst = errors.New("ratelimit: request exceeds the limiter's burst")

	// ErrExceedsDeadline is wrapped by the error of Limiter.WaitN when the
	// tokens would come only after the context's deadline, or never (a
	// limit of 0). WaitN returns it at once, without waiting and without
	// taking tokens.
	ErrExceedsDeadline = errors.New("ratelimit: the wait would pass the context's deadline")

	// ErrTooManyKeys is wrapped by the error of Keyed.WaitN, and makes
	// Keyed.AllowN report false, when a new key arrives while the Keyed
	// limiter holds its maximum number of keys and none of them can be
	// forgotten safely.
	ErrTooManyKeys = errors.New("ratelimit: too many keys")
)

// ErrExceedsLimit is wrapped by the errors of an Adaptive limit: Do's when
// the limit is reached (and WithMaxWait's wait, if any, passed), and
// Acquire's when the weight asked is more than the limit.
var ErrExceedsLimit = errors.New("ratelimit: adaptive limit reached")
