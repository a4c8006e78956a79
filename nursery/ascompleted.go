package nursery

import (
	"context"
	"errors"
	"iter"
)

// errStopped is the cause with which AsCompleted cancels the functions still
// running when the loop over it stops early.
var errStopped = errors.New("nursery: the loop over AsCompleted stopped early")

// AsCompleted runs every function in fns concurrently and yields each one's
// index and Result as soon as it finishes, in the order they finish, like
// asyncio.as_completed. It yields exactly once per function; a failure does
// not cancel the others.
//
// Breaking out of the loop cancels the functions still running, and the range
// statement does not finish until they have returned: nothing outlives the
// loop. If ctx is cancelled, the functions still running see it, and their
// results (typically ctx's error) are still yielded. If ctx is already done
// when the loop starts, no function is called and every index is yielded with
// ctx.Err(). A panic in a function, or in the loop body, is re-raised in the
// goroutine of the loop once every function has returned. A function that
// calls runtime.Goexit ends the loop: its index is yielded last, with an
// error wrapping ErrGoexit.
//
// Each range over the returned sequence runs the functions again.
func AsCompleted[T any](ctx context.Context, fns ...func(ctx context.Context) (T, error)) iter.Seq2[int, Result[T]] {
	checkArgs("AsCompleted", ctx, fns)
	return func(yield func(int, Result[T]) bool) {
		if len(fns) == 0 {
			return
		}
		if err := ctx.Err(); err != nil {
			for i := range fns {
				if !yield(i, Result[T]{Err: err}) {
					return
				}
			}
			return
		}
		type item struct {
			i      int
			r      Result[T]
			failed bool // the function panicked or called runtime.Goexit
		}
		ch := make(chan item)
		stop := make(chan struct{})
		aborted := -1 // index of a function that did not return
		err := Run(ctx, func(ctx context.Context, n *Nursery) error {
			defer close(stop)
			for i, fn := range fns {
				n.Go(func(ctx context.Context) error {
					it := item{i: i, failed: true}
					defer func() {
						select {
						case ch <- it:
						case <-stop:
						}
					}()
					v, err := fn(ctx)
					it = item{i: i, r: Result[T]{Value: v, Err: err}}
					return nil
				})
			}
			for range fns {
				it := <-ch
				if it.failed {
					// Run re-panics once the others are done, or returns
					// the error of a runtime.Goexit.
					aborted = it.i
					return nil
				}
				if !yield(it.i, it.r) {
					n.Cancel(errStopped)
					return nil
				}
			}
			return nil
		})
		if aborted >= 0 && err != nil {
			yield(aborted, Result[T]{Err: err})
		}
	}
}
