// Package web is a stand-in, for the known leaks, with the shape of net/http's Server: Serve
// counts its listener in a wait group that Shutdown and Close wait on, so
// that a goroutine running Serve is joined by them.
package web

import (
	"context"
	"errors"
	"sync"
)

var ErrServerClosed = errors.New("web: Server closed")

type Conn interface{ Close() error }

type Listener interface {
	Accept() (Conn, error)
	Close() error
}

type Server struct {
	mu            sync.Mutex
	listenerGroup sync.WaitGroup
	shutdown      bool
}

func (s *Server) Serve(l Listener) error {
	if !s.trackListener(true) {
		return ErrServerClosed
	}
	defer s.trackListener(false)
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		c.Close()
	}
}

func (s *Server) trackListener(add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		s.listenerGroup.Done()
		return true
	}
	if s.shutdown {
		return false
	}
	s.listenerGroup.Add(1)
	return true
}

func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	s.mu.Unlock()
	s.listenerGroup.Wait()
	return ctx.Err()
}

func (s *Server) Close() error { return s.Shutdown(context.Background()) }

// A Request carries the context it was made with.
type Request struct{ ctx context.Context }

func NewRequest(ctx context.Context, url string) (*Request, error) {
	return &Request{ctx: ctx}, ctx.Err()
}

func Do(r *Request) error { return r.ctx.Err() }
