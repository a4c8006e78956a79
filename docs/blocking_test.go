//go:build go1.25

package docs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/structured-go/structured/nursery"
)

// A blocking call that takes no ctx (a Read) is ended by closing what it
// blocks on when ctx ends: context.AfterFunc. The task then returns the
// ctx's error, not the Read's, so that the nursery knows it for the echo
// of its own cancellation.
func Example_blockingCall() {
	client, server := net.Pipe()
	defer server.Close()
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			stop := context.AfterFunc(ctx, func() { client.Close() })
			defer stop()
			buf := make([]byte, 64)
			_, err := client.Read(buf) // blocks: nobody writes
			if ctx.Err() != nil {
				return ctx.Err() // the Read failed because ctx ended
			}
			return err
		})
		n.Go(func(ctx context.Context) error {
			return errors.New("handshake: bad certificate")
		})
		return nil
	})
	fmt.Println(err)
	// Output: handshake: bad certificate
}

// countPrimes counts the primes in [lo, hi): work for a CPU, not a wait.
func countPrimes(lo, hi int) int {
	count := 0
	for n := max(lo, 2); n < hi; n++ {
		prime := true
		for d := 2; d*d <= n; d++ {
			if n%d == 0 {
				prime = false
				break
			}
		}
		if prime {
			count++
		}
	}
	return count
}

// CPU-bound work: as many tasks at once as there are cores to run them.
// More would not finish sooner; they would only take turns.
func Example_cpuBound() {
	chunks := []int{0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000}
	counts, err := nursery.Map(context.Background(), chunks, func(ctx context.Context, lo int) (int, error) {
		if err := ctx.Err(); err != nil {
			return 0, err // a chunk that has not started yet need not
		}
		return countPrimes(lo, lo+10_000), nil
	}, nursery.WithLimit(runtime.GOMAXPROCS(0)))
	total := 0
	for _, c := range counts {
		total += c
	}
	fmt.Println(counts[:3], total, err)
	// Output: [1229 1033 983] 7837 <nil>
}

// readAbandoning is the trap: it gives up waiting when ctx ends, and leaves
// the goroutine blocked in Read behind it.
func readAbandoning(ctx context.Context, r io.Reader, returned *atomic.Bool) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() { //structvet:ignore SV002 the trap this page shows: structvet reports it
		defer returned.Store(true)
		buf := make([]byte, 64)
		n, err := r.Read(buf)
		ch <- result{buf[:n], err}
	}()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-ctx.Done():
		return nil, ctx.Err() // the Read goes on, with nobody waiting for it
	}
}

func Example_blockingTrapAbandon() {
	client, server := net.Pipe()
	ctx, stop := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer stop()
	var returned atomic.Bool
	_, err := readAbandoning(ctx, client, &returned)
	fmt.Println(err)
	fmt.Println("the goroutine's Read had returned:", returned.Load())
	client.Close() // the clean-up the trap never does
	server.Close()
	// Output:
	// context deadline exceeded
	// the goroutine's Read had returned: false
}
