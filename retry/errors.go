package retry

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Why retrying stopped before fn succeeded: the error of Do and DoValue
// matches one of these with errors.Is, or context.Canceled or
// context.DeadlineExceeded if ctx ended, and it also matches the last
// attempt's error. A permanent error is returned as it is, matching none of
// them.
var (
	// ErrAttempts: every attempt allowed by Attempts failed.
	ErrAttempts = errors.New("retry: attempts exhausted")
	// ErrMaxElapsed: the next attempt would have started after MaxElapsed.
	ErrMaxElapsed = errors.New("retry: max elapsed time reached")
	// ErrBudget: the retry budget (WithBudget) allowed no more retries.
	ErrBudget = errors.New("retry: retry budget exhausted")
)

// Permanent marks err as not worth retrying: Do stops at once and returns
// err itself, unwrapped, so that == and errors.Is work as if Permanent had
// not been called. Permanent(nil) is nil.
//
// Do also finds a Permanent wrapped deeper in an error, as in
// fmt.Errorf("read config: %w", retry.Permanent(err)). It stops then too,
// and returns the error whole so that its text survives; the mark stays in
// it, so a retry loop around this one stops as well.
//
// Another package's mark is not recognised, as that would mean importing
// it. For cenkalti/backoff's backoff.Permanent, one option does it: the
// error comes back as it is, with its mark, whose Error and Unwrap are the
// wrapped error's.
//
//	retry.RetryIf(func(err error) bool { return !errors.As(err, new(*backoff.PermanentError)) })
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// After marks err with a server's hint to retry no sooner than d from now,
// such as an HTTP Retry-After header (see RetryAfter) or gRPC's
// grpc-retry-pushback-ms. Do waits the larger of the hint and its backoff's
// delay. A hint is capped at MaxHint (1 minute unless set), and a hint that
// reaches past MaxElapsed makes Do wait until MaxElapsed and try once more
// rather than give up early (if the backoff's own delay does not reach past
// MaxElapsed too: a hint is no reason to try later than the backoff allows). After(d, nil) is nil; a negative d counts as 0.
// The hint does not make err retryable: a Permanent error or one rejected by
// RetryIf still stops Do.
//
// The mark is transparent: err's text, errors.Is and errors.As are
// unchanged.
func After(d time.Duration, err error) error {
	if err == nil {
		return nil
	}
	return &hintError{err: err, d: max(d, 0)}
}

