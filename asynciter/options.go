package asynciter

import (
	"fmt"
	"runtime"
)

// An Option configures Generate, Map or MapStream. Each
// function says which options it takes; passing one it does not take panics,
// so that a misplaced option is never silently ignored.
type Option interface {
	apply(*config)
}

// config is what the options of one call say. It is parsed out of line, so
// that a call without options pays nothing for them.
type config struct {
	limit     int // 0: not given
	unordered bool
	buffer    int // -1: not given
	given     optionSet
}

type optionSet uint8

const (
	optLimit optionSet = 1 << iota
	optUnordered
	optBuffer
)

func (s optionSet) String() string {
	switch s {
	case optLimit:
		return "WithLimit"
	case optUnordered:
		return "WithUnordered"
	default:
		return "WithBuffer"
	}
}

type limitOption int

func (o limitOption) apply(c *config) { c.limit = int(o); c.given |= optLimit }

type unorderedOption struct{}

func (unorderedOption) apply(c *config) { c.unordered = true; c.given |= optUnordered }

type bufferOption int

func (o bufferOption) apply(c *config) { c.buffer = int(o); c.given |= optBuffer }

// WithLimit makes Map and MapStream run fn in at most k goroutines at once.
// The default is runtime.GOMAXPROCS(0). WithLimit panics if k < 1.
func WithLimit(k int) Option {
	if k < 1 {
		panic(fmt.Sprintf("asynciter: WithLimit(%d): the limit must be at least 1", k))
	}
	return limitOption(k)
}

// WithUnordered makes Map and MapStream yield results in the order they
// finish rather than in input order, so that one slow item does not hold
// back the others.
func WithUnordered() Option { return unorderedOption{} }

// WithBuffer sets how far ahead of the loop the goroutines behind a sequence
// may run:
//
//   - Generate: the producer may have made at most n items the
//     loop has not asked for yet. The default, 0, makes Generate lazy, like a
//     Python generator: the producer's yield returns only when the loop asks
//     for the next item. A larger n lets producer and consumer overlap, and
//     lets items move in bulk: WithBuffer(64) is many times faster than 0
//     when items are cheap.
//   - Map and MapStream: Map holds at most k+n items (k from WithLimit)
//     read from the input and not yet yielded; in input order this bounds
//     the reorder window, the results held back waiting for an earlier one.
//     The default n is 2k+16.
//
// WithBuffer panics if n < 0.
func WithBuffer(n int) Option {
	if n < 0 {
		panic(fmt.Sprintf("asynciter: WithBuffer(%d): the buffer must not be negative", n))
	}
	return bufferOption(n)
}

// parseOptions applies opts, panicking for a nil option or one that fn does
// not accept.
func parseOptions(fn string, accepted optionSet, opts []Option) config {
	c := config{buffer: -1}
	for _, o := range opts {
		if o == nil {
			panic("asynciter: " + fn + " called with a nil Option")
		}
		var probe config
		o.apply(&probe)
		if probe.given&^accepted != 0 {
			panic(fmt.Sprintf("asynciter: %s does not take %v", fn, probe.given))
		}
		o.apply(&c)
	}
	return c
}

func defaultLimit() int { return runtime.GOMAXPROCS(0) }
