package barego

import "sync"

// Generic types: a field is a different object in each method (the
// receiver instantiates the type with its own parameters), so what one
// method closes and another hands out must be matched through the field
// as declared.

// Not reported: a pipeline stage that closes the output it hands out by
// a method, which the next stage reads to its end.
type stage[T any] struct {
	in  chan T
	out chan T
}

func newStage[T any]() *stage[T] {
	s := &stage[T]{in: make(chan T), out: make(chan T)}
	go s.stream()
	return s
}

func (s *stage[T]) Out() <-chan T { return s.out }

func (s *stage[T]) stream() {
	defer close(s.out)
	for v := range s.in {
		s.out <- v
	}
}

// Not reported: the same stage of two type parameters, its goroutine a
// function literal.
type pair[K comparable, V any] struct {
	out chan map[K]V
}

func newPair[K comparable, V any](m map[K]V) *pair[K, V] {
	p := &pair[K, V]{out: make(chan map[K]V, 1)}
	go func() {
		defer close(p.out)
		p.out <- m
	}()
	return p
}

func (p *pair[K, V]) Out() <-chan map[K]V { return p.out }

// Reported: a generic worker that closes a channel nobody reads or
// hands out.
type sink[T any] struct {
	in   chan T
	done chan struct{}
}

func newSink[T any]() *sink[T] {
	s := &sink[T]{in: make(chan T), done: make(chan struct{})}
	go s.drain() // want `SV002: nothing waits for this goroutine before newSink returns`
	return s
}

func (s *sink[T]) drain() {
	defer close(s.done)
	for range s.in {
	}
}

// Not reported: an instance of a generic stage used with a type argument.
func intStage() <-chan int { return newStage[int]().Out() }

// Not reported: a stage whose workers send on the output it hands out and
// which closes it once they are done. The sends come first in the source;
// the close is still the goroutine's last act.
type workerPool[T any] struct {
	in  chan any
	out chan any
	n   int
}

func newWorkerPool[T any](n int) *workerPool[T] {
	p := &workerPool[T]{in: make(chan any), out: make(chan any), n: n}
	go p.stream()
	return p
}

func (p *workerPool[T]) Out() <-chan any { return p.out }

func (p *workerPool[T]) stream() {
	var wg sync.WaitGroup
	for range p.n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range p.in {
				p.out <- e
			}
		}()
	}
	wg.Wait()
	close(p.out)
}

// Reported: the same pool, its output neither handed out nor read.
type hiddenPool struct {
	in  chan any
	out chan any
}

func startHiddenPool() *hiddenPool {
	p := &hiddenPool{in: make(chan any), out: make(chan any, 1)}
	go p.stream() // want `SV002: nothing waits for this goroutine before startHiddenPool returns`
	return p
}

func (p *hiddenPool) stream() {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for e := range p.in {
			p.out <- e
		}
	}()
	wg.Wait()
	close(p.out)
}

// Reported: the goroutine's calls hand a stream's done channel to a
// watcher and close it only in a closure kept for later, which the
// goroutine never calls: that close is not its end.
type stream struct{ done chan struct{} }

func (s *stream) Done() <-chan struct{} { return s.done }

type streamCloser struct{ close func() }

type streamBroker struct {
	streams map[int]*stream
	quit    chan struct{}
}

func watchStream(done chan struct{}) { _ = done }

func (b *streamBroker) accept(id int) *streamCloser {
	p := b.streams[id]
	watchStream(p.done)
	return &streamCloser{close: func() { close(p.done) }}
}

func (b *streamBroker) acceptAndServe(id int) {
	c := b.accept(id)
	_ = c
	<-b.quit
}

func (b *streamBroker) serveNext(id int) int {
	go b.acceptAndServe(id) // want `SV002: nothing waits for this goroutine before streamBroker.serveNext returns`
	return id
}

// Not reported: a stage that forwards to the next one and closes its
// input, a channel a method of the next stage gives; the caller, who gets
// the next stage back, reads it to its end.
type inlet interface{ In() chan<- any }

type forwarder struct{ out chan any }

func (f *forwarder) Via(next inlet) inlet {
	go f.transmit(next)
	return next
}

func (f *forwarder) transmit(next inlet) {
	for e := range f.out {
		next.In() <- e
	}
	close(next.In())
}

// Reported: the same forwarding into a stage of its own, which nobody
// holds.
type dropInlet struct{ in chan any }

func (d *dropInlet) In() chan<- any { return d.in }

func (f *forwarder) drop() {
	next := &dropInlet{in: make(chan any)}
	go f.transmit(next) // want `SV002: nothing waits for this goroutine before forwarder.drop returns`
}
