//go:build go1.25

package nursery_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/cancel"
	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/timeout"
)

// The random-tree test builds random nested trees of nurseries (fail-fast
// and collect-all, with limits), cancel scopes (deadlines, Cancel, shields),
// timeouts (MoveOnAfter, FailAfter, reschedulable Timeouts), and tasks
// started with Go, WithName, Spawn+Wait and Start, whose leaves succeed,
// fail, echo their cancellation (bare, as the cause, wrapped), fail during
// cleanup, combine errors, panic or call runtime.Goexit, at random virtual
// times. It runs each tree and checks the invariants users rely on:
//
//   - every real error a leaf returned, and every timeout error a FailAfter
//     or Timeout produced, comes back exactly once (in Run's error, or in the
//     PanicError's Suppressed errors if something panicked);
//   - every panic comes back exactly once, and Run panics if and only if
//     some leaf panicked;
//   - every runtime.Goexit comes back as exactly one error wrapping
//     ErrGoexit;
//   - nothing else comes back: no echo of a cancellation is reported as a
//     failure;
//   - nothing outlives Run: every leaf and task has returned;
//   - the contexts a leaf derives with the standard library (through
//     WithValue, WithTimeout, AfterFunc) start no goroutine of the standard
//     library's to watch their parent, never report an Err while their Done
//     is open, and are done when the leaf's context is.

// A treeRun is the record of one run of a tree.
type treeRun struct {
	mu      sync.Mutex
	real    []error // real errors returned by leaves, or made by timeouts
	carrier []error // combined errors that also hold an echo: their echo parts are not failures
	panics  []string
	goexits int
	live    atomic.Int64
	broken  []string // what leaves saw go wrong in their contexts
	leaves  atomic.Int64
}

func (r *treeRun) brokenf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.broken = append(r.broken, fmt.Sprintf(format, args...))
}

type leafKey struct{}

// derive derives from a leaf's ctx what user code derives (a request id,
// then a timeout and an AfterFunc), checks that this started no goroutine of
// the standard library's, and returns a check of the derived contexts to
// run once the leaf is done with ctx.
func (r *treeRun) derive(ctx context.Context, id string) (check func()) {
	const many = 200
	vctx := context.WithValue(ctx, leafKey{}, id)
	if r.leaves.Add(1)%8 == 1 { // the count of goroutines, in one leaf of eight: it costs
		before := runtime.NumGoroutine()
		stops := make([]context.CancelFunc, 0, many)
		for range many {
			_, stop := context.WithCancel(vctx)
			stops = append(stops, stop)
		}
		// A tree runs a few dozen goroutines: many more would be watchers.
		if grew := runtime.NumGoroutine() - before; grew > many/2 {
			r.brokenf("leaf %s: %d contexts derived through WithValue started %d goroutines", id, many, grew)
		}
		for _, stop := range stops {
			stop()
		}
	}
	dctx, stop := context.WithTimeout(vctx, time.Hour)
	after := make(chan struct{})
	unhook := context.AfterFunc(vctx, func() { close(after) })
	consistent := func(name string, c context.Context) {
		if err := c.Err(); err != nil {
			select {
			case <-c.Done():
			default:
				r.brokenf("leaf %s: %s: Err() = %v while Done is open", id, name, err)
			}
		}
	}
	return func() {
		defer stop()
		consistent("ctx", ctx)
		consistent("derived", dctx)
		if ctx.Err() != nil {
			<-dctx.Done() // done with ctx, maybe a moment after it: the standard library's own order
			if dctx.Err() != ctx.Err() {
				r.brokenf("leaf %s: a context derived under ctx reports %v, ctx %v", id, dctx.Err(), ctx.Err())
			}
			<-after
		} else if !unhook() && ctx.Err() == nil {
			r.brokenf("leaf %s: AfterFunc ran while ctx is not done", id)
		}
	}
}

func (r *treeRun) logReal(err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.real = append(r.real, err)
	return err
}

func (r *treeRun) isLogged(err error) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.real {
		if e == err {
			return true
		}
	}
	return false
}

type leafKind int

