package barego

import (
	"context"
	"io"
	"sync"
)

// Reported: the receive sees the pump start, not end; it reads on after
// startPump returns.
func startPump(r io.Reader, handle func([]byte)) {
	started := make(chan struct{})
	go pump(r, handle, started) // want `SV002: nothing waits for this goroutine before startPump returns \(the wait on started sees it start, not end\)`
	<-started
}

func pump(r io.Reader, handle func([]byte), started chan<- struct{}) {
	close(started)
	for {
		buf := make([]byte, 512)
		n, err := r.Read(buf)
		if err != nil {
			return
		}
		handle(buf[:n])
	}
}

func startLoop(ticks <-chan int) {
	var ready sync.WaitGroup
	ready.Add(1)
	go func() { // want `SV002: nothing waits for this goroutine before startLoop returns \(the wait on ready sees it start, not end\)`
		ready.Done()
		for range ticks {
		}
	}()
	ready.Wait()
}

// Not reported: it says it started, then that it ended, and both are
// waited for.
func startThenJoin(ticks <-chan int) {
	started, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		close(started)
		for range ticks {
		}
	}()
	<-started
	<-done
}

// Not reported: the signal is the last thing the goroutine does that
// waits; what follows ends by itself.
func sendThenTidy(items []int) int {
	res := make(chan int)
	go func() {
		sum := 0
		for _, it := range items {
			sum += it
		}
		res <- sum
		for i := range items {
			items[i] = 0
		}
	}()
	return <-res
}

// Reported, and the receive from errc is a wait for the end: what follows
// the send is another send, not work.
func readOrGiveUp(ctx context.Context, r io.Reader) error {
	errc, data := make(chan error, 1), make(chan []byte, 1)
	go func() { // want `SV002: this goroutine outlives readOrGiveUp: the return on line 85 is reached without waiting for it; start it`
		buf := make([]byte, 1)
		_, err := r.Read(buf)
		errc <- err
		data <- buf
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
