//go:build go1.25

package asynciter_test

import (
	"iter"
	"slices"
	"testing"

	"github.com/structured-go/structured/asynciter"
)

// failing is a stream of 0..n-1 that then fails with errBoom.
func failing(n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
		yield(0, errBoom)
	}
}

func TestSequentialOperators(t *testing.T) {
	even := func(x int) bool { return x%2 == 0 }
	twice := func(x int) iter.Seq2[int, error] { return asynciter.FromSeq(slices.Values([]int{x, x})) }
	sum := func(acc, v int) int { return acc + v }
	tests := []struct {
		name string
		seq  iter.Seq2[int, error]
		want []int
		err  error
	}{
		{"FromSeq", asynciter.FromSeq(slices.Values(ints(3))), []int{0, 1, 2}, nil},
		{"Filter", asynciter.Filter(asynciter.FromSeq(slices.Values(ints(6))), even), []int{0, 2, 4}, nil},
		{"Filter of a failing stream", asynciter.Filter(failing(4), even), []int{0, 2}, errBoom},
		{"FlatMap", asynciter.FlatMap(asynciter.FromSeq(slices.Values(ints(3))), twice), []int{0, 0, 1, 1, 2, 2}, nil},
		{"FlatMap of a failing stream", asynciter.FlatMap(failing(2), twice), []int{0, 0, 1, 1}, errBoom},
		{"FlatMap to failing streams", asynciter.FlatMap(asynciter.FromSeq(slices.Values(ints(3))), func(x int) iter.Seq2[int, error] { return failing(x) }), []int{}, errBoom},
		{"Take", asynciter.Take(asynciter.FromSeq(slices.Values(ints(10))), 3), []int{0, 1, 2}, nil},
		{"Take more than there are", asynciter.Take(asynciter.FromSeq(slices.Values(ints(2))), 5), []int{0, 1}, nil},
		{"Take of a failing stream", asynciter.Take(failing(2), 5), []int{0, 1}, errBoom},
		{"Take before the failure", asynciter.Take(failing(5), 2), []int{0, 1}, nil},
	}
	for _, tt := range tests {
		got, err := asynciter.Collect(tt.seq)
		if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) || err != tt.err {
			t.Errorf("%s: Collect = %v, %v; want %v, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
	if got, err := asynciter.Reduce(asynciter.FromSeq(slices.Values(ints(5))), 100, sum); got != 110 || err != nil {
		t.Errorf("Reduce = %v, %v; want 110, nil", got, err)
	}
	if got, err := asynciter.Reduce(failing(4), 0, sum); got != 6 || err != errBoom {
		t.Errorf("Reduce of a failing stream = %v, %v; want 6, boom", got, err)
	}
}

func TestTakeZeroNeverRangesItsInput(t *testing.T) {
	ranged := false
	in := func(yield func(int, error) bool) { ranged = true }
	for range asynciter.Take(iter.Seq2[int, error](in), 0) {
		t.Fatal("Take(0) yielded")
	}
	if ranged {
		t.Fatal("Take(0) ranged over its input")
	}
}

func TestSequentialOperatorsStopTheirInputOnBreak(t *testing.T) {
	stopped := 0
	in := func(yield func(int, error) bool) {
		for i := 0; ; i++ {
			if !yield(i, nil) {
				stopped++
				return
			}
		}
	}
	ops := map[string]iter.Seq2[int, error]{
		"FromSeq": asynciter.FromSeq(func(yield func(int) bool) { in(func(v int, _ error) bool { return yield(v) }) }),
		"Filter":  asynciter.Filter(in, func(int) bool { return true }),
		"FlatMap": asynciter.FlatMap(in, func(x int) iter.Seq2[int, error] { return asynciter.FromSeq(slices.Values([]int{x, x})) }),
		"Take":    asynciter.Take(in, 100),
	}
	for name, seq := range ops {
		before := stopped
		for v := range seq {
			if v == 3 {
				break
			}
		}
		if stopped != before+1 {
			t.Errorf("%s: the input was not stopped by the break", name)
		}
	}
}

func TestSequentialOperatorsMisuse(t *testing.T) {
	in := asynciter.FromSeq(slices.Values(ints(1)))
	mustPanicWith(t, "FromSeq called with a nil sequence", func() { asynciter.FromSeq[int](nil) })
	mustPanicWith(t, "Filter called with a nil keep function", func() { asynciter.Filter(in, nil) })
	mustPanicWith(t, "Filter called with a nil input sequence", func() { asynciter.Filter(nil, func(int) bool { return true }) })
	mustPanicWith(t, "FlatMap called with a nil function", func() { asynciter.FlatMap[int, int](in, nil) })
	mustPanicWith(t, "Take(-1): the count must not be negative", func() { asynciter.Take(in, -1) })
	mustPanicWith(t, "Collect called with a nil input sequence", func() { asynciter.Collect[int](nil) })
	mustPanicWith(t, "Reduce called with a nil function", func() { asynciter.Reduce[int, int](in, 0, nil) })
	mustPanicWith(t, "FlatMap's function returned a nil stream", func() {
		for range asynciter.FlatMap(in, func(int) iter.Seq2[int, error] { return nil }) {
		}
	})
}
