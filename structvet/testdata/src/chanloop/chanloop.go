package chanloop

import (
	"context"
	"time"

	"github.com/structured-go/structured/nursery"
	"golang.org/x/sync/errgroup"
)

func producer(ctx context.Context, items []int) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		for _, it := range items {
			out <- it // want `^SV007: this send on out in a loop blocks forever once the receiver stops: select on it and on ctx.Done\(\)$`
		}
	}()
	return out
}

// Reported: the consumer may return before the producer is done.
func earlyConsumer(ctx context.Context, items []int) error {
	res := make(chan error)
	go func() {
		for range items {
			res <- nil // want `SV007: this send on res`
		}
		close(res)
	}()
	for err := range res {
		if err != nil {
			return err
		}
	}
	return nil
}

func inGroup(ctx context.Context, items []int, out chan<- int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		for _, it := range items {
			out <- it // want `SV007: this send on out`
		}
		return nil
	})
	return g.Wait()
}

func consumer(ctx context.Context, n *nursery.Nursery, in <-chan int) {
	n.Go(func(ctx context.Context) error {
		for {
			v := <-in // want `SV007: this receive from in in a loop blocks forever once the sender stops without closing it: select on it and on ctx.Done\(\)`
			_ = v
		}
	})
}

func sendInCaseBody(ctx context.Context, items []int, out chan<- error) {
	go func() {
		for range items {
			select {
			case <-ctx.Done():
				out <- ctx.Err() // want `SV007`
				return
			default:
			}
		}
	}()
}

// Not reported.
func withSelect(ctx context.Context, items []int) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		for _, it := range items {
			select {
			case out <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func rangeOverChannel(ctx context.Context, in <-chan int) {
	go func() {
		for v := range in {
			_ = v
		}
	}()
}

func sized(ctx context.Context, items []int) <-chan int {
	out := make(chan int, len(items))
	go func() {
		for _, it := range items {
			out <- it
		}
	}()
	return out
}

func drainedOnReturn(ctx context.Context, items []int) {
	out := make(chan int)
	go func() {
		defer close(out)
		for _, it := range items {
			out <- it
		}
	}()
	defer func() {
		for range out {
		}
	}()
	<-out
}

func timers(ctx context.Context, t *time.Ticker) {
	go func() {
		for {
			<-t.C
			<-time.After(time.Second)
			<-ctx.Done()
		}
	}()
}

func noContext(items []int) {
	out := make(chan int)
	go func() {
		for _, it := range items {
			out <- it
		}
	}()
}

func notInLoop(ctx context.Context) {
	ch := make(chan int)
	go func() { ch <- 1 }()
	<-ch
}

// Not reported: the consumer drains the channel to its end.
func drainedByConsumer(ctx context.Context, items []int) int {
	res := make(chan int)
	go func() {
		defer close(res)
		for _, it := range items {
			res <- it
		}
	}()
	sum := 0
	for v := range res {
		if v < 0 {
			continue
		}
		sum += v
	}
	return sum
}

// Not reported: one response per request, to a requester that waits for it.
func server(ctx context.Context, reqs <-chan int, resps chan<- int) {
	go func() {
		for r := range reqs {
			resps <- r * 2
		}
	}()
}
