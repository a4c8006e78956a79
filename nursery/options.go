package nursery

import (
	"fmt"
	"os"
)

// An Option configures a nursery. Pass options to Run.
type Option interface {
	apply(*options)
}

// options is what the options of one Run say. It is apart from the Nursery
// so that a Run without options pays nothing for them.
type options struct {
	limit      int
	collectAll bool
	signals    []os.Signal
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// parseOptions is kept out of Run, whose common call has no options: the
// options escape to the heap through the interface call.
func parseOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		if opt == nil {
			panic("nursery: Run called with a nil Option")
		}
		opt.apply(&o)
	}
	return o
}

// WithLimit makes at most k tasks of the nursery run at once; Go, Spawn and
// Start wait for a free slot (see Nursery.Go). The body does not count
// against the limit. WithLimit panics if k < 1.
//
// A task that starts tasks in its own nursery while holding a slot can
// exhaust the limit and wait for itself: give the inner work a nursery of its
// own rather than a slot in the outer one.
func WithLimit(k int) Option {
	if k < 1 {
		panic(fmt.Sprintf("nursery: WithLimit(%d): the limit must be at least 1", k))
	}
	return optionFunc(func(o *options) { o.limit = k })
}

// WithCollectAll makes the nursery collect every error instead of failing
// fast: an error returned by a task does not cancel its siblings, and Run
// returns all errors once every task has returned. An error returned by the
// body still cancels the tasks (the body decides the nursery's fate), and so
// does a panic.
func WithCollectAll() Option {
	return optionFunc(func(o *options) { o.collectAll = true })
}

// A TaskOption configures one task. Pass task options to Go, Spawn or Start.
type TaskOption interface {
	applyTask(*spec)
}

type nameOption string

func (o nameOption) applyTask(s *spec) { s.name = string(o) }

// WithName names a task. The name appears in the task's error, which Run
// returns wrapped as `task "name": err` (errors.Is still reaches err), in the
// *PanicError if the task panics, and as the runtime/pprof label "task" on the
// task's goroutine, so that goroutine and CPU profiles show which task a
// goroutine belongs to. Goroutines the task starts inherit the label.
func WithName(name string) TaskOption {
	return nameOption(name)
}
