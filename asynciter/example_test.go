//go:build go1.25

package asynciter_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/structured-go/structured/asynciter"
	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
)

// A generator is consumed with range; breaking out of the loop cancels the
// producer and waits for it.
func ExampleGenerate() {
	ctx := context.Background()
	fib := asynciter.Generate(ctx, func(ctx context.Context, yield func(int) bool) error {
		defer fmt.Println("producer: cleaned up")
		a, b := 0, 1
		for yield(a) {
			a, b = b, a+b
		}
		return nil
	})
	for v, err := range fib {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		if v > 50 {
			break
		}
		fmt.Print(v, " ")
	}
	fmt.Println("\nthe loop is over")
	// Output:
	// 0 1 1 2 3 5 8 13 21 34 producer: cleaned up
	//
	// the loop is over
}

// An error of the producer is the last pair of the sequence.
func ExampleGenerate_error() {
	lines := asynciter.Generate(context.Background(), func(ctx context.Context, yield func(string) bool) error {
		for _, l := range []string{"a", "b"} {
			if !yield(l) {
				return nil
			}
		}
		return errors.New("connection reset")
	})
	for line, err := range lines {
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		fmt.Println(line)
	}
	// Output:
	// a
	// b
	// error: connection reset
}

// Map runs fn over the values with up to k calls at once, and yields the
// results in input order.
func ExampleMap() {
	ctx := context.Background()
	words := slices.Values([]string{"structured", "concurrency", "in", "go"})
	upper := func(ctx context.Context, w string) (string, error) {
		return strings.ToUpper(w), nil
	}
	for w, err := range asynciter.Map(ctx, words, upper, asynciter.WithLimit(2)) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println(w)
	}
	// Output:
	// STRUCTURED
	// CONCURRENCY
	// IN
	// GO
}

// With WithUnordered, results come as the calls finish.
func ExampleWithUnordered() {
	ctx := context.Background()
	square := func(ctx context.Context, x int) (int, error) { return x * x, nil }
	for v, err := range asynciter.Map(ctx, slices.Values([]int{1, 2, 3}), square, asynciter.WithUnordered()) {
		if err != nil {
			return
		}
		fmt.Println(v)
	}
	// Unordered output:
	// 1
	// 4
	// 9
}

// The first failure ends the sequence, in its place among the results.
func ExampleMap_error() {
	ctx := context.Background()
	parse := func(ctx context.Context, s string) (int, error) {
		var n int
		_, err := fmt.Sscan(s, &n)
		return n, err
	}
	for n, err := range asynciter.Map(ctx, slices.Values([]string{"1", "2", "x", "4"}), parse) {
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		fmt.Println(n)
	}
	// Output:
	// 1
	// 2
	// error: expected integer
}

// Batch groups values by count, or by time since the first of a batch.
func ExampleBatch() {
	ctx := context.Background()
	ids := asynciter.FromSeq(slices.Values([]int{1, 2, 3, 4, 5, 6, 7}))
	for batch, err := range asynciter.Batch(ctx, ids, 3, time.Second) {
		if err != nil {
			return
		}
		fmt.Println(batch)
	}
	// Output:
	// [1 2 3]
	// [4 5 6]
	// [7]
}

// Merge yields the values of several streams as they come.
func ExampleMerge() {
	ctx := context.Background()
	a := asynciter.FromSeq(slices.Values([]string{"a1", "a2"}))
	b := asynciter.FromSeq(slices.Values([]string{"b1"}))
	for v, err := range asynciter.Merge(ctx, a, b) {
		if err != nil {
			return
		}
		fmt.Println(v)
	}
	// Unordered output:
	// a1
	// a2
	// b1
}

// Tee gives every consumer every value.
func ExampleTee() {
	ctx := context.Background()
	in := asynciter.FromSeq(slices.Values([]int{1, 2, 3}))
	var sum, count int
	err := asynciter.Tee(ctx, in,
		func(ctx context.Context, s iter.Seq2[int, error]) error {
			total, err := asynciter.Reduce(s, 0, func(acc, v int) int { return acc + v })
			sum = total
			return err
		},
		func(ctx context.Context, s iter.Seq2[int, error]) error {
			all, err := asynciter.Collect(s)
			count = len(all)
			return err
		})
	fmt.Println(sum, count, err)
	// Output:
	// 6 3 <nil>
}

// Take stops its input after n values; Filter keeps some.
func ExampleTake() {
	naturals := asynciter.Generate(context.Background(), func(ctx context.Context, yield func(int) bool) error {
		for i := 0; yield(i); i++ {
		}
		return nil
	})
	odd := asynciter.Filter(naturals, func(x int) bool { return x%2 == 1 })
	got, err := asynciter.Collect(asynciter.Take(odd, 4))
	fmt.Println(got, err)
	// Output:
	// [1 3 5 7] <nil>
}

