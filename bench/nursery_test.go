package bench

// Two kinds of benchmark live here.
//
// The interleaved ones (BenchmarkSpawnJoin, BenchmarkLimit8, BenchmarkCancel)
// run every contender once in each b.N iteration, in an order that rotates
// from one iteration to the next, and time each contender separately, so
// that whatever noise the machine makes falls on all of them alike. They
// report each contender's mean time per operation ("nursery-ns/op", ...) and
// the ratios between them ("nursery/raw", ...): the median over iterations of
// the two contenders' ratio in the same iteration. Their own ns/op is the sum
// over the contenders (the mean for BenchmarkCancel) and means little.
//
// The allocation ones (BenchmarkAllocs/CASE/CONTENDER) run one contender
// alone, since allocations cannot be told apart inside an interleaved loop.
//
// The contenders, doing the same work in every case:
//
//	raw          context.WithCancelCause, a go statement and a
//	             sync.WaitGroup per task, cancel(err) on a task's error,
//	             and cancel at the end, as Run does; with a limit, a buffered
//	             channel of that size as a semaphore
//	errgroup     the zero errgroup.Group (no context); SetLimit for a limit
//	errgroupctx  errgroup.WithContext; SetLimit for a limit
//	conc         pool.New().WithErrors().WithContext(ctx).WithCancelOnError()
//	             of github.com/sourcegraph/conc; WithMaxGoroutines for a limit
//	nursery      nursery.Run; nursery.WithLimit for a limit
//	tracked      nursery.Run with nursery.WithTracking, whose tasks are
//	             listed in the live tree (nursery.Tree)
//
// Every contender gets its task as a func value made once, outside the loop,
// so none pays for a closure per task that the others do not.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"

	"github.com/structured-go/structured/nursery"
)

var (
	bg      = context.Background()
	errBoom = errors.New("bench: the failing task failed")

	// The trivial task, in the shape each API takes it.
	nopCtx = func(context.Context) error { return nil }
	nop    = func() error { return nil }
)

// ---------------------------------------------------------------------------
// Spawn and join: N trivial tasks, optionally under a limit.

// An op is one spawn+join of a contender.
type op struct {
	name string
	run  func() error
}

// spawnOps returns every contender's spawn+join of n trivial tasks, at most
// limit of them at once (no limit if limit is 0).
func spawnOps(n, limit int) []op {
	return []op{
		{"raw", func() error { return rawSpawn(n, limit, nopCtx) }},
		{"errgroup", func() error { return errgroupSpawn(n, limit, nop) }},
		{"errgroupctx", func() error { return errgroupCtxSpawn(n, limit, nop) }},
		{"conc", func() error { return concSpawn(n, limit, nopCtx) }},
		{"nursery", func() error { return nurserySpawn(n, limit, nopCtx) }},
		{"tracked", func() error { return nurserySpawn(n, limit, nopCtx, nursery.WithTracking()) }},
	}
}

// rawGroup is the state of the raw contender, in one allocation, so that each
// go statement's closure holds two words (the group and the task), as
// errgroup's and nursery's do.
type rawGroup struct {
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelCauseFunc
	sem    chan struct{}
}

func rawSpawn(n, limit int, task func(context.Context) error) error {
	g := &rawGroup{}
	g.ctx, g.cancel = context.WithCancelCause(bg)
	if limit > 0 {
		g.sem = make(chan struct{}, limit)
	}
	for range n {
		if g.sem != nil {
			g.sem <- struct{}{}
		}
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			if err := task(g.ctx); err != nil {
				g.cancel(err)
			}
			if g.sem != nil {
				<-g.sem
			}
		}()
	}
	g.wg.Wait()
	err := context.Cause(g.ctx)
	g.cancel(nil)
	return err
}

func errgroupSpawn(n, limit int, task func() error) error {
	var g errgroup.Group
	if limit > 0 {
		g.SetLimit(limit)
	}
	for range n {
		g.Go(task)
	}
	return g.Wait()
}

// errgroupCtxSpawn's tasks do not use the context, so they need not close
// over it; a task that did would cost errgroup one more allocation per task.
func errgroupCtxSpawn(n, limit int, task func() error) error {
	g, _ := errgroup.WithContext(bg)
	if limit > 0 {
		g.SetLimit(limit)
	}
	for range n {
		g.Go(task)
	}
	return g.Wait()
}

