package barego

import (
	"context"
	"servers"
	"sync/atomic"
	"time"
	"web"
)

// Not reported: the goroutine runs the server's Main, and Exit, a method of
// the same type in another package, waits for what Main leaves running;
// whoever holds the server can call it.
type program struct{ srv *servers.Server }

func (p *program) Start(ln web.Listener) {
	p.srv = servers.New(ln)
	go func() {
		if err := p.srv.Main(); err != nil {
			p.Stop()
		}
	}()
}

func (p *program) Stop() { p.srv.Exit() }

func startReturned(ln web.Listener) *servers.Server {
	srv := servers.New(ln)
	go srv.Main()
	return srv
}

// Not reported: the function calls the method that waits, on every path
// (web.Server.Shutdown, like net/http's, waits for Serve's listener loop).
func serveUntilDone(ctx context.Context, l web.Listener) {
	srv := &web.Server{}
	go srv.Serve(l)
	<-ctx.Done()
	srv.Shutdown(context.Background())
}

// Reported: nothing can call the method that waits.
func serveForever(l web.Listener) {
	srv := &web.Server{}
	go srv.Serve(l) // want `SV002: nothing waits for this goroutine before serveForever returns`
}

// Reported: a path skips the method that waits.
func serveUntil(ctx context.Context, l web.Listener, check func() error) error {
	srv := &web.Server{}
	go srv.Serve(l) // want `SV002: this goroutine outlives serveUntil: the return on line 53 is reached without waiting for it`
	if err := check(); err != nil {
		return err
	}
	<-ctx.Done()
	return srv.Shutdown(context.Background())
}

// Reported: Stop tells Run to end, but no method waits for it to.
func startTicker() *servers.Ticker {
	t := servers.NewTicker()
	go t.Run() // want `SV002: nothing waits for this goroutine before startTicker returns`
	return t
}

// Not reported: Release polls the flag that the purge goroutine sets as it
// ends.
type pool struct {
	purgeDone int32
	stopped   atomic.Bool
}

func newPool() *pool {
	p := &pool{}
	go p.purge()
	return p
}

func (p *pool) purge() {
	defer atomic.StoreInt32(&p.purgeDone, 1)
	for !p.stopped.Load() {
		time.Sleep(time.Second)
	}
}

func (p *pool) Release() {
	p.stopped.Store(true)
	for atomic.LoadInt32(&p.purgeDone) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
}

// Reported: the flag is set, but nothing polls it.
type lazyPool struct{ done atomic.Bool }

func newLazyPool() *lazyPool {
	p := &lazyPool{}
	go p.purge() // want `SV002: nothing waits for this goroutine before newLazyPool returns`
	return p
}

func (p *lazyPool) purge() {
	defer p.done.Store(true)
	time.Sleep(time.Second)
}

// Reported: Shutdown waits for Serve, not for the send after it, which
// blocks forever once serveAndReport has returned on Shutdown's error.
func serveAndReport(ctx context.Context, l web.Listener) error {
	srv := &web.Server{}
	errc := make(chan error)
	go func() { errc <- srv.Serve(l) }() // want `SV002: this goroutine outlives serveAndReport: the return on line 115 is reached without waiting for it`
	<-ctx.Done()
	if err := srv.Shutdown(context.Background()); err != nil {
		return err
	}
	return <-errc
}

// Reported: a channel used as a lock (sent on and received from by the
// same method) joins nothing, though a method sends on it as it ends.
type lockedConn struct{ mu chan struct{} }

func (c *lockedConn) Write(b []byte) {
	<-c.mu
	defer func() { c.mu <- struct{}{} }()
}

func (c *lockedConn) Flush() {
	<-c.mu
	defer func() { c.mu <- struct{}{} }()
}

func writeLater(c *lockedConn, b []byte) {
	go c.Write(b) // want `SV002: nothing waits for this goroutine before writeLater returns`
}

// Reported: the goroutine runs a loop of its own that calls Main; a Main
// that returns does not end it.
func restartForever(p *program) {
	go func() { // want `SV002: nothing waits for this goroutine before restartForever returns`
		for {
			_ = p.srv.Main()
		}
	}()
}

// Not reported: Stop polls, in a loop that also gives up, the flag the
// goroutine sets as it ends.
type sweeper struct{ swept atomic.Bool }

func startSweeper() *sweeper {
	s := &sweeper{}
	go s.sweep()
	return s
}

func (s *sweeper) sweep() {
	time.Sleep(time.Second)
	s.swept.Store(true)
}

func (s *sweeper) Stop(d time.Duration) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if s.swept.Load() {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

// Reported: a flag set on the way in, and reset on the way out, says
// nothing about the end.
type fastPath struct{ term atomic.Uint64 }

func (f *fastPath) send() {
	f.term.Store(1)
	defer f.term.Store(0)
	time.Sleep(time.Second)
}

func (f *fastPath) wait() {
	for f.term.Load() != 0 {
		time.Sleep(time.Millisecond)
	}
}

func startSend(f *fastPath) {
	go f.send() // want `SV002: nothing waits for this goroutine before startSend returns`
}

// Not reported: the server, a value, is closed by the function handed
// back, and web.Server.Close, like net/http's, waits for the Serve loop.
func serveMetrics(l web.Listener) (stop func()) {
	server := web.Server{}
	go func() {
		if err := server.Serve(l); err != nil && err != web.ErrServerClosed {
			panic(err)
		}
	}()
	return func() { _ = server.Close() }
}

// Not reported: the collector's every exit sends on done as its last act,
// and Stop, a method of the same type, receives it.
type collector struct {
	events chan int
	done   chan struct{}
}

func (c *collector) collect() {
	go func() {
		for {
			e, ok := <-c.events
			if !ok {
				c.done <- struct{}{}
				return
			}
			_ = e
		}
	}()
}

func (c *collector) Stop() {
	close(c.events)
	<-c.done
}

// Reported: the goroutine's own use of the server does not hand it to
// anyone who could shut it down.
func serveInLiteral(l web.Listener) {
	srv := &web.Server{}
	go func() { // want `SV002: nothing waits for this goroutine before serveInLiteral returns`
		if err := srv.Serve(l); err != nil {
			_ = srv.Close()
		}
	}()
}

// Reported: IsRunning looks at the channel Run closes, without waiting on
// it: it joins nothing.
type router struct {
	running chan struct{}
	closed  chan struct{}
}

func (r *router) Run() {
	defer close(r.running)
	<-r.closed
}

func (r *router) IsRunning() bool {
	select {
	case <-r.running:
		return false
	default:
		return true
	}
}

func runRouter(r *router) {
	go r.Run() // want `SV002: nothing waits for this goroutine before runRouter returns`
	_ = r.IsRunning()
}