// Memory channels, like trio's: clone a Sender per producer and close every
// handle; the receiver's loop ends when the last one is closed.
func ExampleOpenChannel() {
	send, recv := asynciter.OpenChannel[string](0)
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for _, name := range []string{"ann", "bob"} {
			s, err := send.Clone()
			if err != nil {
				return err
			}
			n.Go(func(ctx context.Context) error {
				defer s.Close()
				return s.Send(ctx, "hello from "+name)
			})
		}
		send.Close() // the clones keep the sending end open
		for msg, err := range recv.All(ctx) {
			if err != nil {
				return err
			}
			fmt.Println(msg)
		}
		return nil
	})
	fmt.Println("done:", err)
	// Unordered output:
	// hello from ann
	// hello from bob
	// done: <nil>
}

// A Queue hands work to a pool of workers; Join waits until every item is
// done, and Shutdown ends the workers' loops.
func ExampleQueue() {
	q := asynciter.NewQueue[int](10)
	results := make([]int, 5)
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 3 {
			n.Go(func(ctx context.Context) error {
				for job, err := range q.All(ctx) {
					if err != nil {
						return err
					}
					results[job] = job * job
					q.TaskDone()
				}
				return nil
			})
		}
		for job := range 5 {
			if err := q.Put(ctx, job); err != nil {
				return err
			}
		}
		err := q.Join(ctx)
		q.Shutdown(false)
		return err
	})
	fmt.Println(results, err)
	// Output:
	// [0 1 4 9 16] <nil>
}

// Throttle passes values on at most one per interval.
func ExampleThrottle() {
	ctx := context.Background()
	ticks := asynciter.Throttle(ctx, asynciter.FromSeq(slices.Values([]string{"a", "b", "c"})), time.Millisecond)
	got, err := asynciter.Collect(ticks)
	fmt.Println(got, err)
	// Output:
	// [a b c] <nil>
}

// MapStream maps over a stream that may fail: here the lines of a
// producer, whose error comes last, after the results of the lines before
// it.
func ExampleMapStream() {
	ctx := context.Background()
	lines := asynciter.Generate(ctx, func(ctx context.Context, yield func(string) bool) error {
		for _, l := range []string{"GET /", "POST /login"} {
			if !yield(l) {
				return nil
			}
		}
		return errors.New("read: connection reset")
	})
	method := func(ctx context.Context, line string) (string, error) {
		m, _, _ := strings.Cut(line, " ")
		return m, nil
	}
	for m, err := range asynciter.MapStream(ctx, lines, method, asynciter.WithLimit(2)) {
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		fmt.Println(m)
	}
	// Output:
	// GET
	// POST
	// error: read: connection reset
}

// Filter keeps the values for which its function reports true, in the
// loop's goroutine.
func ExampleFilter() {
	words := asynciter.FromSeq(slices.Values([]string{"go", "", "iter", ""}))
	got, err := asynciter.Collect(asynciter.Filter(words, func(w string) bool { return w != "" }))
	fmt.Println(got, err)
	// Output: [go iter] <nil>
}

// FlatMap reads the stream that its function makes of each value, one
// after the other.
func ExampleFlatMap() {
	dirs := asynciter.FromSeq(slices.Values([]string{"a", "b"}))
	files := asynciter.FlatMap(dirs, func(dir string) iter.Seq2[string, error] {
		return asynciter.FromSeq(slices.Values([]string{dir + "/1", dir + "/2"}))
	})
	got, err := asynciter.Collect(files)
	fmt.Println(got, err)
	// Output: [a/1 a/2 b/1 b/2] <nil>
}

// FlatMapConcurrent reads up to k of those streams at once, as rill's
// FlatMap does: their values interleave, each stream's in order.
func ExampleFlatMapConcurrent() {
	ctx := context.Background()
	dirs := asynciter.FromSeq(slices.Values([]string{"a", "b", "c"}))
	list := func(ctx context.Context, dir string) iter.Seq2[string, error] {
		return asynciter.FromSeq(slices.Values([]string{dir + "/1", dir + "/2"}))
	}
	for f, err := range asynciter.FlatMapConcurrent(ctx, dirs, list, asynciter.WithLimit(2)) {
		if err != nil {
			return
		}
		fmt.Println(f)
	}
	// Unordered output:
	// a/1
	// a/2
	// b/1
	// b/2
	// c/1
	// c/2
}

