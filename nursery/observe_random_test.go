//go:build go1.25

package nursery_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"

	"github.com/structured-go/structured/nursery"
)

// checker is an Observer that checks the invariants of what it is told:
// every task that starts ends once, on the goroutine it started on, before
// its nursery ends; every nursery that starts ends once; a cancelled
// task's cause is a task of its nursery that failed or panicked, and a
// Race loser's is the one task of its Race that won.
type checker struct {
	t        *testing.T
	mu       sync.Mutex
	open     map[*nursery.TaskEvent]bool
	tasks    map[*nursery.NurseryEvent]int
	nurs     map[*nursery.NurseryEvent]bool
	failed   map[*nursery.TaskEvent]bool
	ok       map[*nursery.TaskEvent]bool
	outcomes map[nursery.Outcome]int
	causes   []*nursery.TaskEvent // of cancelled tasks
	winners  map[*nursery.NurseryEvent]*nursery.TaskEvent
}

func newChecker(t *testing.T) *checker {
	return &checker{t: t, open: map[*nursery.TaskEvent]bool{}, tasks: map[*nursery.NurseryEvent]int{},
		nurs: map[*nursery.NurseryEvent]bool{}, failed: map[*nursery.TaskEvent]bool{}, ok: map[*nursery.TaskEvent]bool{},
		outcomes: map[nursery.Outcome]int{}, winners: map[*nursery.NurseryEvent]*nursery.TaskEvent{}}
}

func (c *checker) NurseryStarted(ctx context.Context, n *nursery.NurseryEvent) (context.Context, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nurs[n] {
		c.t.Errorf("nursery %q started twice", n.Name)
	}
	c.nurs[n] = true
	return ctx, true
}

func (c *checker) NurseryEnded(_ context.Context, n *nursery.NurseryEvent, _ error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.nurs[n] {
		c.t.Errorf("nursery %q ended without starting, or twice", n.Name)
	}
	if c.tasks[n] != 0 {
		c.t.Errorf("nursery %q ended with %d tasks open", n.Name, c.tasks[n])
	}
	delete(c.nurs, n)
}

func (c *checker) TaskStarted(ctx context.Context, t *nursery.TaskEvent) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.nurs[t.Nursery] {
		c.t.Errorf("task %q started in a nursery not running", t.Name)
	}
	c.open[t] = true
	c.tasks[t.Nursery]++
	return ctx
}

func (c *checker) TaskEnded(_ context.Context, t *nursery.TaskEvent, r nursery.TaskResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.open[t] {
		c.t.Errorf("task %q ended without starting, or twice", t.Name)
	}
	delete(c.open, t)
	c.tasks[t.Nursery]--
	c.outcomes[r.Outcome]++
	switch r.Outcome {
	case nursery.TaskFailed, nursery.TaskPanicked, nursery.TaskExited:
		c.failed[t] = true
	case nursery.TaskOK:
		c.ok[t] = true
	}
	if r.Cause == nil {
		if r.Outcome == nursery.TaskLostRace {
			c.t.Errorf("task %q lost a race without a winner as its Cause", t.Name)
		}
		return
	}
	if r.Cause.Nursery != t.Nursery {
		c.t.Errorf("task %q was cancelled by a task of another nursery", t.Name)
	}
	switch r.Outcome {
	case nursery.TaskLostRace:
		// The winner ended, ok, before the losers were cancelled.
		if !c.ok[r.Cause] {
			c.t.Errorf("task %q lost to a task that has not ended ok", t.Name)
		}
		if w := c.winners[t.Nursery]; w != nil && w != r.Cause {
			c.t.Errorf("two winners of one race")
		}
		c.winners[t.Nursery] = r.Cause
	case nursery.TaskCancelled:
		c.causes = append(c.causes, r.Cause)
	default:
		c.t.Errorf("task %q ended %v with a Cause", t.Name, r.Outcome)
	}
}

