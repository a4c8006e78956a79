//go:build go1.25

package ratelimit_test

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/ratelimit"
)

// The calls to Do that run the function, for each setting of the fields: the
// first call always, then any that one of the set fields allows.
func TestSometimesRunsTheCallsItsFieldsAllow(t *testing.T) {
	for _, c := range []struct {
		name  string
		s     func() *ratelimit.Sometimes
		sleep time.Duration // before each call
		want  []int         // the calls, from 1, that run
	}{
		{"zero: once", func() *ratelimit.Sometimes { return &ratelimit.Sometimes{} }, 0, []int{1}},
		{"First: 3", func() *ratelimit.Sometimes { return &ratelimit.Sometimes{First: 3} }, 0, []int{1, 2, 3}},
		{"Every: 3", func() *ratelimit.Sometimes { return &ratelimit.Sometimes{Every: 3} }, 0, []int{1, 4, 7, 10}},
		{"First: 2, Every: 4", func() *ratelimit.Sometimes { return &ratelimit.Sometimes{First: 2, Every: 4} }, 0, []int{1, 2, 5, 9}},
		{"Interval: 25ms, a call every 10ms", func() *ratelimit.Sometimes { return &ratelimit.Sometimes{Interval: 25 * time.Millisecond} }, 10 * time.Millisecond, []int{1, 4, 7, 10}},
		{"Interval and Every", func() *ratelimit.Sometimes { return &ratelimit.Sometimes{Every: 4, Interval: 25 * time.Millisecond} }, 10 * time.Millisecond, []int{1, 4, 5, 8, 9}},
		{"negative Interval: never", func() *ratelimit.Sometimes { return &ratelimit.Sometimes{Interval: -1} }, time.Second, []int{1}},
	} {
		synctest.Test(t, func(t *testing.T) {
			var ran []int
			s := c.s()
			for call := 1; call <= 10; call++ {
				time.Sleep(c.sleep)
				s.Do(func() { ran = append(ran, call) })
			}
			if !slices.Equal(ran, c.want) {
				t.Errorf("%s: the calls that ran = %v, want %v", c.name, ran, c.want)
			}
		})
	}
}

// Calls run one at a time: a call waits while another runs the function.
// (Not in a synctest bubble: a goroutine waiting for a mutex does not let
// virtual time pass.)
func TestSometimesRunsOneCallAtATime(t *testing.T) {
	s := ratelimit.Sometimes{Every: 1}
	var now, most, ran atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				s.Do(func() {
					n := now.Add(1)
					most.Store(max(most.Load(), n))
					runtime.Gosched()
					now.Add(-1)
					ran.Add(1)
				})
			}
		})
	}
	wg.Wait()
	if most.Load() != 1 || ran.Load() != 800 {
		t.Fatalf("%d calls ran, at most %d at once; want 800, one at a time", ran.Load(), most.Load())
	}
}

// If f panics, the call does not count, and the panic goes on.
func TestSometimesCallWhoseFunctionPanicsDoesNotCount(t *testing.T) {
	var s ratelimit.Sometimes
	r := recoverPanic(func() { s.Do(func() { panic("boom") }) })
	if r != "boom" {
		t.Fatalf("Do(a panicking f) panicked with %v, want boom", r)
	}
	ran := false
	s.Do(func() { ran = true })
	if !ran {
		t.Fatal("the call after a panicking first call did not run: the panicking call counted")
	}
	if r := recoverPanic(func() { s.Do(nil) }); fmt.Sprint(r) != "ratelimit: Sometimes.Do called with a nil function" {
		t.Fatalf("Do(nil) panicked with %v", r)
	}
}