// Buffer reads a stream ahead of the loop, in a goroutine of its own, so
// that a slow input and a slow loop body overlap.
func ExampleBuffer() {
	ctx := context.Background()
	in := asynciter.FromSeq(slices.Values([]int{1, 2, 3}))
	got, err := asynciter.Collect(asynciter.Buffer(ctx, in, 16))
	fmt.Println(got, err)
	// Output: [1 2 3] <nil>
}

// Collect returns the values of a stream, and the error that ended it
// with the values before it.
func ExampleCollect() {
	ctx := context.Background()
	in := asynciter.Generate(ctx, func(ctx context.Context, yield func(int) bool) error {
		yield(1)
		yield(2)
		return errors.New("disk full")
	})
	got, err := asynciter.Collect(in)
	fmt.Println(got, err)
	// Output: [1 2] disk full
}

// Reduce folds a stream into one value.
func ExampleReduce() {
	sizes := asynciter.FromSeq(slices.Values([]int{512, 1024, 2048}))
	total, err := asynciter.Reduce(sizes, 0, func(acc, size int) int { return acc + size })
	fmt.Println(total, err)
	// Output: 3584 <nil>
}

// ThrottleWith paces a stream with any Waiter, such as a
// ratelimit.Limiter or x/time/rate's Limiter: before each value it waits
// as the Waiter says, here for one token of a bucket that refills every
// millisecond.
func ExampleThrottleWith() {
	ctx := context.Background()
	limiter := ratelimit.NewLimiter(ratelimit.Every(time.Millisecond), 1)
	got, err := asynciter.Collect(asynciter.ThrottleWith(ctx, asynciter.FromSeq(slices.Values([]string{"a", "b", "c"})), limiter))
	fmt.Println(got, err)
	// Output: [a b c] <nil>
}

// FromChan ranges over a channel that another package's goroutine fills.
// This sender does not watch ctx, so the sequence drains the channel when
// the loop stops early, and the sender can finish.
func ExampleFromChan() {
	ctx := context.Background()
	ch := make(chan int)
	senderDone := make(chan struct{})
	go func() { // another package's producer: it closes ch, and ignores ctx
		defer close(senderDone)
		defer close(ch)
		for i := range 100 {
			ch <- i
		}
	}()
	for v, err := range asynciter.FromChan(ctx, ch, asynciter.DrainOnStop) {
		if err != nil {
			return
		}
		if v == 2 {
			break // FromChan drains ch until the sender closes it
		}
		fmt.Println(v)
	}
	<-senderDone
	fmt.Println("the sender finished")
	// Output:
	// 0
	// 1
	// the sender finished
}

// ToChan hands a stream to code that takes a channel, and stops the
// stream's goroutine when that code returns.
func ExampleToChan() {
	ctx := context.Background()
	sum := func(ch <-chan int) int { // another package's consumer
		total := 0
		for v := range ch {
			total += v
		}
		return total
	}
	in := asynciter.FromSeq(slices.Values([]int{1, 2, 3}))
	err := asynciter.ToChan(ctx, in, func(ctx context.Context, ch <-chan int) error {
		fmt.Println("sum:", sum(ch))
		return nil
	})
	fmt.Println(err)
	// Output:
	// sum: 6
	// <nil>
}

// Settled carries the errors of fn as items, so that the stream goes on
// past a failure, as conc's stream and rill do.
func ExampleSettled() {
	ctx := context.Background()
	parse := func(ctx context.Context, s string) (int, error) {
		var n int
		_, err := fmt.Sscan(s, &n)
		return n, err
	}
	for r, err := range asynciter.Map(ctx, slices.Values([]string{"1", "x", "3"}), asynciter.Settled(parse)) {
		if err != nil {
			fmt.Println("the stream failed:", err)
			return
		}
		if r.Err != nil {
			fmt.Println("skipped:", r.Err)
			continue
		}
		fmt.Println(r.Value)
	}
	// Output:
	// 1
	// skipped: expected integer
	// 3
}

// Sizes: a queue of size 0 is unbounded, as in asyncio; a channel of size
// 0 is a rendezvous, as in trio. Unbounded reads the same for both.
func ExampleNewQueue() {
	q := asynciter.NewQueue[int](asynciter.Unbounded) // asyncio.Queue(): Put never waits
	for i := range 1000 {
		_ = q.TryPut(i)
	}
	fmt.Println("queued:", q.Len())

	s, _ := asynciter.OpenChannel[int](0) // trio.open_memory_channel(0): a rendezvous
	fmt.Println("send with no receiver waiting:", s.TrySend(1))
	// Output:
	// queued: 1000
	// send with no receiver waiting: asynciter: operation would block
}
