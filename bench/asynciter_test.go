package bench

// Benchmarks of asynciter beside the usual ways of streaming values between
// goroutines, interleaved per iteration as in nursery_test.go: every b.N
// iteration runs each contender once over the same items, starting with a
// different contender each time, and times each separately. Each reports
// "CONTENDER-ns/item", its mean time per item, and ratios such as
// "asynciter/rill", the median over the iterations of the two contenders'
// times in the same iteration. BenchmarkStreamAllocs runs one contender at a
// time to count its allocations.
//
// The cases:
//
//	Generate  a producer goroutine makes 1e6 ints, the consumer sums them
//	OrderedMap    4 workers map 1e5 ints with a trivial function, results in input order
//	UnorderedMap  the same, results in finishing order
//
// The contenders:
//
//	chan       a plain buffered channel (capacity 64): no ctx, no cleanup on early exit
//	handctx    the careful hand-written producer: a buffered channel (64), a
//	           select on ctx.Done() at each send, cancel and wait on exit
//	rill       github.com/destel/rill: Generate, OrderedMap, Map
//	conc       github.com/sourcegraph/conc/stream, 4 goroutines (ordered only)
//	handpool   hand-written pool for the unordered case: 4 workers between two channels
//	asynciter  asynciter.Generate (lazy: WithBuffer(0), the producer a coroutine
//	           of the loop), Map with WithLimit(4)
//	asynciter64  asynciter.Generate with WithBuffer(64), the look-ahead of the channels

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/destel/rill"
	"github.com/sourcegraph/conc/stream"

	"github.com/structured-go/structured/asynciter"
)

const (
	genItems = 1_000_000
	mapItems = 100_000
	workers  = 4
)

// A streamOp is one contender's run over n items; it returns a checksum.
type streamOp struct {
	name string
	run  func(n int) int
}

// interleaveItems is interleave with times per item.
func interleaveItems(b *testing.B, n, want int, ops []streamOp, ratios [][2]string) {
	times := make([][]time.Duration, len(ops))
	for i := 0; i < b.N; i++ {
		for j := range ops {
			k := (i + j) % len(ops)
			t0 := time.Now()
			got := ops[k].run(n)
			times[k] = append(times[k], time.Since(t0))
			if got != want {
				b.Fatalf("%s: checksum %d, want %d", ops[k].name, got, want)
			}
		}
	}
	names := make([]string, len(ops))
	for k, o := range ops {
		names[k] = o.name
	}
	reportTimes(b, names, times, n, "item", ratios)
}

func sumTo(n int) int { return n * (n - 1) / 2 }

// ---------------------------------------------------------------------------
// Generate: 1e6 ints from a producer goroutine to a summing consumer.

var genOps = []streamOp{
	{"chan", func(n int) int {
		ch := make(chan int, 64)
		go func() {
			for i := range n {
				ch <- i
			}
			close(ch)
		}()
		sum := 0
		for v := range ch {
			sum += v
		}
		return sum
	}},
	{"handctx", func(n int) int {
		ctx, stop := context.WithCancel(bg)
		ch := make(chan int, 64)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(ch)
			for i := range n {
				select {
				case ch <- i:
				case <-ctx.Done():
					return
				}
			}
		}()
		sum := 0
		for v := range ch {
			sum += v
		}
		stop()
		wg.Wait()
		return sum
	}},
	{"rill", func(n int) int {
		sum := 0
		for x := range rill.Generate(func(send func(int), sendErr func(error)) {
			for i := range n {
				send(i)
			}
		}) {
			sum += x.Value
		}
		return sum
	}},
	{"asynciter", func(n int) int { return asyncGen(n) }},
	{"asynciter64", func(n int) int { return asyncGen(n, asynciter.WithBuffer(64)) }},
}

func asyncGen(n int, opts ...asynciter.Option) int {
	sum := 0
	for v, err := range asynciter.Generate(bg, func(ctx context.Context, yield func(int) bool) error {
		for i := range n {
			if !yield(i) {
				return nil
			}
		}
		return nil
	}, opts...) {
		if err != nil {
			panic(err)
		}
		sum += v
	}
	return sum
}

// BenchmarkGenerate: a producer goroutine makes 1e6 ints, the consumer sums
// them.
func BenchmarkGenerate(b *testing.B) {
	interleaveItems(b, genItems, sumTo(genItems), genOps, [][2]string{
		{"asynciter64", "handctx"},
		{"asynciter64", "chan"},
		{"asynciter64", "rill"},
		{"asynciter", "rill"},
		{"asynciter", "chan"},
		{"asynciter", "handctx"},
		{"handctx", "chan"},
	})
}

