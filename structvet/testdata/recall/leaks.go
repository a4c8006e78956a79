// Package leaks holds known leaks, each in the small form of a leak seen
// in real code, to measure structvet's recall: the share of them it finds.
//
// Each leak is marked on the line structvet reports (or should report) with
// a comment:
//
//	// leak SV002: what leaks
//	// missed: what leaks, and why the rules do not see it
//
// The checker's test runs the rules over this module and checks that it
// finds exactly the leaks marked with a rule, and none marked missed.
package leaks

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"example.com/leaks/web"
	"github.com/structured-go/structured/nursery"
	"golang.org/x/sync/errgroup"
)

var errBad = errors.New("bad")

func upload(ctx context.Context, item string) error { return ctx.Err() }
func fetch(ctx context.Context, url string) (string, error) {
	return url, ctx.Err()
}

// The trap of the debugging-leaks recipe: a return between starting the
// goroutines and waiting for them.
func uploadAll(ctx context.Context, items []string, check func() error) error {
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1) // leak SV001: the uploads go on after the early return
		go func() {
			defer wg.Done()
			_ = upload(ctx, it)
		}()
	}
	if err := check(); err != nil {
		return err
	}
	wg.Wait()
	return nil
}

// The trap of the migration guide: a worker that is never told to stop,
// and no Wait.
func workerLeaked(ctx context.Context, work chan int) {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { // leak SV001: no Wait at all
		for {
			select {
			case <-work:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
	work <- 1
}

// A limited group handed to a helper that calls Go on it, while the
// caller's loop returns early.
func spread(ctx context.Context, g *errgroup.Group, item string) error {
	if item == "" {
		return errBad
	}
	g.Go(func() error { return upload(ctx, item) })
	return nil
}

func uploadLimited(ctx context.Context, items []string) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, it := range items {
		if err := spread(ctx, g, it); err != nil { // leak SV001: a helper's goroutines, left behind by the return
			return err
		}
	}
	return g.Wait()
}

// Two early returns: both must be named at once.
func pushAll(ctx context.Context, layers []string, mediaType func() (string, error), manifest func() error) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, l := range layers {
		g.Go(func() error { return upload(ctx, l) }) // leak SV001: the returns on lines 95 and 98
	}
	if _, err := mediaType(); err != nil {
		return err
	}
	if err := manifest(); err != nil {
		return err
	}
	return g.Wait()
}

// A select that gives up on ctx before Wait.
func firstDone(ctx context.Context, items []string) error {
	var g errgroup.Group
	for _, it := range items {
		g.Go(func() error { return upload(ctx, it) }) // leak SV001: the return on ctx.Done
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	default:
	}
	return g.Wait()
}

// The trap of the blocking recipe: give up waiting, leave the Read behind.
func readAbandoning(ctx context.Context, r io.Reader) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() { // leak SV002: the Read goes on after the return on ctx.Done
		buf := make([]byte, 64)
		n, err := r.Read(buf)
		ch <- result{buf[:n], err}
	}()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// A helper returns the channel of the goroutine it started; its caller
// gives up on ctx while the goroutine runs on.
func fetchAsync(ctx context.Context, url string) <-chan string {
	ch := make(chan string)
	go func() {
		s, _ := fetch(ctx, url)
		ch <- s
	}()
	return ch
}

func fetchOrGiveUp(ctx context.Context, url string) (string, error) {
	ch := fetchAsync(ctx, url) // leak SV002: the helper's goroutine blocks on its send
	select {
	case s := <-ch:
		return s, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// A startup handshake taken for a join.
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

func startPump(r io.Reader, handle func([]byte)) {
	started := make(chan struct{})
	go pump(r, handle, started) // leak SV002: the pump runs on after the receive
	<-started
}

// The same with a wait group.
func startLoop(ticks <-chan int, handle func(int)) {
	var ready sync.WaitGroup
	ready.Add(1)
	go func() { // leak SV002: Wait sees the loop start, not end
		ready.Done()
		for t := range ticks {
			handle(t)
		}
	}()
	ready.Wait()
}

// Fire and forget.
func notify(url string) { _ = web.Do(&web.Request{}) }

func handle(w io.Writer) {
	go notify("http://audit/") // leak SV002: nothing waits for the notification
	_, _ = w.Write(nil)
}

// A pipe read in part: on a parse error the writer blocks forever.
func parseStream(write func(io.Writer) error, parse func(io.Reader) error) error {
	pr, pw := io.Pipe()
	go func() { // leak SV002: the writer blocks when parse stops reading
		pw.CloseWithError(write(pw))
	}()
	return parse(pr)
}

// A timeout that leaves the worker blocked on its send.
func withTimeout(work func() int, d time.Duration) (int, error) {
	ch := make(chan int)
	go func() { ch <- work() }() // leak SV002: blocked on the send after the timeout
	select {
	case v := <-ch:
		return v, nil
	case <-time.After(d):
		return 0, errBad
	}
}

// A server that nothing can shut down.
func serve(l web.Listener) {
	srv := &web.Server{}
	go srv.Serve(l) // leak SV002: no one holds srv to call Shutdown
}

// A retry loop that sleeps through cancellation.
func retry(ctx context.Context, try func(context.Context) error, backoff time.Duration) error {
	for {
		if err := try(ctx); err == nil {
			return nil
		}
		time.Sleep(backoff) // leak SV003: the sleep goes on after ctx is done
	}
}

// The trap of the timeouts recipe: a task that passes a fresh context on.
func query(ctx context.Context) error { return ctx.Err() }

func handler(ctx context.Context) error {
	return query(context.Background()) // leak SV004: the deadline does not reach the query
}

// A request made with a fresh context inside a handler.
func proxy(ctx context.Context, url string) error {
	req, err := web.NewRequest(context.Background(), url) // leak SV004: the request outlives the handler's cancellation
	if err != nil {
		return err
	}
	return web.Do(req)
}

// A task that ignores its ctx.
func fetchAll(ctx context.Context, urls []string) error {
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		for _, url := range urls {
			n.Go(func(context.Context) error { _, err := fetch(ctx, url); return err }) // leak SV006: the nursery's cancellation does not reach the fetch
		}
		return nil
	})
}

// A nursery kept past its Run.
type service struct{ n *nursery.Nursery }

func (s *service) start(ctx context.Context) error {
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		s.n = n // leak SV005: Go on it after Run panics
		return nil
	})
}

