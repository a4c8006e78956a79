//go:build go1.25

package retry_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/retry"
)

// Each jitter stays in its range, and the cap holds after jitter. The
// bounds on the means are more than 7 standard deviations wide: a failure
// is a bug, not bad luck.
func TestJittersStayInTheirRanges(t *testing.T) {
	const samples = 2000
	base := retry.Exponential{Initial: 100 * time.Millisecond, Multiplier: 2, Max: time.Second}
	for n := 1; n <= 8; n++ {
		d := min(base.Initial<<(n-1), base.Max) // the delay without jitter
		for _, j := range []retry.Jitter{retry.NoJitter, retry.FullJitter, retry.EqualJitter} {
			b := base
			b.Jitter = j
			lo, hi := d, d
			wantMean := float64(d)
			switch j {
			case retry.FullJitter:
				lo, wantMean = 0, float64(d)/2
			case retry.EqualJitter:
				lo, wantMean = d/2, float64(d)*3/4
			}
			var sum float64
			distinct := map[time.Duration]bool{}
			for range samples {
				got := b.Delay(n, 0)
				if got < lo || got > hi {
					t.Fatalf("%v: Delay(%d) = %v, want it in [%v, %v]", j, n, got, lo, hi)
				}
				sum += float64(got)
				distinct[got] = true
			}
			if mean := sum / samples; mean < wantMean-0.05*float64(d) || mean > wantMean+0.05*float64(d) {
				t.Errorf("%v: mean of Delay(%d) = %v, want about %v", j, n, time.Duration(mean), time.Duration(wantMean))
			}
			if j != retry.NoJitter && len(distinct) < samples/2 {
				t.Errorf("%v: Delay(%d) took only %d distinct values in %d draws", j, n, len(distinct), samples)
			}
		}
	}
}

// Decorrelated jitter draws from [Initial, 3 × prev], capped at Max.
func TestDecorrelatedJitterStaysInItsRange(t *testing.T) {
	b := retry.Exponential{Initial: 100 * time.Millisecond, Max: 2 * time.Second, Jitter: retry.DecorrelatedJitter}
	reachedCap := false
	for chain := range 200 {
		prev := time.Duration(0)
		for n := 1; n <= 20; n++ {
			got := b.Delay(n, prev)
			hi := min(3*max(prev, b.Initial), b.Max)
			if got < b.Initial || got > hi {
				t.Fatalf("chain %d: Delay(%d, %v) = %v, want it in [%v, %v]", chain, n, prev, got, b.Initial, hi)
			}
			reachedCap = reachedCap || got > b.Max*9/10
			prev = got
		}
	}
	if !reachedCap {
		t.Errorf("no chain of 20 decorrelated delays came near the cap: they do not grow")
	}
}

// Max caps after jitter for every jitter, however large the attempt count.
func TestCapHoldsAfterEveryJitter(t *testing.T) {
	for _, j := range []retry.Jitter{retry.NoJitter, retry.FullJitter, retry.EqualJitter, retry.DecorrelatedJitter} {
		for _, b := range []retry.Backoff{
			retry.Exponential{Initial: time.Second, Multiplier: 3, Max: 7 * time.Second, Jitter: j},
			retry.Linear{Initial: time.Second, Step: time.Second, Max: 7 * time.Second, Jitter: j},
		} {
			prev := time.Duration(0)
			for _, n := range []int{1, 2, 3, 10, 100, 1 << 30, math.MaxInt - 1, math.MaxInt} {
				for range 100 {
					got := b.Delay(n, prev)
					if got < 0 || got > 7*time.Second {
						t.Fatalf("%+v.Delay(%d, %v) = %v, want it in [0, 7s]", b, n, prev, got)
					}
					prev = got
				}
			}
		}
	}
}