// ---------------------------------------------------------------------------
// Map: 4 workers, a trivial function.

func inc(x int) (int, error)                       { return x + 1, nil }
func incCtx(_ context.Context, x int) (int, error) { return x + 1, nil }
func mapSum(n int) int                             { return sumTo(n) + n }
func sliceOf(n int) []int                          { s := make([]int, n); fill(s); return s }
func fill(s []int) {
	for i := range s {
		s[i] = i
	}
}

var mapInput = sliceOf(mapItems)

// orderedCheck sums the results and checks their order.
func orderedCheck(prev *int, v int) {
	if v != *prev+1 {
		panic("out of order")
	}
	*prev = v
}

var orderedOps = []streamOp{
	{"rill", func(n int) int {
		sum, prev := 0, 0
		for x := range rill.OrderedMap(rill.FromSlice(mapInput[:n], nil), workers, inc) {
			orderedCheck(&prev, x.Value)
			sum += x.Value
		}
		return sum
	}},
	{"conc", func(n int) int {
		sum, prev := 0, 0
		s := stream.New().WithMaxGoroutines(workers)
		for _, v := range mapInput[:n] {
			s.Go(func() stream.Callback {
				r, _ := inc(v)
				return func() { orderedCheck(&prev, r); sum += r }
			})
		}
		s.Wait()
		return sum
	}},
	{"asynciter", func(n int) int {
		sum, prev := 0, 0
		for v, err := range asynciter.Map(bg, slices.Values(mapInput[:n]), incCtx, asynciter.WithLimit(workers)) {
			if err != nil {
				panic(err)
			}
			orderedCheck(&prev, v)
			sum += v
		}
		return sum
	}},
}

// BenchmarkOrderedMap: 4 workers map 1e5 ints, results in input order.
func BenchmarkOrderedMap(b *testing.B) {
	interleaveItems(b, mapItems, mapSum(mapItems), orderedOps, [][2]string{
		{"asynciter", "rill"},
		{"asynciter", "conc"},
		{"conc", "rill"},
	})
}

var unorderedOps = []streamOp{
	{"handpool", func(n int) int {
		in := make(chan int)
		out := make(chan int)
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for v := range in {
					r, _ := inc(v)
					out <- r
				}
			}()
		}
		go func() {
			for _, v := range mapInput[:n] {
				in <- v
			}
			close(in)
			wg.Wait()
			close(out)
		}()
		sum := 0
		for v := range out {
			sum += v
		}
		return sum
	}},
	{"rill", func(n int) int {
		sum := 0
		for x := range rill.Map(rill.FromSlice(mapInput[:n], nil), workers, inc) {
			sum += x.Value
		}
		return sum
	}},
	{"asynciter", func(n int) int {
		sum := 0
		for v, err := range asynciter.Map(bg, slices.Values(mapInput[:n]), incCtx, asynciter.WithLimit(workers), asynciter.WithUnordered()) {
			if err != nil {
				panic(err)
			}
			sum += v
		}
		return sum
	}},
}

// BenchmarkUnorderedMap: 4 workers map 1e5 ints, results as they finish.
func BenchmarkUnorderedMap(b *testing.B) {
	interleaveItems(b, mapItems, mapSum(mapItems), unorderedOps, [][2]string{
		{"asynciter", "rill"},
		{"asynciter", "handpool"},
		{"rill", "handpool"},
	})
}

// ---------------------------------------------------------------------------
// Allocations, one contender at a time.

func BenchmarkStreamAllocs(b *testing.B) {
	cases := []struct {
		name string
		n    int
		ops  []streamOp
	}{
		{"Generate", genItems / 10, genOps},
		{"OrderedMap", mapItems / 10, orderedOps},
		{"UnorderedMap", mapItems / 10, unorderedOps},
	}
	for _, c := range cases {
		for _, o := range c.ops {
			b.Run(c.name+"/"+o.name, func(b *testing.B) {
				b.ReportAllocs()
				var m0, m1 runtime.MemStats
				runtime.ReadMemStats(&m0)
				for range b.N {
					o.run(c.n)
				}
				runtime.ReadMemStats(&m1)
				items := float64(b.N) * float64(c.n)
				b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/items, "allocs/item")
				b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/items, "B/item")
			})
		}
	}
}
