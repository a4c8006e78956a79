//go:build go1.25

package asynciter_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/structured-go/structured/asynciter"
)

// liveHeap returns the bytes of the heap still reachable, after a
// collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

type block [8]int64 // 64 bytes an item

// An unbounded queue or channel gives its memory back as it drains: after
// a peak of 1<<18 items (16 MiB of them) drained to 10, the live heap
// is back within 1 MiB of what it was, while the queue is still in use.
func TestUnboundedBuffersGiveMemoryBackAsTheyDrain(t *testing.T) {
	const peak, left = 1 << 18, 10
	ctx := context.Background()
	type buffer struct {
		name string
		put  func(block)
		get  func() block
		keep any
	}
	makeQueue := func(size int) buffer {
		q := asynciter.NewQueue[block](size)
		return buffer{"NewQueue", func(v block) { _ = q.TryPut(v) }, func() block { v, _ := q.Get(ctx); return v }, q}
	}
	makeChannel := func() buffer {
		s, r := asynciter.OpenChannel[block](asynciter.Unbounded)
		return buffer{"OpenChannel(Unbounded)", func(v block) { _ = s.TrySend(v) }, func() block { v, _ := r.Recv(ctx); return v }, [2]any{s, r}}
	}
	for _, make := range []func() buffer{func() buffer { return makeQueue(0) }, func() buffer { return makeQueue(asynciter.Unbounded) }, makeChannel} {
		before := liveHeap()
		b := make()
		for i := range peak {
			b.put(block{int64(i)})
		}
		atPeak := liveHeap()
		for i := range peak - left {
			if v := b.get(); v[0] != int64(i) {
				t.Fatalf("%s: got item %d, want %d", b.name, v[0], i)
			}
		}
		after := liveHeap()
		if atPeak < before+peak*64*9/10 {
			t.Fatalf("%s: the live heap grew by %d bytes at the peak, less than the %d bytes of the items: the measure is wrong", b.name, atPeak-before, peak*64)
		}
		if after > before+1<<20 {
			t.Errorf("%s: %d KiB still held after draining %d of %d items (%d KiB at the peak)", b.name, (after-before)>>10, peak-left, peak, (atPeak-before)>>10)
		}
		for range left {
			b.get()
		}
		runtime.KeepAlive(b.keep)
	}
}

// NewQueue takes Unbounded, OpenChannel's spelling, as well as asyncio's 0.
func TestNewQueueTakesUnbounded(t *testing.T) {
	q := asynciter.NewQueue[int](asynciter.Unbounded)
	for i := range 10000 {
		if err := q.TryPut(i); err != nil {
			t.Fatalf("NewQueue(Unbounded): TryPut #%d = %v", i+1, err)
		}
	}
	mustPanicWith(t, "NewQueue(-2): the size must be at least 1, or 0 or Unbounded for an unbounded queue", func() { asynciter.NewQueue[int](-2) })
}