type hintError struct {
	err error
	d   time.Duration
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// hint returns the hint carried by err, if any.
func hint(err error) (time.Duration, bool) {
	if h := find[*hintError](err); h != nil {
		return h.d, true
	}
	return 0, false
}

// permanent reports whether err is marked Permanent, and returns what Do
// should return for it.
func permanent(err error) (error, bool) {
	if p, ok := err.(*permanentError); ok {
		return p.err, true
	}
	if find[*permanentError](err) != nil {
		return err, true
	}
	return nil, false
}

// find is errors.As for one of this package's marks, without its
// allocation: it is asked about every failed attempt. It walks err's tree
// as errors.As does, and leaves to errors.As the errors with an As method.
func find[E error](err error) E {
	var zero E
	for err != nil {
		if e, ok := err.(E); ok {
			return e
		}
		switch x := err.(type) {
		case interface{ As(any) bool }:
			var e E
			if errors.As(err, &e) {
				return e
			}
			return zero
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, err := range x.Unwrap() {
				if e := find[E](err); any(e) != nil {
					return e
				}
			}
			return zero
		default:
			return zero
		}
	}
	return zero
}

// kept is how many attempt errors an Error keeps: the first and the latest
// ones, so that memory stays bounded however many attempts there are.
const kept = 8

// An Error is what Do and DoValue return when they stop retrying before fn
// succeeds and without a permanent error: attempts exhausted, MaxElapsed
// reached, retry budget exhausted, or ctx ended after at least one attempt
// failed.
//
// errors.Is(err, ErrAttempts) (or ErrMaxElapsed, ErrBudget,
// context.Canceled, context.DeadlineExceeded, or the cause of ctx) tells why
// it stopped; errors.Is and errors.As reach the last attempt's error as
// well; Errors lists the errors of the attempts.
//
// Unwrap returns the last attempt's error, except when ctx ended: then it
// returns ctx's error, so that a retry cut short by a cancellation is the
// echo of that cancellation, which a nursery or cancel scope drops, while
// errors.Is and errors.As still reach the last attempt's error through the
// Is and As methods.
//
// errors.Is sees through nested retries too: when the last attempt's error
// is itself an *Error, of a retry inside fn, err matches both calls'
// reasons. Reason is this call's own.
type Error struct {
	// Reason is why this call stopped retrying: ErrAttempts,
	// ErrMaxElapsed, ErrBudget, or ctx.Err().
	Reason error
	// Attempts is how many times fn was called.
	Attempts int
	// Err is the error of the last failed attempt (the latest to finish,
	// when attempts overlap under Hedge).
	Err error

	cause error // context.Cause(ctx) when ctx ended and it differs from ctx.Err()
	errs  []error
}

// Error says why retrying stopped, how many attempts were made, and what the
// last one returned.
func (e *Error) Error() string {
	var b strings.Builder
	if strings.HasPrefix(e.Reason.Error(), "retry: ") {
		b.WriteString(e.Reason.Error())
	} else {
		b.WriteString("retry: ")
		b.WriteString(e.Reason.Error())
		if e.cause != nil {
			b.WriteString(" (")
			b.WriteString(e.cause.Error())
			b.WriteString(")")
		}
	}
	b.WriteString(" after ")
	b.WriteString(strconv.Itoa(e.Attempts))
	if e.Attempts == 1 {
		b.WriteString(" attempt: ")
	} else {
		b.WriteString(" attempts: ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the last attempt's error.
func (e *Error) Unwrap() error {
	if e.ctxEnded() {
		return e.Reason
	}
	return e.Err
}

// Is reports whether target is why retrying stopped (ErrAttempts,
// ErrMaxElapsed, ErrBudget, or ctx's error or cause), or, when ctx ended,
// matches the last attempt's error, which Unwrap does not reach then.
func (e *Error) Is(target error) bool {
	if target == e.Reason || e.cause != nil && errors.Is(e.cause, target) {
		return true
	}
	return e.ctxEnded() && errors.Is(e.Err, target)
}

// As finds target in the last attempt's error when ctx ended, which Unwrap
// does not reach then.
func (e *Error) As(target any) bool {
	return e.ctxEnded() && errors.As(e.Err, target)
}

// ctxEnded reports whether retrying stopped because ctx ended.
func (e *Error) ctxEnded() bool {
	return e.Reason != ErrAttempts && e.Reason != ErrMaxElapsed && e.Reason != ErrBudget
}

// Errors returns the errors of the failed attempts in the order they
// finished. To bound memory it keeps at most 8: the first, and the latest 7.
// The last element is Err.
func (e *Error) Errors() []error { return append([]error(nil), e.errs...) }

// history collects the errors of the attempts of one call, boundedly.
type history struct {
	first error
	ring  [kept - 1]error
	n     int // errors added
}

func (h *history) add(err error) {
	if h.n == 0 {
		h.first = err
	} else {
		h.ring[(h.n-1)%len(h.ring)] = err
	}
	h.n++
}

func (h *history) last() error {
	if h.n <= 1 {
		return h.first
	}
	return h.ring[(h.n-2)%len(h.ring)]
}

func (h *history) list() []error {
	if h.n == 0 {
		return nil
	}
	out := make([]error, 0, min(h.n, kept))
	out = append(out, h.first)
	rest := h.n - 1
	from := 0
	if rest > len(h.ring) {
		from = rest - len(h.ring)
	}
	for i := from; i < rest; i++ {
		out = append(out, h.ring[i%len(h.ring)])
	}
	return out
}

func (h *history) error(reason, cause error, attempts int) *Error {
	return &Error{Attempts: attempts, Err: h.last(), Reason: reason, cause: cause, errs: h.list()}
}
