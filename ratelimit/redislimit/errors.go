package redislimit

import "errors"

var (
	// ErrUnavailable is wrapped by the error of a call that needed Redis and
	// did not get an answer from it: it could not be reached, did not
	// answer in time, or answered with an error. The error wraps Redis's
	// own error too, so both errors.Is(err, ErrUnavailable) and the cause's
	// words survive. A Limiter returns it only under FailClosed (the
	// default); a Semaphore always does.
	ErrUnavailable = errors.New("redislimit: redis is unavailable")

	// ErrBadReply is wrapped by the error of a call to which Redis, or
	// something between it and the client, answered with a reply that
	// cannot be right: of the wrong shape, or with a value out of the range
	// the script can return. Such a reply is a failure, as an unavailable
	// Redis is: OnFailure hears of it and Stats counts it. But it does not
	// wrap ErrUnavailable, and FailOpen does not allow on it: a limit is
	// not switched off by whatever a broken or hostile server sends. A
	// Limiter under FailClosed or FailOpen returns it; under FailLocal its
	// local limiter answers.
	ErrBadReply = errors.New("redislimit: redis answered with a reply that cannot be right")

	// ErrLeaseLost is wrapped by the error of Lease.Renew and Lease.Release
	// when the lease had already expired (or Redis lost it, by a restart
	// without persistence), so that another holder may have had its slot;
	// and it is the cause of the context a Semaphore.Do passes its
	// function, cancelled when the lease is lost while the function runs.
	ErrLeaseLost = errors.New("redislimit: the lease was lost")
)