const (
	leafOK leafKind = iota
	leafFail
	leafEchoErr
	leafEchoCause
	leafEchoWrapped
	leafCleanupFail // waits for cancellation, then fails for real
	leafJoinedReal  // errors.Join of two real errors
	leafJoinedEcho  // a real error combined with the echo
	leafWrappedFail
	leafPanic
	leafGoexit
	numLeafKinds
)

type nodeKind int

const (
	nodeLeaf nodeKind = iota
	nodeNursery
	nodeScope
	nodeMoveOn
	nodeFailAfter
	nodeTimeout
)

type startMode int

const (
	startGo startMode = iota
	startNamed
	startSpawn
	startStart
)

// A node of a random tree.
type node struct {
	kind     nodeKind
	leaf     leafKind
	delay    time.Duration
	children []*node
	modes    []startMode // how each child is started, for a nursery

	// nursery
	collectAll   bool
	limit        int
	cancelAfter  time.Duration // the body calls Cancel after this long; 0 for never
	bodyLeaf     leafKind      // what the body does once its children are started
	bodyWaits    bool          // the body waits on its spawned tasks and returns the first error
	bodyWraps    bool          // ... wrapped
	startedAfter time.Duration // how long a Start'ed child takes to call started

	// scopes and timeouts
	d          time.Duration
	shield     bool
	reschedule time.Duration // a Timeout is rescheduled to now+this, half-way; -1 disables it
	child      *node
}

// genTree makes a random tree. canGoexit says whether the node runs in a
// goroutine that may end with runtime.Goexit (not the test's own).
func genTree(rng *rand.Rand, depth int, canGoexit bool) *node {
	pick := rng.IntN(10)
	if depth == 0 {
		pick = 0
	}
	ms := func(max int) time.Duration { return time.Duration(rng.IntN(max+1)) * time.Millisecond }
	leaf := func() leafKind {
		for {
			k := leafKind(rng.IntN(int(numLeafKinds)))
			if k == leafPanic && rng.IntN(3) != 0 {
				continue // panics end the whole run: keep them rarer
			}
			if k != leafGoexit || canGoexit {
				return k
			}
		}
	}
	switch {
	case pick <= 3:
		return &node{kind: nodeLeaf, leaf: leaf(), delay: ms(10)}
	case pick <= 6:
		n := &node{kind: nodeNursery, collectAll: rng.IntN(3) == 0, bodyLeaf: leaf()}
		if rng.IntN(3) == 0 {
			n.limit = 1 + rng.IntN(2)
		}
		if rng.IntN(4) == 0 {
			n.cancelAfter = 1 + ms(10)
		}
		n.bodyWaits = rng.IntN(2) == 0
		n.bodyWraps = rng.IntN(2) == 0
		n.startedAfter = ms(5)
		for range 1 + rng.IntN(4) {
			mode := startMode(rng.IntN(4))
			// Every child runs in a task goroutine of its own.
			n.children = append(n.children, genTree(rng, depth-1, true))
			n.modes = append(n.modes, mode)
		}
		return n
	case pick == 7:
		return &node{kind: nodeScope, d: ms(15), shield: rng.IntN(4) == 0, cancelAfter: ms(15),
			child: genTree(rng, depth-1, canGoexit)}
	case pick == 8:
		return &node{kind: []nodeKind{nodeMoveOn, nodeFailAfter}[rng.IntN(2)], d: ms(15), shield: rng.IntN(5) == 0,
			child: genTree(rng, depth-1, canGoexit)}
	default:
		n := &node{kind: nodeTimeout, d: 1 + ms(15), child: genTree(rng, depth-1, canGoexit)}
		switch rng.IntN(3) {
		case 0:
			n.reschedule = -1
		case 1:
			n.reschedule = ms(20)
		}
		return n
	}
}

// sleepOrDone sleeps for d unless ctx ends first, and reports whether it did.
func sleepOrDone(ctx context.Context, d time.Duration) bool {
	return cancel.Sleep(ctx, d) != nil
}

