package bench

// Fail fast means stop: a Map over a million items whose first item fails,
// at most 8 at once, beside the errgroup loop that checks ctx.Err() before
// each Go (the loop errgroup's users write), in one interleaved run; and
// what a Map costs per item, beside that loop.
//
//	errgroup  errgroup.WithContext, SetLimit(8); the loop breaks once ctx is
//	          done; each task writes its result into a slice
//	nursery   nursery.Map with WithLimit(8)
//	foreach   nursery.ForEach with WithLimit(8)

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/structured-go/structured/nursery"
)

const failFastItems = 1_000_000

var failFastInput = make([]int, failFastItems)

// failFirst fails for item 0 and doubles every other item.
func failFirst(_ context.Context, i int) (int, error) {
	if i == 0 {
		return 0, errBoom
	}
	return 2 * i, nil
}

func errgroupMap(items []int, limit int, fn func(context.Context, int) (int, error)) ([]int, error) {
	results := make([]int, len(items))
	g, ctx := errgroup.WithContext(bg)
	if limit > 0 {
		g.SetLimit(limit)
	}
	for i, item := range items {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			v, err := fn(ctx, item)
			if err != nil {
				return err
			}
			results[i] = v
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return results, nil
}

func failFastOps(items []int) []op {
	// item i of the input is i, so that item 0 is the one that fails
	for i := range items {
		items[i] = i
	}
	return []op{
		{"errgroup", func() error { _, err := errgroupMap(items, 8, failFirst); return expectBoom(err) }},
		{"nursery", func() error {
			_, err := nursery.Map(bg, items, failFirst, nursery.WithLimit(8))
			return expectBoom(err)
		}},
		{"foreach", func() error {
			return expectBoom(nursery.ForEach(bg, items, func(ctx context.Context, i int) error {
				_, err := failFirst(ctx, i)
				return err
			}, nursery.WithLimit(8)))
		}},
	}
}

// BenchmarkFailFastMap: a million items, the first fails, at most 8 at once.
func BenchmarkFailFastMap(b *testing.B) {
	b.Run("N="+strconv.Itoa(failFastItems), func(b *testing.B) {
		interleave(b, 1, timeSpawn(b, failFastOps(failFastInput)), [][2]string{
			{"nursery", "errgroup"},
			{"foreach", "errgroup"},
		})
	})
}

// BenchmarkMapAllocs: what Map costs per item, 10,000 trivial items (no
// failure, no limit), beside the errgroup loop.
func BenchmarkMapAllocs(b *testing.B) {
	const n = 10000
	items := make([]int, n)
	for i := range items {
		items[i] = i + 1
	}
	double := func(_ context.Context, i int) (int, error) { return 2 * i, nil }
	for _, c := range []struct {
		name string
		run  func() error
	}{
		{"errgroup", func() error { _, err := errgroupMap(items, 0, double); return err }},
		{"nursery", func() error { _, err := nursery.Map(bg, items, double); return err }},
	} {
		b.Run("N="+strconv.Itoa(n)+"/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			t0 := time.Now()
			for i := 0; i < b.N; i++ {
				if err := c.run(); err != nil {
					b.Fatal(err)
				}
			}
			_ = time.Since(t0)
			runtime.ReadMemStats(&m1)
			items := float64(b.N) * n
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/items, "allocs/item")
			b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/items, "B/item")
		})
	}
}
