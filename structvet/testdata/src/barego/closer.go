package barego

import "sync"

// A counter of goroutines of the program's own, whose methods have other
// names than a sync.WaitGroup's.
type closer struct {
	wg   sync.WaitGroup
	stop chan struct{}
}

func newCloser(n int) *closer {
	c := &closer{stop: make(chan struct{})}
	c.wg.Add(n)
	return c
}

func (c *closer) AddRunning(n int)               { c.wg.Add(n) }
func (c *closer) Done()                          { c.wg.Done() }
func (c *closer) Signal()                        { close(c.stop) }
func (c *closer) Wait()                          { c.wg.Wait() }
func (c *closer) SignalAndWait()                 { c.Signal(); c.Wait() }
func (c *closer) HasBeenClosed() <-chan struct{} { return c.stop }

// Not reported: counted in a closer the function waits on.
func benchmark(readers int) {
	c := newCloser(0)
	for range readers {
		c.AddRunning(1)
		go read(c)
	}
	c.SignalAndWait()
}

func read(c *closer) {
	defer c.Done()
	<-c.HasBeenClosed()
}

// Not reported: counted in a closer kept in the struct, whose Close waits.
type store struct {
	closers struct{ flush *closer }
}

func openStore() *store {
	s := &store{}
	s.closers.flush = newCloser(1)
	go s.flushLoop(s.closers.flush)
	return s
}

func (s *store) flushLoop(c *closer) {
	defer c.Done()
	<-c.HasBeenClosed()
}

func (s *store) Close() { s.closers.flush.SignalAndWait() }

// Reported: the closer is never waited on.
func forgotten() {
	c := newCloser(1)
	go read(c) // want `SV002: nothing waits for this goroutine before forgotten returns`
}
