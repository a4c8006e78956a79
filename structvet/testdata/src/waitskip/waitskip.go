package waitskip

import (
	"context"
	"errors"
	"sync"

	"golang.org/x/sync/errgroup"
)

var errBad = errors.New("bad")

func work(ctx context.Context) error { return nil }

// An early return between Go and Wait: the goroutines go on.
func earlyReturn(ctx context.Context, items []int) error {
	g, ctx := errgroup.WithContext(ctx)
	for range items {
		g.Go(func() error { return work(ctx) }) // want `^SV001: g.Go starts goroutines that outlive earlyReturn: the return on line 22 is reached without g.Wait; run them in nursery.Run`
	}
	if len(items) > 3 {
		return errBad
	}
	return g.Wait()
}

// A return in the loop, after the Go of an earlier iteration.
func returnInLoop(ctx context.Context, items []int) error {
	var g errgroup.Group
	for _, it := range items {
		if it < 0 {
			return errBad
		}
		g.Go(func() error { return work(ctx) }) // want `SV001: g.Go starts goroutines that outlive returnInLoop: the return on line 32 is reached`
	}
	return g.Wait()
}

func neverWaited() {
	var wg sync.WaitGroup
	wg.Add(1) // want `SV001: wg.Add starts goroutines that outlive neverWaited: the end of neverWaited \(line 45\) is reached without wg.Wait`
	go func() {
		defer wg.Done()
	}()
}

func conditionalWait(c bool) {
	var wg sync.WaitGroup
	wg.Go(func() {}) // want `SV001: wg.Go starts goroutines`
	if c {
		wg.Wait()
	}
}

func selectReturn(ctx context.Context) error {
	g := new(errgroup.Group)
	g.Go(func() error { return work(ctx) }) // want `SV001: g.Go starts goroutines that outlive selectReturn: the return on line 60`
	select {
	case <-ctx.Done():
		return ctx.Err()
	default:
	}
	return g.Wait()
}

func returnInSwitch(ctx context.Context, k int) error {
	g := &errgroup.Group{}
	g.Go(func() error { return work(ctx) }) // want `SV001`
	switch k {
	case 1:
		return nil
	}
	return g.Wait()
}

// Not reported: waited for on every path.
func waited(ctx context.Context, items []int) error {
	g, ctx := errgroup.WithContext(ctx)
	for range items {
		g.Go(func() error { return work(ctx) })
	}
	return g.Wait()
}

func waitedInIf(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return work(ctx) })
	if err := g.Wait(); err != nil {
		return err
	}
	return nil
}

func deferred(items []int) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for range items {
		wg.Add(1)
		go func() { defer wg.Done() }()
	}
	if len(items) > 2 {
		return errBad
	}
	return nil
}

func deferredClosure() error {
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
	}()
	wg.Add(1)
	go func() { defer wg.Done() }()
	return errBad
}

func returnBeforeGo(ctx context.Context, items []int) error {
	if len(items) == 0 {
		return errBad
	}
	var g errgroup.Group
	for range items {
		g.Go(func() error { return work(ctx) })
	}
	return g.Wait()
}

func panicsInstead(c bool) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done() }()
	if c {
		panic("boom")
	}
	wg.Wait()
}

func neverReturns() {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done() }()
	for {
	}
}

// Not reported: the group leaves the function, and its new holder waits.
func returned() *sync.WaitGroup {
	wg := &sync.WaitGroup{}
	wg.Add(1)
	go func() { defer wg.Done() }()
	return wg
}

func passedOn(wait func(*sync.WaitGroup)) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done() }()
	wait(&wg)
}

func waitedByCloser(items []int) []int {
	var wg sync.WaitGroup
	out := make(chan int)
	for _, it := range items {
		wg.Add(1)
		go func() { defer wg.Done(); out <- it }()
	}
	go func() { wg.Wait(); close(out) }()
	var got []int
	for v := range out {
		got = append(got, v)
	}
	return got
}

// Not reported: the caller's group, and a field.
func callersGroup(wg *sync.WaitGroup) {
	wg.Add(1)
	go func() { defer wg.Done() }()
}

type pool struct{ wg sync.WaitGroup }

func (p *pool) start() {
	p.wg.Add(1)
	go func() { defer p.wg.Done() }()
}

// A closure declares a group of its own: it is checked on its own.
func inClosure() func() {
	return func() {
		var wg sync.WaitGroup
		wg.Add(1) // want `SV001: wg.Add starts goroutines that outlive the function literal: the end of the function literal`
		go wg.Done()
	}
}

// Not reported: names for a group that exists elsewhere, and an Add that
// counts no goroutine.
type monitor struct{ wg sync.WaitGroup }

func (m *monitor) group() *sync.WaitGroup { return &m.wg }

func alias(m *monitor) {
	wg := &m.wg
	wg.Add(1)
	go func() { defer wg.Done() }()
}

func getter(m *monitor) {
	wg := m.group()
	wg.Add(1)
	defer wg.Done()
}

func addWithoutGoroutine() {
	var wg sync.WaitGroup
	wg.Add(1)
	wg.Done()
}

// Reported: a group of the program's own, made by a constructor.
type myGroup struct{ wg sync.WaitGroup }

func newMyGroup() *myGroup   { return &myGroup{} }
func (g *myGroup) Add(n int) { g.wg.Add(n) }
func (g *myGroup) Done()     { g.wg.Done() }
func (g *myGroup) Wait()     { g.wg.Wait() }

func ownGroup(c bool) {
	wg := newMyGroup()
	wg.Add(1) // want `SV001: wg.Add starts goroutines`
	go wg.Done()
	if c {
		return
	}
	wg.Wait()
}
