package waitskip

import (
	"context"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Not reported: the goroutines are started and waited for under the same
// condition, and nothing changes it in between.
func tracked(tracker bool, items []int) {
	var wg sync.WaitGroup
	for range items {
		if tracker {
			wg.Add(1)
			go func() { defer wg.Done() }()
		}
	}
	if tracker {
		wg.Wait()
	}
}

type syncer struct{ parallel bool }

func (s *syncer) flush(ctx context.Context, items []int) error {
	var g errgroup.Group
	if s.parallel && len(items) > 1 {
		for range items {
			g.Go(func() error { return work(ctx) })
		}
	}
	if !(s.parallel && len(items) > 1) {
		return nil
	}
	return g.Wait()
}

// Reported: the condition may have changed since the start.
func retested(tracker bool, check func() bool) {
	var wg sync.WaitGroup
	if tracker {
		wg.Add(1) // want `SV001: wg.Add starts goroutines that outlive retested: the end of retested \(line 51\) is reached without wg.Wait`
		go func() { defer wg.Done() }()
	}
	tracker = check()
	if tracker {
		wg.Wait()
	}
}

// Reported: a condition on a call is not known to hold twice.
func called(enabled func() bool) {
	var wg sync.WaitGroup
	if enabled() {
		wg.Add(1) // want `SV001: wg.Add starts goroutines`
		go func() { defer wg.Done() }()
	}
	if enabled() {
		wg.Wait()
	}
}

// Reported: a variable of the loop is a new one at each iteration, so the
// wait of one iteration does not follow the start of another.
type job struct{ async bool }

func perJob(jobs []job) {
	var wg sync.WaitGroup
	for _, j := range jobs {
		if j.async {
			wg.Wait()
		}
		if j.async {
			wg.Add(1) // want `SV001: wg.Add starts goroutines`
			go func() { defer wg.Done() }()
		}
	}
}

// Reported, every return that skips the wait named in one finding.
func everyPath(ctx context.Context, items []int, check func() error) error {
	g, ctx := errgroup.WithContext(ctx)
	for range items {
		g.Go(func() error { return work(ctx) }) // want `SV001: g.Go starts goroutines that outlive everyPath: the returns on lines 89 and 92 are reached without g.Wait`
	}
	if err := check(); err != nil {
		return err
	}
	if len(items) > 3 {
		return errBad
	}
	return g.Wait()
}

func everyPathAndTheEnd(c bool) {
	var wg sync.WaitGroup
	wg.Add(1) // want `SV001: wg.Add starts goroutines that outlive everyPathAndTheEnd: the return on line 102 and the end of everyPathAndTheEnd \(line 104\) are reached without wg.Wait`
	go func() { defer wg.Done() }()
	if c {
		return
	}
}