// runLeaf does what a leaf does.
func (r *treeRun) runLeaf(ctx context.Context, k leafKind, delay time.Duration, id string) error {
	check := r.derive(ctx, id)
	cancelled := sleepOrDone(ctx, delay)
	check()
	switch k {
	case leafOK:
		return nil
	case leafFail:
		return r.logReal(errors.New("fail " + id))
	case leafWrappedFail:
		return fmt.Errorf("wrapped: %w", r.logReal(errors.New("fail "+id)))
	case leafEchoErr, leafEchoCause, leafEchoWrapped:
		if !cancelled && !sleepOrDone(ctx, 20*time.Millisecond) {
			return nil // nobody cancelled it: it finished
		}
		switch k {
		case leafEchoErr:
			return ctx.Err()
		case leafEchoCause:
			return context.Cause(ctx)
		default:
			return fmt.Errorf("echo %s: %w", id, ctx.Err())
		}
	case leafCleanupFail:
		if !cancelled && !sleepOrDone(ctx, 20*time.Millisecond) {
			return nil
		}
		return r.logReal(errors.New("cleanup " + id))
	case leafJoinedReal:
		return errors.Join(r.logReal(errors.New("joined1 "+id)), r.logReal(errors.New("joined2 "+id)))
	case leafJoinedEcho:
		real := r.logReal(errors.New("with echo " + id))
		if ctx.Err() == nil {
			return real
		}
		j := errors.Join(real, ctx.Err())
		r.mu.Lock()
		r.carrier = append(r.carrier, j)
		r.mu.Unlock()
		return j
	case leafPanic:
		r.mu.Lock()
		r.panics = append(r.panics, "panic "+id)
		r.mu.Unlock()
		panic("panic " + id)
	case leafGoexit:
		r.mu.Lock()
		r.goexits++
		r.mu.Unlock()
		runtime.Goexit()
	}
	panic("unknown leaf")
}

// run runs node nd under ctx; id names it uniquely.
func (r *treeRun) run(ctx context.Context, nd *node, id string) error {
	r.live.Add(1)
	defer r.live.Add(-1)
	switch nd.kind {
	case nodeLeaf:
		return r.runLeaf(ctx, nd.leaf, nd.delay, id)
	case nodeNursery:
		return r.runNursery(ctx, nd, id)
	case nodeScope:
		var opts []cancel.Option
		if nd.d > 0 {
			opts = append(opts, cancel.WithTimeout(nd.d))
		}
		if nd.shield {
			opts = append(opts, cancel.WithShield())
		}
		s := cancel.New(opts...)
		var stop func() bool
		if nd.cancelAfter > 0 {
			stop = time.AfterFunc(nd.cancelAfter, func() { s.Cancel(errors.New("scope cancelled " + id)) }).Stop
		}
		err := s.Run(ctx, func(ctx context.Context) error { return r.run(ctx, nd.child, id+".s") })
		if stop != nil {
			stop()
		}
		return err
	case nodeMoveOn:
		var opts []timeout.Option
		if nd.shield {
			opts = append(opts, timeout.WithShield())
		}
		_, err := timeout.MoveOnAfter(ctx, nd.d, func(ctx context.Context) error { return r.run(ctx, nd.child, id+".m") }, opts...)
		return err
	case nodeFailAfter:
		var opts []timeout.Option
		if nd.shield {
			opts = append(opts, timeout.WithShield())
		}
		err := timeout.FailAfter(ctx, nd.d, func(ctx context.Context) error { return r.run(ctx, nd.child, id+".f") }, opts...)
		return r.logTimeout(err)
	case nodeTimeout:
		tm := timeout.New(nd.d)
		var stop func() bool
		if nd.reschedule != 0 {
			stop = time.AfterFunc(nd.d/2, func() {
				when := time.Time{}
				if nd.reschedule > 0 {
					when = time.Now().Add(nd.reschedule)
				}
				_ = tm.Reschedule(when) // may be too late: that is fine
			}).Stop
		}
		err := tm.Run(ctx, func(ctx context.Context) error { return r.run(ctx, nd.child, id+".t") })
		if stop != nil {
			stop()
		}
		return r.logTimeout(err)
	}
	panic("unknown node")
}