func concSpawn(n, limit int, task func(context.Context) error) error {
	p := pool.New().WithErrors().WithContext(bg).WithCancelOnError()
	if limit > 0 {
		p = p.WithMaxGoroutines(limit)
	}
	for range n {
		p.Go(task)
	}
	return p.Wait()
}

func nurserySpawn(n, limit int, task func(context.Context) error, opts ...nursery.Option) error {
	body := func(ctx context.Context, nu *nursery.Nursery) error {
		for range n {
			nu.Go(task)
		}
		return nil
	}
	if limit > 0 {
		return nursery.Run(bg, body, append(opts, nursery.WithLimit(limit))...)
	}
	return nursery.Run(bg, body, opts...)
}

// ---------------------------------------------------------------------------
// Cancellation: n tasks blocked on ctx.Done() return ctx.Err() once
// cancelled; one more task fails when triggered. Only the time from the
// trigger until the join returns is measured (the window).

// A window measures one failure→return window: its time, and with allocs its
// allocations. b's timer never runs outside windows, and inside one only if
// clock is set.
type window struct {
	b      *testing.B
	allocs bool
	clock  bool

	t0             time.Time
	d              time.Duration
	m0, m1         runtime.MemStats // fields, so that reading them allocates nothing
	mallocs, bytes uint64           // summed over the windows
}

// open starts the window: everything before it is setup.
func (w *window) open() {
	if w.allocs {
		runtime.ReadMemStats(&w.m0)
	}
	if w.clock {
		w.b.StartTimer()
	}
	w.t0 = time.Now()
}

// close ends the window right after the join returned.
func (w *window) close() {
	w.d = time.Since(w.t0)
	if w.clock {
		w.b.StopTimer()
	}
	if w.allocs {
		runtime.ReadMemStats(&w.m1)
		w.mallocs += w.m1.Mallocs - w.m0.Mallocs
		w.bytes += w.m1.TotalAlloc - w.m0.TotalAlloc
	}
}

// A cancelOp is one cancellation of a contender. It times itself with w.
type cancelOp struct {
	name string
	run  func(w *window, n int) error
}

var cancelOps = []cancelOp{
	{"raw", rawCancel},
	{"errgroupctx", errgroupCtxCancel},
	{"conc", concCancel},
	{"nursery", nurseryCancel},
}

// A cancelSetup holds what the blocked and the failing tasks share.
type cancelSetup struct {
	w       *window
	ready   sync.WaitGroup // every task is about to block
	trigger chan struct{}  // closed to make the failing task fail
}

func newCancelSetup(w *window, n int) *cancelSetup {
	w.b.StopTimer()
	s := &cancelSetup{w: w, trigger: make(chan struct{})}
	s.ready.Add(n + 1)
	return s
}

// blocked is the task that waits for the cancellation and echoes it: the
// worst case for a group that must tell echoes from real errors.
func (s *cancelSetup) blocked(ctx context.Context) error {
	s.ready.Done()
	<-ctx.Done()
	return ctx.Err()
}

// fail is the task that fails when triggered.
func (s *cancelSetup) fail(context.Context) error {
	s.ready.Done()
	<-s.trigger
	return errBoom
}

// fire waits until every task is blocked, opens the window and triggers the
// failure.
func (s *cancelSetup) fire() {
	s.ready.Wait()
	// The last task to signal may not have parked yet: let it.
	for range 4 {
		runtime.Gosched()
	}
	s.w.open()
	close(s.trigger)
}

// rawCancel: the blocked tasks' echoes are dropped unexamined; the failing
// task cancels with its error.
func rawCancel(w *window, n int) error {
	s := newCancelSetup(w, n)
	ctx, cancel := context.WithCancelCause(bg)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = s.blocked(ctx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.fail(ctx); err != nil {
			cancel(err)
		}
	}()
	s.fire()
	wg.Wait()
	err := context.Cause(ctx)
	cancel(nil)
	w.close()
	return expectBoom(err)
}

