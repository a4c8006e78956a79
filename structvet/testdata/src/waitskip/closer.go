package waitskip

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

// Reported: the closer's wait is skipped on the early return.
func closerSkipped(check func() error) error {
	c := newCloser(0)
	c.AddRunning(1) // want `SV001: c.AddRunning starts goroutines that outlive closerSkipped: the return on line 31`
	go func() { defer c.Done(); <-c.HasBeenClosed() }()
	if err := check(); err != nil {
		return err
	}
	c.SignalAndWait()
	return nil
}

// Not reported: waited for on every path, with SignalAndWait.
func closerJoined(check func() error) error {
	c := newCloser(0)
	c.AddRunning(1)
	go func() { defer c.Done(); <-c.HasBeenClosed() }()
	err := check()
	c.SignalAndWait()
	return err
}