// The AWS simulation ("Exponential Backoff and Jitter"): clients contend to
// write one record under optimistic concurrency control. Each call reads
// the version, takes a millisecond to send its write, and fails if another
// write got in first. Without jitter the clients retry in lockstep and only
// one of them gets through per round: 100 clients make 100+99+...+1 = 5050
// calls. With jitter they spread out, and need far fewer.
func TestFullJitterNeedsFarFewerCallsThanNone(t *testing.T) {
	errConflict := errors.New("conflict: the record changed")
	simulate := func(j retry.Jitter) (calls int64, took time.Duration) {
		synctest.Test(t, func(t *testing.T) {
			var version, n atomic.Int64
			write := func(ctx context.Context) error {
				n.Add(1)
				v := version.Load()
				time.Sleep(time.Millisecond) // the write's round trip
				if !version.CompareAndSwap(v, v+1) {
					return errConflict
				}
				return nil
			}
			b := retry.Exponential{Initial: time.Millisecond, Multiplier: 2, Max: time.Second, Jitter: j}
			start := time.Now()
			var wg sync.WaitGroup
			for range 100 {
				wg.Go(func() {
					if err := retry.Do(bg, write, retry.Attempts(1000), retry.WithBackoff(b)); err != nil {
						t.Errorf("%v: a client gave up: %v", j, err)
					}
				})
			}
			wg.Wait()
			calls, took = n.Load(), time.Since(start)
			if version.Load() != 100 {
				t.Errorf("%v: %d writes got through, want 100", j, version.Load())
			}
		})
		return calls, took
	}
	none, noneTook := simulate(retry.NoJitter)
	if none != 5050 {
		t.Errorf("without jitter: %d calls, want 5050 (one success per round)", none)
	}
	for _, j := range []retry.Jitter{retry.FullJitter, retry.EqualJitter, retry.DecorrelatedJitter} {
		calls, took := simulate(j)
		t.Logf("%v: %d calls (%.2f× none), all done in %v (none: %v)", j, calls, float64(calls)/float64(none), took, noneTook)
		// Each jitter needs about a seventh of the calls in this setting
		// (the article's chart shows the same order); the bounds leave a
		// wide margin for chance.
		limit := none / 2
		if j == retry.FullJitter {
			limit = none / 3
		}
		if calls > limit {
			t.Errorf("%v: %d calls, want at most %d (%d without jitter)", j, calls, limit, none)
		}
		// And, as in the article, the work is also done sooner.
		if took >= noneTook {
			t.Errorf("%v: done in %v, want sooner than without jitter (%v)", j, took, noneTook)
		}
	}
}

// Spread is cenkalti/backoff's RandomizationFactor: each delay is drawn
// from [d×(1−f), d×(1+f)], around the delay d without it, and Max caps the
// result.
func TestSpreadDrawsAroundTheDelay(t *testing.T) {
	const samples = 2000
	for _, b := range []retry.Backoff{
		retry.Exponential{Initial: time.Second, Multiplier: 2, Spread: 0.5},
		retry.Linear{Initial: time.Second, Step: time.Second, Spread: 0.5},
	} {
		for n := 1; n <= 3; n++ {
			d := time.Duration(n) * time.Second
			if _, exp := b.(retry.Exponential); exp {
				d = time.Second << (n - 1)
			}
			lo, hi := d/2, d*3/2
			var below, above int
			for range samples {
				got := b.Delay(n, 0)
				if got < lo || got > hi {
					t.Fatalf("%+v.Delay(%d) = %v, want it in [%v, %v]", b, n, got, lo, hi)
				}
				if got < d*3/4 {
					below++
				}
				if got > d*5/4 {
					above++
				}
			}
			// A quarter of the draws in each outer band, give or take 7
			// standard deviations.
			if below < samples/4-135 || above < samples/4-135 {
				t.Errorf("%+v.Delay(%d): %d draws below d×0.75 and %d above d×1.25 of %d, want about %d each", b, n, below, above, samples, samples/4)
			}
		}
	}
	capped := retry.Exponential{Initial: time.Second, Max: time.Second, Spread: 0.5}
	for range samples {
		if got := capped.Delay(1, 0); got < 500*time.Millisecond || got > time.Second {
			t.Fatalf("Exponential{1s, Max 1s, Spread 0.5}.Delay(1) = %v, want it in [500ms, 1s]: Max caps after the spread", got)
		}
	}
	for _, f := range []float64{0, 1} {
		b := retry.Exponential{Initial: time.Second, Spread: f}
		for range 100 {
			if got := b.Delay(1, 0); got < 0 || got > 2*time.Second || f == 0 && got != time.Second {
				t.Fatalf("Spread %v: Delay(1) = %v", f, got)
			}
		}
	}
}