// Random trees of nurseries, observed (half of them tracked), whose tasks succeed,
// fail, echo their cancellation, panic, call runtime.Goexit, start nested
// nurseries, spawn and start tasks, under limits, while the tree is read:
// the Observer's invariants hold, every cause of a cancellation failed,
// nothing stays in the tree, and every goroutine ends (goleak).
func TestObservedRandomTrees(t *testing.T) {
	h := nursery.TreeHandler()
	lost := 0
	for seed := range uint64(40) {
		c := newChecker(t)
		rng := rand.New(rand.NewPCG(seed, 7))
		var mu sync.Mutex
		roll := func(n int) int { mu.Lock(); defer mu.Unlock(); return rng.IntN(n) }
		var grow func(ctx context.Context, depth int) error
		grow = func(ctx context.Context, depth int) error {
			opts := []nursery.Option{nursery.WithName(fmt.Sprintf("d%d", depth))}
			limited := roll(3) == 0
			if limited {
				opts = append(opts, nursery.WithLimit(1+roll(3)))
			}
			// Tasks wait for the cancellation only where the body cancels
			// in the end, and no limit can make the body wait for them.
			willCancel := !limited && roll(2) == 0
			return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
				for i := range 2 + roll(4) {
					name := fmt.Sprintf("t%d", i)
					task := func(ctx context.Context) error {
						switch roll(8) {
						case 0:
							return errors.New("failed")
						case 1:
							if willCancel {
								<-ctx.Done()
								return ctx.Err()
							}
						case 2:
							if roll(4) == 0 {
								panic("boom")
							}
						case 3:
							if roll(4) == 0 {
								runtime.Goexit()
							}
						case 4, 5:
							if depth < 3 {
								return grow(ctx, depth+1)
							}
						case 6:
							rec := httptest.NewRecorder()
							h.ServeHTTP(rec, httptest.NewRequest("GET", "/?format=json&stacks=1", nil))
						case 7:
							// A Race whose first entrant succeeds, the others
							// succeeding, failing or waiting to be cancelled.
							fns := make([]func(context.Context) (int, error), 2+roll(3))
							for j := range fns {
								k := 2
								if j > 0 {
									k = roll(4)
								}
								fns[j] = func(ctx context.Context) (int, error) {
									switch k {
									case 0:
										return 0, errors.New("entrant failed")
									case 1:
										<-ctx.Done()
										return 0, ctx.Err()
									}
									return j, nil
								}
							}
							_, err := nursery.Race(ctx, fns...)
							if err != nil && ctx.Err() == nil {
								return fmt.Errorf("a Race with a succeeding entrant failed: %w", err)
							}
						}
						return nil
					}
					switch roll(4) {
					case 3:
						n.Go(task) // no options: the path of its own, unless limited or tracked
					case 0:
						n.Go(task, nursery.WithName(name))
					case 1:
						nursery.Spawn(n, func(ctx context.Context) (int, error) { return 0, task(ctx) })
					default:
						_, _ = nursery.Start(ctx, n, func(ctx context.Context, started func(int)) error {
							started(1)
							return task(ctx)
						}, nursery.UntilCancelled())
					}
				}
				if willCancel {
					n.Cancel(nil)
				}
				return nil
			}, opts...)
		}
		opts := []nursery.Option{nursery.WithObserver(c)}
		if seed%2 == 0 { // the others' plain tasks take the path without a record
			opts = append(opts, nursery.WithTracking())
		}
		func() {
			defer func() { _ = recover() }()
			_ = nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
				n.Go(func(ctx context.Context) error { return grow(ctx, 0) })
				return nil
			}, opts...)
		}()
		c.mu.Lock()
		lost += c.outcomes[nursery.TaskLostRace]
		if len(c.open) != 0 || len(c.nurs) != 0 {
			t.Errorf("seed %d: %d tasks and %d nurseries never ended", seed, len(c.open), len(c.nurs))
		}
		for _, cause := range c.causes {
			if !c.failed[cause] {
				t.Errorf("seed %d: a cancellation's cause %q did not fail", seed, cause.Name)
			}
		}
		c.mu.Unlock()
		if tree := nursery.Tree(); len(tree) != 0 {
			t.Errorf("seed %d: the tree after Run: %+v", seed, tree)
		}
	}
	if lost == 0 {
		t.Error("no function lost a race: the trees never raced")
	}
}