// The trap of the async iteration recipe: a generator whose consumer stops
// early.
func numbers(ctx context.Context) <-chan int {
	ch := make(chan int)
	go func() {
		defer close(ch)
		for i := range 1000 {
			ch <- i // leak SV007: blocked for ever once the consumer stops
		}
	}()
	return ch
}

// A consumer that waits for a producer that may stop without closing.
func consume(ctx context.Context, n *nursery.Nursery, in <-chan int, handle func(int)) {
	n.Go(func(ctx context.Context) error {
		for {
			handle(<-in) // leak SV007: blocked for ever once the producer stops
		}
	})
}

// Missed, by design: the struct's Close waits for the loop, and the leak is
// in the caller that never calls Close.
type watcher struct {
	wg   sync.WaitGroup
	stop chan struct{}
}

func newWatcher() *watcher {
	w := &watcher{stop: make(chan struct{})}
	w.wg.Add(1)
	go func() { // missed: owned by Close, which no caller calls
		defer w.wg.Done()
		<-w.stop
	}()
	return w
}

func (w *watcher) Close() {
	close(w.stop)
	w.wg.Wait()
}

func useWatcher() {
	_ = newWatcher()
}

// Missed: the first answer wins, the other goroutine blocks for ever on
// its send; a receive on every path counts as a wait for both.
func race(a, b func() int) int {
	ch := make(chan int)
	go func() { ch <- a() }() // missed: one receive joins the two goroutines, as far as the rules see
	go func() { ch <- b() }()
	return <-ch
}

// Missed: a helper that returns the goroutine's channel inside a struct.
type subscription struct{ C <-chan string }

func subscribe(ctx context.Context, url string) subscription {
	ch := make(chan string)
	go func() {
		s, _ := fetch(ctx, url)
		ch <- s
	}()
	return subscription{C: ch}
}

func firstEvent(ctx context.Context) string {
	sub := subscribe(ctx, "x") // missed: the channel comes inside a struct
	select {
	case s := <-sub.C:
		return s
	case <-ctx.Done():
		return ""
	}
}