// logTimeout logs err as a real error if it is a timeout that this call
// made (not one coming through from inside, which is logged already).
func (r *treeRun) logTimeout(err error) error {
	_, wraps := err.(interface{ Unwrap() error })
	_, combines := err.(interface{ Unwrap() []error })
	if !wraps && !combines && errors.Is(err, timeout.ErrTimeout) && !r.isLogged(err) {
		r.logReal(err)
	}
	return err
}

func (r *treeRun) runNursery(ctx context.Context, nd *node, id string) error {
	var opts []nursery.Option
	if nd.collectAll {
		opts = append(opts, nursery.WithCollectAll())
	}
	if nd.limit > 0 {
		opts = append(opts, nursery.WithLimit(nd.limit))
	}
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		var tasks []*nursery.Task[int]
		for i, child := range nd.children {
			cid := fmt.Sprintf("%s.%d", id, i)
			work := func(ctx context.Context) error { return r.run(ctx, child, cid) }
			switch nd.modes[i] {
			case startGo:
				n.Go(work)
			case startNamed:
				n.Go(work, nursery.WithName(cid))
			case startSpawn:
				tasks = append(tasks, nursery.Spawn(n, func(ctx context.Context) (int, error) { return 0, work(ctx) }))
			case startStart:
				_, err := nursery.Start(ctx, n, func(ctx context.Context, started func(int)) error {
					if sleepOrDone(ctx, nd.startedAfter) && nd.startedAfter%2 == 0 {
						return ctx.Err() // gives up before it is ready
					}
					started(i)
					return work(ctx)
				})
				if err != nil {
					return err // Start's error is the body's to deal with: here it fails the body
				}
			}
		}
		if nd.cancelAfter > 0 {
			if !sleepOrDone(ctx, nd.cancelAfter) {
				n.Cancel(nil)
			}
		}
		if nd.bodyWaits {
			for _, task := range tasks {
				if _, err := task.Wait(ctx); err != nil {
					if nd.bodyWraps {
						return fmt.Errorf("body of %s: %w", id, err)
					}
					return err
				}
			}
		}
		return r.runLeaf(ctx, nd.bodyLeaf, 0, id+".body")
	}, opts...)
}

// outcome is what came back from the top: facts gathered by walking Run's
// error, or the PanicError and everything it carries.
type outcome struct {
	real    map[error]int
	panics  map[string]int
	goexits int
	other   []string
}

func (o *outcome) walk(r *treeRun, err error) {
	if err == nil {
		return
	}
	var p *nursery.PanicError
	if pe, ok := err.(*nursery.PanicError); ok {
		p = pe
	}
	if p != nil {
		if s, ok := p.Value.(string); ok {
			o.panics[s]++
		} else if e, ok := p.Value.(error); ok {
			o.walk(r, e) // a Goexit in a body, carried by a panic
		} else {
			o.other = append(o.other, fmt.Sprintf("panic value %#v", p.Value))
		}
		for _, e := range p.Suppressed {
			o.walk(r, e)
		}
		return
	}
	if r.isLogged(err) {
		o.real[err]++
		if _, ok := err.(interface{ Unwrap() []error }); !ok {
			return // a leaf's own error, or a timeout: the end of this branch
		}
	}
	r.mu.Lock()
	isCarrier := false
	for _, c := range r.carrier {
		if c == err {
			isCarrier = true
		}
	}
	r.mu.Unlock()
	switch x := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range x.Unwrap() {
			if isCarrier && (e == context.Canceled || e == context.DeadlineExceeded) {
				continue // the echo part of a real error
			}
			o.walk(r, e)
		}
	case interface{ Unwrap() error }:
		if u := x.Unwrap(); u != nil {
			o.walk(r, u)
		} else {
			o.other = append(o.other, err.Error())
		}
	default:
		if err == nursery.ErrGoexit {
			o.goexits++
			return
		}
		o.other = append(o.other, err.Error())
	}
}

