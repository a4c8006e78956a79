// Package echo tells a real failure from the echo of a cancellation.
//
// When a nursery or a cancel scope cancels the work it owns, that work
// typically returns ctx.Err() or context.Cause(ctx), or an error wrapping
// one of them ("Get ...: context canceled"). Such an error says nothing new:
// it is the echo of the cancellation, and the owner drops it. Anything else
// is real and is kept.
//
// The test is one of identity, not of kind: an error is an echo of a context
// only if it is that context's Err or Cause value, or wraps nothing but
// them. A context.DeadlineExceeded from a context the work made for itself
// is real when the owner was cancelled (its Err is context.Canceled), and a
// timeout error that merely matches context.DeadlineExceeded through an Is
// method is never mistaken for one.
package echo

import (
	"context"
	"reflect"
	"unsafe"
)

// maxNodes bounds the walk of an error tree, so that an error whose Unwrap
// returns itself, or a tree of absurd size, ends the walk instead of the
// program.
const maxNodes = 1 << 12

// Of reports whether err, returned by work that ran under ctx, is only the
// echo of ctx's cancellation. It is false while ctx is not done.
//
// Of calls the Unwrap methods of err, which are user code: call it where a
// panic in them is recovered.
func Of(ctx context.Context, err error) bool {
	if err == nil {
		return false
	}
	select {
	case <-ctx.Done():
	default:
		return false
	}
	return Match(err, ctx.Err(), context.Cause(ctx))
}

// Match reports whether err carries nothing but ctxErr and cause: it is one
// of them, or wraps one of them, or combines only such errors.
func Match(err, ctxErr, cause error) bool {
	budget := maxNodes
	return match(err, ctxErr, cause, &budget)
}

func match(err, ctxErr, cause error, budget *int) bool {
	for err != nil {
		if *budget--; *budget < 0 {
			return false
		}
		if Same(err, ctxErr) || Same(err, cause) {
			return true
		}
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			some := false
			for _, e := range x.Unwrap() {
				if e == nil {
					continue
				}
				if !match(e, ctxErr, cause, budget) {
					return false
				}
				some = true
			}
			return some
		default:
			return false
		}
	}
	return false
}

// Same reports whether a and b are the same error value: equal, for a
// comparable type, and for any type the very same value passed around (the
// same interface word), so that an error of a slice or map type, which ==
// would panic on, is still recognised as itself.
func Same(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	ea, eb := (*eface)(unsafe.Pointer(&a)), (*eface)(unsafe.Pointer(&b))
	if ea.typ != eb.typ {
		return false
	}
	if ea.data == eb.data {
		return true
	}
	return reflect.TypeOf(a).Comparable() && equal(a, b)
}

// equal is a == b for values of the same comparable type, which may still
// panic if a field holds an interface whose value is not comparable.
func equal(a, b error) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = false
		}
	}()
	return a == b
}

// eface is the layout of an interface value: its dynamic type and a pointer
// to (or the word of) its value.
type eface struct {
	typ, data unsafe.Pointer
}

// Nodes appends to dst every error in err's tree (err itself, what it wraps,
// the parts of a combined error), depth first, at most limit of them.
//
// Nodes calls the Unwrap methods of err, which are user code.
func Nodes(dst []error, err error, limit int) []error {
	budget := limit
	return nodes(dst, err, &budget)
}

func nodes(dst []error, err error, budget *int) []error {
	for err != nil {
		if *budget--; *budget < 0 {
			return dst
		}
		dst = append(dst, err)
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				dst = nodes(dst, e, budget)
			}
			return dst
		default:
			return dst
		}
	}
	return dst
}

// Contains reports whether target is one of nodes, by Same.
func Contains(nodes []error, target error) bool {
	if target == nil {
		return false
	}
	for _, e := range nodes {
		if Same(e, target) {
			return true
		}
	}
	return false
}

// Rebase turns err, the echo of one cancellation (whose context reported
// fromErr and fromCause), into the echo of another, whose context reports
// toErr, keeping err's words. A scope or timeout whose own cancellation
// ended the work passes its echo on when its parent was cancelled too (the
// outer scope is the one to catch it); rebased, the echo is one the outer
// scope recognises.
func Rebase(err, fromErr, fromCause, toErr error) error {
	if Same(err, fromErr) || Same(err, fromCause) {
		return toErr
	}
	return &rebased{msg: words(err), err: toErr}
}

// words is err.Error(), or, if it panics, words saying so: a scope that
// passes an echo on must not turn the error it was given into a panic.
func words(err error) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = "(" + reflect.TypeOf(err).String() + " whose Error method panicked)"
		}
	}()
	return err.Error()
}

// rebased reads as the echo it replaces and unwraps to the outer context's
// error.
type rebased struct {
	msg string
	err error
}

func (r *rebased) Error() string { return r.msg }
func (r *rebased) Unwrap() error { return r.err }
