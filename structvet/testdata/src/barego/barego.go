package barego

import (
	"context"
	"io"
	"sync"
)

func work() {}

func fireAndForget() {
	go work() // want `^SV002: nothing waits for this goroutine before fireAndForget returns: start it in nursery.Run`
}

func watcher(ctx context.Context, c io.Closer) {
	go func() { // want `SV002: nothing waits for this goroutine before watcher returns`
		<-ctx.Done()
		c.Close()
	}()
}

func leakOnCancel(ctx context.Context) (int, error) {
	ch := make(chan int)
	go func() { ch <- 42 }() // want `SV002: this goroutine outlives leakOnCancel: the return on line 29 is reached without waiting for it`
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func leakOnError(check func() error) error {
	done := make(chan struct{})
	go func() { defer close(done) }() // want `SV002: this goroutine outlives leakOnError: the return on line 37`
	if err := check(); err != nil {
		return err
	}
	<-done
	return nil
}

// A goroutine started in a closure that is not waited for in it.
func inClosure() func() {
	return func() {
		go work() // want `SV002: nothing waits for this goroutine before the function literal returns`
	}
}

// Not reported: joined on every path.
func joinedByDone() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		work()
	}()
	<-done
}

func joinedInDefer() error {
	done := make(chan struct{})
	go func() { defer close(done) }()
	defer func() { <-done }()
	return nil
}

func joinedBySelect(ctx context.Context, serve func() error, shutdown func()) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown()
		return <-errc
	}
}

func collected(items []int) int {
	res := make(chan int)
	for _, it := range items {
		go func() { res <- it * 2 }()
	}
	sum := 0
	for range items {
		sum += <-res
	}
	return sum
}

func drained(items []int) (sum int) {
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
	for v := range out {
		if v < 0 {
			return
		}
		sum += v
	}
	return sum
}

func namedWorker(jobs []int) {
	done := make(chan bool)
	worker := func() { done <- true }
	go worker()
	<-done
}

func passedAsArgument(items []int) {
	res := make(chan int)
	go produce(items, res)
	for range items {
		<-res
	}
}

func produce(items []int, res chan<- int) {
	for _, it := range items {
		res <- it
	}
}

type event struct{ c chan struct{} }

func (e *event) Fire()                 { close(e.c) }
func (e *event) Done() <-chan struct{} { return e.c }

func joinedByEvent() {
	ev := &event{c: make(chan struct{})}
	go func() { defer ev.Fire() }()
	<-ev.Done()
}

func neverReturns() {
	go work()
	select {}
}

// Not reported: rule SV001 checks a local wait group with Add.
func withGroup(c bool) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done() }()
	if c {
		return
	}
	wg.Wait()
}

// Not reported: owned by the caller, or handed to it.
func callersGroup(wg *sync.WaitGroup) {
	go func() { defer wg.Done() }()
}

func callersChannel(out chan<- int) {
	go func() { out <- 1 }()
}

func generate(n int) <-chan int {
	ch := make(chan int)
	go func() {
		defer close(ch)
		for i := range n {
			ch <- i
		}
	}()
	return ch
}

func pipe() io.Reader {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(nil) }()
	return pr
}

func callersPipe(pw *io.PipeWriter) {
	go func() { pw.Close() }()
}

// Reported: a pipe read in the function, maybe not to its end.
func pipeReadHere(parse func(io.Reader) error) error {
	pr, pw := io.Pipe()
	go func() { pw.Close() }() // want `SV002: nothing waits for this goroutine before pipeReadHere returns`
	return parse(pr)
}

// Not reported: owned by a struct whose Close waits for it.
type worker struct {
	wg   sync.WaitGroup
	stop chan struct{}
}

func (w *worker) start() {
	go w.loop()
}

func (w *worker) loop() {
	defer w.finish()
	<-w.stop
}

func (w *worker) finish() { w.wg.Done() }

func (w *worker) Close() {
	close(w.stop)
	w.wg.Wait()
}

type ticker struct{ done chan struct{} }

func newTicker() *ticker {
	t := &ticker{done: make(chan struct{})}
	go t.run()
	return t
}

func (t *ticker) run()                  { defer close(t.done) }
func (t *ticker) Done() <-chan struct{} { return t.done }

// Reported: stopped by Close, but nothing waits for it to end.
type flusher struct{ stop chan struct{} }

func (f *flusher) start() {
	go func() { // want `SV002: nothing waits for this goroutine before flusher.start returns`
		<-f.stop
	}()
}

func (f *flusher) Close() { close(f.stop) }

// Not reported: context.AfterFunc's contract runs f in a goroutine of its
// own.
type afterCtx struct{ context.Context }

func (c afterCtx) AfterFunc(f func()) (stop func() bool) {
	go f()
	return func() bool { return false }
}

// Not reported: the function blocks for ever, as a program's main may.
func blockForever(ticks <-chan int) {
	go func() {
		for range ticks {
		}
	}()
	<-make(chan struct{})
}

// Not reported: the function reads the pipe to its end, which the
// goroutine's last act, closing the writer, gives.
func readAllHere(produce func(io.Writer) error) ([]byte, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(produce(pw)) }()
	return io.ReadAll(pr)
}
