package bench

// The benchmarks of the retry package, against the Go retry libraries most
// used, interleaved as the nursery benchmarks are (see nursery_test.go):
//
//	call       the operation called once by hand: the floor
//	retry      retry.Do with no options (first-try case), or with
//	           Attempts(3) and WithBackoff(Constant(0)) (retry case)
//	policy     retry.Do with the same options bundled once in a
//	           retry.Policy, shared by all calls
//	backoff    backoff.Retry of github.com/cenkalti/backoff/v5: defaults, or
//	           WithBackOff(&ZeroBackOff{}) and WithMaxTries(3)
//	avast      retry.Do of github.com/avast/retry-go/v4: defaults, or
//	           Attempts(3), Delay(0) and DelayType(FixedDelay)
//	sethvargo  retry.Do of github.com/sethvargo/go-retry, whose backoffs
//	           keep state and so are made per call: NewExponential(100ms),
//	           or WithMaxRetries(2) of a BackoffFunc returning 0 (its
//	           NewConstant refuses 0); errors are marked RetryableError, as
//	           it requires
//
// The operation returns nil at once (first-try case: nopCtx, or nop for
// avast), or fails twice with a preallocated error and then returns nil
// (retry case), so that what is measured is the libraries' own cost. Each
// timing covers 64 operations.

import (
	"context"
	"errors"
	"testing"
	"time"

	backoff "github.com/cenkalti/backoff/v5"

	avast "github.com/avast/retry-go/v4"
	sethvargo "github.com/sethvargo/go-retry"

	"github.com/structured-go/structured/retry"
)

var errTransient = errors.New("bench: transient failure")

// flaky is an operation that fails fails times, then succeeds; reset
// before each use.
type flaky struct {
	fails, calls int
}

func (f *flaky) reset() { f.calls = 0 }

func (f *flaky) op() error {
	f.calls++
	if f.calls <= f.fails {
		return errTransient
	}
	return nil
}

// retryOps returns every contender doing one retried operation that fails
// fails times first.
func retryOps(fails int) []op {
	f := &flaky{fails: fails}
	// Each contender gets the operation in the shape its API takes, made
	// once, outside the loop.
	opCtx := func(context.Context) error { return f.op() }
	opPlain := func() error { return f.op() }
	opValue := func() (struct{}, error) { return struct{}{}, f.op() }
	opSeth := func(context.Context) error {
		if err := f.op(); err != nil {
			return sethvargo.RetryableError(err)
		}
		return nil
	}
	zeroSeth := sethvargo.BackoffFunc(func() (time.Duration, bool) { return 0, false })
	expect := func(err error) error {
		if err == nil && f.calls != fails+1 {
			return errors.New("bench: wrong number of calls")
		}
		return err
	}

	if fails == 0 {
		// The first try succeeds: the operation is a plain func returning
		// nil, so that the floor is a bare call and the rest is the
		// libraries' own cost.
		nopValue := func() (struct{}, error) { return struct{}{}, nil }
		policy := retry.Policy(retry.Attempts(3), retry.WithBackoff(retry.Constant(0)))
		return []op{
			{"call", func() error { return nopCtx(bg) }},
			{"retry", func() error { return retry.Do(bg, nopCtx) }},
			{"retryopts", func() error { return retry.Do(bg, nopCtx, retry.Attempts(3), retry.WithBackoff(retry.Constant(0))) }},
			{"policy", func() error { return retry.Do(bg, nopCtx, policy) }},
			{"backoff", func() error { _, err := backoff.Retry(bg, nopValue); return err }},
			{"avast", func() error { return avast.Do(nop) }},
			{"sethvargo", func() error { return sethvargo.Do(bg, sethvargo.NewExponential(100*time.Millisecond), nopCtx) }},
		}
	}
	policy := retry.Policy(retry.Attempts(3), retry.WithBackoff(retry.Constant(0)))
	return []op{
		{"retry", func() error {
			f.reset()
			return expect(retry.Do(bg, opCtx, retry.Attempts(3), retry.WithBackoff(retry.Constant(0))))
		}},
		{"policy", func() error { f.reset(); return expect(retry.Do(bg, opCtx, policy)) }},
		{"backoff", func() error {
			f.reset()
			_, err := backoff.Retry(bg, opValue, backoff.WithBackOff(&backoff.ZeroBackOff{}), backoff.WithMaxTries(3))
			return expect(err)
		}},
		{"avast", func() error {
			f.reset()
			return expect(avast.Do(opPlain, avast.Attempts(3), avast.Delay(0), avast.DelayType(avast.FixedDelay)))
		}},
		{"sethvargo", func() error {
			f.reset()
			return expect(sethvargo.Do(bg, sethvargo.WithMaxRetries(2, zeroSeth), opSeth))
		}},
	}
}

// The ratios the retry benchmarks report: ours against each peer.
var retryRatios = [][2]string{
	{"retry", "call"},
	{"retry", "backoff"},
	{"retry", "avast"},
	{"retry", "sethvargo"},
	{"retryopts", "backoff"},
	{"retryopts", "avast"},
	{"retryopts", "sethvargo"},
	{"policy", "backoff"},
	{"policy", "avast"},
	{"policy", "sethvargo"},
}

var retryCases = []struct {
	name  string
	fails int
}{
	{"FirstTry", 0},
	{"ThirdTry", 2},
}

// BenchmarkRetry: a first-try success, and a success at the third attempt
// with zero delays, for every contender.
func BenchmarkRetry(b *testing.B) {
	for _, c := range retryCases {
		b.Run(c.name, func(b *testing.B) {
			interleave(b, 64, timeSpawn(b, retryOps(c.fails)), retryRatios)
		})
	}
}

// BenchmarkAllocsRetry reports allocs/op and B/op of each contender alone.
func BenchmarkAllocsRetry(b *testing.B) {
	for _, c := range retryCases {
		for _, o := range retryOps(c.fails) {
			b.Run(c.name+"/"+o.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					sink = o.run()
				}
				if sink != nil {
					b.Fatal(sink)
				}
			})
		}
	}
}
