package nursery

import (
	"context"
	"errors"
	"sync"
)

// errLost is the cause with which Race cancels the functions that lost.
var errLost = errors.New("nursery: another function won the race")

// errWon is what a function of Race returns to its nursery when it wins;
// the nursery records the win, for its observers, then cancels the others
// with errLost. It never leaves the nursery.
var errWon = errors.New("nursery: won the race")

// Race runs every function in fns concurrently and returns the value of the
// first to succeed (return a nil error); it then cancels the others and
// waits for them before returning. A failure does not end the race: the others
// keep running. Errors returned by the losers after the win are dropped, and
// so are the values of losers that succeed too: if a value holds a resource
// (a connection), release it in the function when it learns it lost (its ctx
// is done), or claim the win yourself with Run and a compare-and-swap.
//
// If every function fails, Race returns all of their errors, combined as by
// Run. If ctx is cancelled before any function succeeds, Race returns ctx's
// error, even if some functions had failed before, and even if a function
// that ignored ctx succeeds afterwards (its value is a loser's): the first
// echo of the cancellation that a function returned (such as `dial: context
// canceled`, or the cause given to a context.CancelCauseFunc), or ctx.Err()
// itself; either way errors.Is(err, ctx.Err()) holds. With no functions,
// Race returns ErrNoTasks; if ctx is already done, it returns ctx.Err()
// without calling any function. A panic in a function is re-raised, as by
// Run.
func Race[T any](ctx context.Context, fns ...func(ctx context.Context) (T, error)) (T, error) {
	checkArgs("Race", ctx, fns)
	var zero T
	if len(fns) == 0 {
		return zero, ErrNoTasks
	}
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	var (
		mu     sync.Mutex
		won    bool
		winner T
	)
	outer := ctx // a success after outer is done comes too late: the race was called off
	n := &Nursery{cfg: &config{collectAll: true}}
	err := n.runBody(ctx, func(ctx context.Context, n *Nursery) error {
		// Observed, traced or tracked, each function is a task of the
		// general path: the tree, the trace and the observers name the
		// function rather than this wrapper, and the winner is recorded
		// as the cause of the others' end before they are cancelled.
		// Otherwise the lighter path of Go, and the winner cancels.
		general := n.observesTasks() || n.cfg.tr != nil
		for _, fn := range fns {
			task := func(ctx context.Context) error {
				v, err := fn(ctx)
				if err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				if !won && outer.Err() == nil {
					won, winner = true, v
					if general {
						return errWon // runSpec records the win, then cancels
					}
					n.Cancel(errLost)
				}
				return nil
			}
			if !general {
				n.Go(task)
				continue
			}
			s := n.newSpec(ctx, task, nil)
			s.user, s.race = fn, true
			n.enter("Race")
			n.launch(s)
		}
		return nil
	}, n.siteOf(fns[0]))
	if won {
		return winner, nil
	}
	if ctx.Err() != nil {
		// The race was called off, whatever failed before: report the
		// cancellation, in the words of the first function that echoed it.
		return zero, n.parentEcho()
	}
	return zero, err
}