func errgroupCtxCancel(w *window, n int) error {
	s := newCancelSetup(w, n)
	g, ctx := errgroup.WithContext(bg)
	blocked := func() error { return s.blocked(ctx) }
	for range n {
		g.Go(blocked)
	}
	g.Go(func() error { return s.fail(ctx) })
	s.fire()
	err := g.Wait()
	w.close()
	return expectBoom(err)
}

func concCancel(w *window, n int) error {
	s := newCancelSetup(w, n)
	p := pool.New().WithErrors().WithContext(bg).WithCancelOnError()
	blocked := s.blocked
	for range n {
		p.Go(blocked)
	}
	p.Go(s.fail)
	s.fire()
	err := p.Wait()
	w.close()
	return expectBoom(err)
}

func nurseryCancel(w *window, n int) error {
	s := newCancelSetup(w, n)
	blocked, fail := s.blocked, s.fail
	err := nursery.Run(bg, func(ctx context.Context, nu *nursery.Nursery) error {
		for range n {
			nu.Go(blocked)
		}
		nu.Go(fail)
		s.fire()
		return nil
	})
	w.close()
	return expectBoom(err)
}

func expectBoom(err error) error {
	if !errors.Is(err, errBoom) {
		return fmt.Errorf("got %v, want the failing task's error", err)
	}
	return nil
}

// ---------------------------------------------------------------------------
// The interleaved benchmarks.

// A timed contender runs its operation batch times and returns the time to
// put down to it.
type timed struct {
	name string
	run  func(batch int) time.Duration
}

// The ratios the nursery benchmarks report.
var nurseryRatios = [][2]string{
	{"nursery", "raw"},
	{"nursery", "errgroupctx"},
	{"errgroup", "raw"},
	{"errgroupctx", "raw"},
	{"conc", "raw"},
	{"tracked", "nursery"},
}

// interleave runs every contender once per iteration, starting with a
// different one each iteration, and reports each one's mean ns/op and the
// given ratios between them. A ratio is the median over the iterations of the
// ratio of the two contenders' times in the same iteration, so that a pause
// that hits one iteration skews neither it nor the others.
func interleave(b *testing.B, batch int, cs []timed, ratios [][2]string) {
	times := make([][]time.Duration, len(cs)) // times[k][i]: contender k, iteration i
	for k := range times {
		times[k] = make([]time.Duration, 0, b.N)
	}
	for i := 0; i < b.N; i++ {
		for j := range cs {
			k := (i + j) % len(cs)
			times[k] = append(times[k], cs[k].run(batch))
		}
	}
	names := make([]string, len(cs))
	for k, c := range cs {
		names[k] = c.name
	}
	reportTimes(b, names, times, batch, "op", ratios)
}

// reportTimes reports each contender's mean time per unit (the iteration's
// time over per units) and the median same-iteration ratios asked for;
// times[k][i] is contender k's time in iteration i.
func reportTimes(b *testing.B, names []string, times [][]time.Duration, per int, unit string, ratios [][2]string) {
	index := make(map[string]int, len(names))
	for k, name := range names {
		index[name] = k
		var total time.Duration
		for _, d := range times[k] {
			total += d
		}
		b.ReportMetric(float64(total.Nanoseconds())/float64(b.N)/float64(per), name+"-ns/"+unit)
	}
	for _, r := range ratios {
		num, ok1 := index[r[0]]
		den, ok2 := index[r[1]]
		if ok1 && ok2 {
			b.ReportMetric(medianRatio(times[num], times[den]), r[0]+"/"+r[1])
		}
	}
}

// medianRatio is the median of num[i]/den[i].
func medianRatio(num, den []time.Duration) float64 {
	rs := make([]float64, 0, len(num))
	for i := range num {
		if den[i] > 0 {
			rs = append(rs, float64(num[i])/float64(den[i]))
		}
	}
	if len(rs) == 0 {
		return 0
	}
	slices.Sort(rs)
	m := len(rs) / 2
	if len(rs)%2 == 0 {
		return (rs[m-1] + rs[m]) / 2
	}
	return rs[m]
}

// timeSpawn turns spawn ops into timed contenders.
func timeSpawn(b *testing.B, ops []op) []timed {
	cs := make([]timed, len(ops))
	for i, o := range ops {
		cs[i] = timed{o.name, func(batch int) time.Duration {
			t0 := time.Now()
			for range batch {
				if err := o.run(); err != nil {
					b.Fatalf("%s: %v", o.name, err)
				}
			}
			return time.Since(t0)
		}}
	}
	return cs
}

