package redislimit

import (
	"errors"
	"fmt"
	"strings"
)

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

// A wrapError wraps a sentinel of package ratelimit with the words of this
// package's call before the sentinel's own: one prefix, "redislimit: ",
// and the sentinel's words, which errors.Is and a grep both find.
type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.err }

// wrapf returns an error wrapping err whose message is "redislimit: ", the
// formatted text, ": " and err's words without their package's prefix.
func wrapf(err error, format string, args ...any) error {
	words := err.Error()
	if i := strings.Index(words, ": "); i >= 0 && !strings.Contains(words[:i], " ") {
		words = words[i+2:]
	}
	return &wrapError{msg: "redislimit: " + fmt.Sprintf(format, args...) + ": " + words, err: err}
}
