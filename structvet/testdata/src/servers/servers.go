// Package servers holds types whose methods start goroutines and whose
// other methods wait for them: callers learn which through facts.
package servers

import (
	"sync"
	"web"
)

// A waitGroupWrapper runs functions in goroutines counted in its group.
type waitGroupWrapper struct{ sync.WaitGroup }

func (w *waitGroupWrapper) Wrap(f func()) {
	w.Add(1)
	go func() { defer w.Done(); f() }()
}

// A Server runs until Exit. Main serves in goroutines of its group and
// returns the first of their errors; Exit closes the listener and waits for
// them.
type Server struct {
	ln   web.Listener
	wg   waitGroupWrapper
	errc chan error
}

func New(ln web.Listener) *Server { return &Server{ln: ln, errc: make(chan error, 1)} }

func (s *Server) Main() error {
	s.wg.Wrap(func() { s.errc <- s.accept() })
	return <-s.errc
}

func (s *Server) accept() error {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return err
		}
		c.Close()
	}
}

func (s *Server) Exit() {
	s.ln.Close()
	s.wg.Wait()
}

// A Ticker runs until Stop; nothing waits for Run to end.
type Ticker struct {
	quit chan struct{}
	c    chan int
}

func NewTicker() *Ticker { return &Ticker{quit: make(chan struct{}), c: make(chan int)} }

func (t *Ticker) Run() {
	for {
		select {
		case <-t.quit:
			return
		case <-t.c:
		}
	}
}

func (t *Ticker) Stop() { close(t.quit) }