// batchFor is how many operations are timed together: enough for N=1 that
// the two clock reads around them cost next to nothing.
func batchFor(n int) int {
	if n == 1 {
		return 64
	}
	return 1
}

// BenchmarkSpawnJoin starts N trivial tasks and waits for them.
func BenchmarkSpawnJoin(b *testing.B) {
	for _, n := range []int{1, 100, 10000} {
		b.Run("N="+strconv.Itoa(n), func(b *testing.B) {
			interleave(b, batchFor(n), timeSpawn(b, spawnOps(n, 0)), nurseryRatios)
		})
	}
}

// BenchmarkLimit8 starts N trivial tasks, at most 8 at once.
func BenchmarkLimit8(b *testing.B) {
	const n = 10000
	b.Run("N="+strconv.Itoa(n), func(b *testing.B) {
		interleave(b, 1, timeSpawn(b, spawnOps(n, 8)), nurseryRatios)
	})
}

// BenchmarkCancel measures the time from a task's failure until the join
// returns, with N tasks blocked on ctx.Done() that return ctx.Err().
//
// b's timer runs only in the window of the first contender of each
// iteration, which rotates, so the benchmark's own ns/op is the mean window
// over the contenders; and as the setup (starting N goroutines four times)
// costs more than the windows, this gives each run about four times as many
// iterations, and steadier ratios, for the same benchtime.
func BenchmarkCancel(b *testing.B) {
	const n = 10000
	b.Run("N="+strconv.Itoa(n), func(b *testing.B) {
		w := &window{b: b}
		calls := 0
		cs := make([]timed, len(cancelOps))
		for i, o := range cancelOps {
			cs[i] = timed{o.name, func(int) time.Duration {
				w.clock = calls%len(cancelOps) == 0 // the first of the iteration
				calls++
				if err := o.run(w, n); err != nil {
					b.Fatalf("%s: %v", o.name, err)
				}
				return w.d
			}}
		}
		interleave(b, 1, cs, nurseryRatios)
	})
}

// ---------------------------------------------------------------------------
// The allocation benchmarks, one contender at a time.

// BenchmarkAllocs reports allocs/op and B/op of each contender in each case;
// for N=10000 also per task. For the cancellation case, window-allocs/op and
// window-B/op count only what is allocated between the failure and the
// return of the join (the testing package's allocs/op counts the same, as
// the timer runs only in the window).
func BenchmarkAllocs(b *testing.B) {
	spawnCases := []struct {
		name     string
		n, limit int
	}{
		{"spawn-N=1", 1, 0},
		{"spawn-N=100", 100, 0},
		{"spawn-N=10000", 10000, 0},
		{"limit8-N=10000", 10000, 8},
	}
	for _, c := range spawnCases {
		for _, o := range spawnOps(c.n, c.limit) {
			b.Run(c.name+"/"+o.name, func(b *testing.B) {
				b.ReportAllocs()
				var m0, m1 runtime.MemStats
				runtime.ReadMemStats(&m0)
				for i := 0; i < b.N; i++ {
					if err := o.run(); err != nil {
						b.Fatalf("%s: %v", o.name, err)
					}
				}
				runtime.ReadMemStats(&m1)
				if c.n >= 10000 {
					tasks := float64(b.N) * float64(c.n)
					b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/tasks, "allocs/task")
					b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/tasks, "B/task")
				}
			})
		}
	}
	const n = 10000
	for _, o := range cancelOps {
		b.Run("cancel-N="+strconv.Itoa(n)+"/"+o.name, func(b *testing.B) {
			b.ReportAllocs()
			w := &window{b: b, allocs: true, clock: true}
			b.ResetTimer() // forget the allocation of w
			for i := 0; i < b.N; i++ {
				if err := o.run(w, n); err != nil {
					b.Fatalf("%s: %v", o.name, err)
				}
			}
			b.ReportMetric(float64(w.mallocs)/float64(b.N), "window-allocs/op")
			b.ReportMetric(float64(w.bytes)/float64(b.N), "window-B/op")
		})
	}
}