// runTree runs one tree, and reports what broke, if anything.
func runTree(tree *node) []string {
	r := &treeRun{}
	var err error
	var recovered any
	func() {
		defer func() { recovered = recover() }()
		err = r.run(context.Background(), tree, "t")
	}()
	broken := append([]string(nil), r.broken...)
	if n := r.live.Load(); n != 0 {
		broken = append(broken, fmt.Sprintf("%d leaves or tasks still running after Run", n))
	}
	if tree := nursery.Tree(); len(tree) != 0 {
		broken = append(broken, fmt.Sprintf("%d tracked nurseries left in the tree after Run", len(tree)))
	}
	o := &outcome{real: map[error]int{}, panics: map[string]int{}}
	if recovered != nil {
		p, ok := recovered.(*nursery.PanicError)
		if !ok {
			return append(broken, fmt.Sprintf("panicked with %#v, not a *PanicError", recovered))
		}
		if v, _ := p.Value.(error); len(r.panics) == 0 && !errors.Is(v, nursery.ErrGoexit) {
			// Only a body's Goexit after failures turns into a panic too.
			broken = append(broken, "Run panicked, yet no leaf did: "+p.Error())
		}
		o.walk(r, p)
	} else {
		if len(r.panics) > 0 {
			broken = append(broken, fmt.Sprintf("%d leaves panicked, yet Run returned %v", len(r.panics), err))
		}
		o.walk(r, err)
	}
	for _, e := range r.real {
		if c := o.real[e]; c != 1 {
			broken = append(broken, fmt.Sprintf("real error %q came back %d times", e, c))
		}
	}
	for _, pv := range r.panics {
		if c := o.panics[pv]; c != 1 {
			broken = append(broken, fmt.Sprintf("panic %q came back %d times", pv, c))
		}
	}
	if o.goexits != r.goexits {
		broken = append(broken, fmt.Sprintf("%d Goexits, %d errors wrapping ErrGoexit", r.goexits, o.goexits))
	}
	for _, s := range o.other {
		broken = append(broken, "came back but is no failure: "+s)
	}
	if len(broken) > 0 {
		broken = append(broken, fmt.Sprintf("Run() = %v", err))
	}
	return broken
}

func (nd *node) String() string {
	var b strings.Builder
	nd.format(&b, "")
	return b.String()
}

func (nd *node) format(b *strings.Builder, indent string) {
	switch nd.kind {
	case nodeLeaf:
		fmt.Fprintf(b, "%sleaf %d after %v\n", indent, nd.leaf, nd.delay)
	case nodeNursery:
		fmt.Fprintf(b, "%snursery collectAll=%v limit=%d cancelAfter=%v body=%d waits=%v wraps=%v\n",
			indent, nd.collectAll, nd.limit, nd.cancelAfter, nd.bodyLeaf, nd.bodyWaits, nd.bodyWraps)
		for i, c := range nd.children {
			fmt.Fprintf(b, "%s  mode %d:\n", indent, nd.modes[i])
			c.format(b, indent+"    ")
		}
	default:
		fmt.Fprintf(b, "%snode %d d=%v shield=%v cancelAfter=%v reschedule=%v\n", indent, nd.kind, nd.d, nd.shield, nd.cancelAfter, nd.reschedule)
		nd.child.format(b, indent+"  ")
	}
}

// TestRandomTrees runs thousands of random trees at GOMAXPROCS 1, 2 and 8,
// in virtual time, a third of them tracked (SetTracking), and checks the
// invariants above for each, and that no tracked nursery is left in the
// tree.
func TestRandomTrees(t *testing.T) {
	trees := 30000
	if raceEnabled {
		trees = 6000
	}
	if testing.Short() {
		trees /= 10
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	defer nursery.SetTracking(false)
	for _, procs := range []int{1, 2, 8} {
		runtime.GOMAXPROCS(procs)
		for seed := range trees / 3 {
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(procs)))
			tree := &node{kind: nodeNursery, bodyLeaf: leafOK}
			for range 1 + rng.IntN(3) {
				tree.children = append(tree.children, genTree(rng, 2+rng.IntN(3), true))
				tree.modes = append(tree.modes, startMode(rng.IntN(4)))
			}
			nursery.SetTracking(seed%3 == 0) // a third of the trees run tracked
			synctest.Test(t, func(t *testing.T) {
				if broken := runTree(tree); len(broken) > 0 {
					t.Fatalf("GOMAXPROCS=%d seed %d:\n%s\ntree:\n%v", procs, seed, strings.Join(broken, "\n"), tree)
				}
			})
		}
	}
}
