package asynciter

import (
	"fmt"
	"iter"
)

// The operators in this file are plain adapters: they start no goroutine,
// run everything in the loop's goroutine, and stop their input by returning
// false from its yield as soon as their own loop stops.

// FromSeq turns a sequence that cannot fail into a stream, an
// iter.Seq2[T, error] whose errors are all nil, so that it can be given to
// the operators that take streams (MapStream, Batch, Merge, ...).
// It panics if seq is nil.
func FromSeq[T any](seq iter.Seq[T]) iter.Seq2[T, error] {
	if seq == nil {
		panic("asynciter: FromSeq called with a nil sequence")
	}
	return func(yield func(T, error) bool) {
		for v := range seq {
			if !yield(v, nil) {
				return
			}
		}
	}
}

// Filter returns the values of in for which keep reports true. An error of
// in is passed on as the last pair. It panics if in or keep is nil.
func Filter[T any](in iter.Seq2[T, error], keep func(T) bool) iter.Seq2[T, error] {
	if in == nil {
		panic("asynciter: Filter called with a nil input sequence")
	}
	if keep == nil {
		panic("asynciter: Filter called with a nil keep function")
	}
	return func(yield func(T, error) bool) {
		for v, err := range in {
			if err != nil {
				yield(v, err)
				return
			}
			if keep(v) && !yield(v, nil) {
				return
			}
		}
	}
}

// FlatMap returns, for each value of in, the values of the stream fn makes
// of it, one stream after the other. The first error, of in or of one of
// the streams, is the last pair. Stopping the loop stops the stream being
// read and in. FlatMap panics if in or fn is nil, and when fn returns a nil
// stream.
func FlatMap[T, U any](in iter.Seq2[T, error], fn func(T) iter.Seq2[U, error]) iter.Seq2[U, error] {
	if in == nil {
		panic("asynciter: FlatMap called with a nil input sequence")
	}
	if fn == nil {
		panic("asynciter: FlatMap called with a nil function")
	}
	return func(yield func(U, error) bool) {
		for v, err := range in {
			if err != nil {
				var zero U
				yield(zero, err)
				return
			}
			inner := fn(v)
			if inner == nil {
				panic("asynciter: FlatMap's function returned a nil stream")
			}
			for u, err := range inner {
				if err != nil {
					yield(u, err)
					return
				}
				if !yield(u, nil) {
					return
				}
			}
		}
	}
}

// Take returns the first n values of in, then stops in. An error of in
// within them is passed on as the last pair. Take(in, 0) never ranges over
// in. It panics if in is nil or n < 0.
func Take[T any](in iter.Seq2[T, error], n int) iter.Seq2[T, error] {
	if in == nil {
		panic("asynciter: Take called with a nil input sequence")
	}
	if n < 0 {
		panic(fmt.Sprintf("asynciter: Take(%d): the count must not be negative", n))
	}
	return func(yield func(T, error) bool) {
		if n == 0 {
			return
		}
		taken := 0
		for v, err := range in {
			if err != nil {
				yield(v, err)
				return
			}
			taken++
			if !yield(v, nil) || taken == n {
				return
			}
		}
	}
}

// Collect ranges over in and returns its values in a slice, with the error
// that ended it, if any: the values yielded before the error come with it.
// It panics if in is nil.
func Collect[T any](in iter.Seq2[T, error]) ([]T, error) {
	if in == nil {
		panic("asynciter: Collect called with a nil input sequence")
	}
	var out []T
	for v, err := range in {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Reduce folds the values of in into an accumulator, starting from init:
// acc = fn(acc, v) for each value. If in ends with an error, Reduce returns
// the accumulator so far and the error. It panics if in or fn is nil.
func Reduce[T, A any](in iter.Seq2[T, error], init A, fn func(acc A, v T) A) (A, error) {
	if in == nil {
		panic("asynciter: Reduce called with a nil input sequence")
	}
	if fn == nil {
		panic("asynciter: Reduce called with a nil function")
	}
	acc := init
	for v, err := range in {
		if err != nil {
			return acc, err
		}
		acc = fn(acc, v)
	}
	return acc, nil
}
