package nursery

import (
	"context"
	"fmt"
	"os"
	"reflect"
)

// An Option configures a nursery. Pass options to Run, and to Map, ForEach
// and MapSettled, which run one: WithLimit, WithSemaphore, WithCollectAll,
// WithFirstError, WithSignals, WithName, WithTracking, WithStuckReport,
// WithStuckTrace, WithObserver, UntilCancelled.
//
// Options of one task (TaskOption) go to Go, Spawn and Start instead. The
// compiler tells the two apart: an Option given to Go is "Option does not
// implement TaskOption (missing method applyToTask)". WithName and
// UntilCancelled are both.
type Option interface {
	applyToRun(*config)
}

// A TaskOption configures one task. Pass task options to Go, Spawn or Start:
// WithName, UntilCancelled.
type TaskOption interface {
	applyToTask(*spec)
}

// config is what the options of one Run say. It is apart from the Nursery
// so that a Run without options pays nothing for them.
type config struct {
	slots      chan struct{} // one token per running task, for WithLimit
	shared     Semaphore     // one unit per running task, for WithSemaphore
	collectAll bool
	firstError bool
	// perTask says that Go must take goConfigured's path: a task needs a
	// slot, a record in the tree, or an observation. Set before the body
	// runs; without it Go starts a task as if there were no options.
	perTask        bool
	name           string
	signals        []os.Signal
	track          bool         // WithTracking
	stuck          *stuckReport // WithStuckReport
	stuckTrace     snapshotter  // WithStuckTrace
	untilCancelled bool         // UntilCancelled
	observer       Observer     // WithObserver
	obs            *observation // the nursery's observation, if observed or traced
	tr             *tracker     // the nursery's record in the tree, if tracked
	trkRoom        *tracker     // room for tr made with the config, if it may be tracked
}

// A trackedConfig is the config of a Run that may be tracked, with its
// tracker in the same allocation; other Runs' configs are a third of its
// size.
type trackedConfig struct {
	config
	trk tracker
}

// newConfig makes a config, with room for a tracker if mayTrack.
func newConfig(mayTrack bool) *config {
	if !mayTrack {
		return &config{}
	}
	tc := &trackedConfig{}
	tc.trkRoom = &tc.trk
	return &tc.config
}

// mayTrack reports whether a Run starting now may be tracked, whatever its
// options: every Run is, or a tracked nursery is running (which may be its
// parent).
func mayTrack() bool { return trackedNow.all.Load() || trackedNow.active.Load() > 0 }

// limited reports whether a task needs a slot to run.
func (c *config) limited() bool { return c != nil && (c.slots != nil || c.shared != nil) }

type optionFunc func(*config)

func (f optionFunc) applyToRun(c *config) { f(c) }

// parseOptions is kept out of Run, whose common call has no options: the
// options escape to the heap through the interface call.
func parseOptions(opts []Option, name string) *config {
	track := mayTrack()
	for _, opt := range opts {
		if _, ok := opt.(trackingOption); ok {
			track = true
		}
	}
	c := newConfig(track)
	for _, opt := range opts {
		if opt == nil {
			panic("nursery: " + name + " called with a nil Option")
		}
		opt.applyToRun(c)
	}
	if c.stuckTrace != nil {
		c.checkStuckTrace()
	}
	return c
}

// WithLimit makes at most k tasks of the nursery run at once; Go, Spawn and
// Start wait for a free slot (see Nursery.Go). It is errgroup's SetLimit,
// with one difference in the count: the body does not hold a slot, so a
// group whose SetLimit(k) counted the work done in the body is WithLimit(k-1)
// here, and one that moved work from a Go into the body needs one slot less.
// WithLimit panics if k < 1.
//
// A task that waits for tasks it starts while holding a slot can exhaust the
// limit and wait for itself: with WithLimit(1), a task that calls Go on its
// own nursery and waits for that task never sees it start (Go waits for the
// slot the caller holds). Start such work from the body, or give it a
// nursery of its own; to bound a whole tree of nested nurseries with one
// limit, share it with WithSemaphore and give the slot back while waiting.
func WithLimit(k int) Option {
	if k < 1 {
		panic(fmt.Sprintf("nursery: WithLimit(%d): the limit must be at least 1", k))
	}
	return optionFunc(func(c *config) { c.slots = make(chan struct{}, k) })
}

// A Semaphore is a limit that several nurseries can share: under
// WithSemaphore, each task holds one unit of it while it runs. Acquire must
// wait until a unit is free or ctx is done, returning ctx's error then; a
// non-nil error for any other reason means the task can never run.
// *ratelimit.Semaphore of this module and golang.org/x/sync/semaphore's
// *Weighted satisfy it.
type Semaphore interface {
	Acquire(ctx context.Context, n int64) error
	Release(n int64)
}

// WithSemaphore makes each task of the nursery hold one unit of s while it
// runs, as WithLimit does with a limit of the nursery's own, so that one
// limit can bound several nurseries, nested ones among them (a recursive
// walk bounded as a whole). The body holds no unit. With WithLimit as well,
// a task holds a slot of both. If s refuses a unit for a reason other than
// the nursery's cancellation, the task does not run and fails with that
// error.
//
// A task that waits for nested nurseries drawing on the same semaphore
// should give its unit back while it waits, or the tree can exhaust the
// limit and wait for itself: Release(1) before the nested Run, and Acquire
// again after it (see the example).
func WithSemaphore(s Semaphore) Option {
	if s == nil {
		panic("nursery: WithSemaphore(nil): a Semaphore is needed")
	}
	if v := reflect.ValueOf(s); v.Kind() == reflect.Pointer && v.IsNil() {
		panic(fmt.Sprintf("nursery: WithSemaphore((%T)(nil)): a Semaphore is needed, not a nil pointer", s))
	}
	return optionFunc(func(c *config) { c.shared = s })
}

// WithCollectAll makes the nursery collect every error instead of failing
// fast: an error returned by a task does not cancel its siblings, and Run
// returns all errors once every task has returned. An error returned by the
// body still cancels the tasks (the body decides the nursery's fate), and so
// does a panic.
func WithCollectAll() Option {
	return optionFunc(func(c *config) { c.collectAll = true })
}

// WithFirstError makes Run return only the first real error, as errgroup's
// Wait does, rather than every one combined: for callers that compare or
// type-assert the error (err == ErrX, err.(*MyError)) and would be surprised
// by a combination when tasks that ignore their context fail too. The
// nursery still fails fast (or not, with WithCollectAll); only what Run
// returns changes. A panic still carries every error in Suppressed.
func WithFirstError() Option {
	return optionFunc(func(c *config) { c.firstError = true })
}

// A NameOption names a task (given to Go, Spawn or Start) or a nursery
// (given to Run). WithName makes one.
type NameOption struct{ name string }

func (o NameOption) applyToTask(s *spec)  { s.name = o.name }
func (o NameOption) applyToRun(c *config) { c.name = o.name }

// WithName names a task, or a nursery.
//
// A task's name appears in its error, which Run returns wrapped as `task
// "name": err` (errors.Is still reaches err; Task.Wait returns err itself),
// in the *PanicError if the task panics, and as the runtime/pprof label
// "task" on the task's goroutine, so that goroutine and CPU profiles show
// which task a goroutine belongs to. Goroutines the task starts inherit the
// label.
//
// A nursery's name is the pprof label "nursery" on the body's goroutine and
// on its named tasks'; goroutines the body or a task starts inherit their
// labels.
func WithName(name string) NameOption {
	return NameOption{name: name}
}
