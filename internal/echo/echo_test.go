//go:build go1.25

package echo

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.uber.org/goleak"
	"go.uber.org/multierr"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// sliceErr is an error of a type that == panics on.
type sliceErr []string

func (s sliceErr) Error() string { return fmt.Sprint([]string(s)) }

// isDeadline matches context.DeadlineExceeded by kind, as a timeout error
// does, without being it.
type isDeadline struct{}

func (isDeadline) Error() string        { return "timed out" }
func (isDeadline) Is(target error) bool { return target == context.DeadlineExceeded }

// selfish unwraps to itself: a walk must end anyway.
type selfish struct{}

func (s *selfish) Error() string { return "selfish" }
func (s *selfish) Unwrap() error { return s }

func TestOf(t *testing.T) {
	errA := errors.New("a")
	errCause := errors.New("cause")
	live := context.Background()
	cancelled, stop := context.WithCancelCause(live)
	stop(errCause)
	expired, stop2 := context.WithTimeout(live, -1)
	defer stop2()
	var slice error = sliceErr{"x"} // boxed once, then passed around
	bySlice, stop3 := context.WithCancelCause(live)
	stop3(slice)
	joined := errors.Join(errA, errCause)
	byJoined, stop4 := context.WithCancelCause(live)
	stop4(joined)

	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"nil error", cancelled, nil, false},
		{"live ctx, Canceled", live, context.Canceled, false},
		{"Canceled", cancelled, context.Canceled, true},
		{"wrapped Canceled", cancelled, fmt.Errorf("op: %w", context.Canceled), true},
		{"the cause", cancelled, errCause, true},
		{"wrapped cause", cancelled, fmt.Errorf("op: %w", errCause), true},
		{"DeadlineExceeded", expired, context.DeadlineExceeded, true},
		{"DeadlineExceeded under a cancel", cancelled, context.DeadlineExceeded, false},
		{"Canceled under a deadline", expired, context.Canceled, false},
		{"a deadline by kind", expired, isDeadline{}, false},
		{"a real error", cancelled, errA, false},
		{"echoes combined", cancelled, multierr.Combine(context.Canceled, errCause), true},
		{"echo with a real error", cancelled, multierr.Combine(context.Canceled, errA), false},
		{"empty combination", cancelled, errors.Join(nil, nil), false},
		{"slice-typed cause", bySlice, slice, true},
		{"slice-typed cause, wrapped", bySlice, fmt.Errorf("op: %w", slice), true},
		{"another slice of the same type", bySlice, sliceErr{"x"}, false},
		{"joined cause, whole", byJoined, joined, true},
		{"joined cause, wrapped", byJoined, fmt.Errorf("op: %w", joined), true},
		{"a part of the joined cause", byJoined, errA, false},
		{"an error unwrapping to itself", cancelled, &selfish{}, false},
	}
	for _, tc := range tests {
		if got := Of(tc.ctx, tc.err); got != tc.want {
			t.Errorf("%s: Of(ctx, %v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

func TestSame(t *testing.T) {
	type pair struct{ a, b int }
	var slice error = sliceErr{"x"}           // boxed once, then passed around
	var holder error = struct{ error }{slice} // comparable type holding a value that is not
	tests := []struct {
		a, b error
		want bool
	}{
		{slice, slice, true},
		{slice, sliceErr{"x"}, false},
		{context.Canceled, context.Canceled, true},
		{context.Canceled, context.DeadlineExceeded, false},
		{fmt.Errorf("%v", pair{1, 2}), fmt.Errorf("%v", pair{1, 2}), false},
		{holder, struct{ error }{slice}, false},
		{holder, holder, true},
		{nil, nil, true},
		{nil, context.Canceled, false},
	}
	for i, tc := range tests {
		if got := Same(tc.a, tc.b); got != tc.want {
			t.Errorf("case %d: Same(%v, %v) = %v, want %v", i, tc.a, tc.b, got, tc.want)
		}
	}
}

func TestNodes(t *testing.T) {
	errA, errB := errors.New("a"), errors.New("b")
	wrapped := fmt.Errorf("w: %w", errA)
	tree := errors.Join(wrapped, errB)
	got := Nodes(nil, tree, 100)
	want := []error{tree, wrapped, errA, errB}
	if len(got) != len(want) {
		t.Fatalf("Nodes = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Nodes[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if !Contains(got, errA) || Contains(got, errors.New("a")) {
		t.Fatalf("Contains: by identity, not by text")
	}
	if n := len(Nodes(nil, &selfish{}, 10)); n != 10 {
		t.Fatalf("Nodes of a cycle = %d nodes, want the limit of 10", n)
	}
}

// panicky is an echo of context.Canceled whose Error method panics.
type panicky struct{}

func (panicky) Error() string { panic("Error exploded") }
func (panicky) Unwrap() error { return context.Canceled }

// Rebase keeps an echo's words without calling an Error that panics into
// a panic of its caller's: it words what happened.
func TestRebaseOfAnEchoWhoseErrorPanics(t *testing.T) {
	var got error
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("Rebase panicked: %v", r)
			}
		}()
		got = Rebase(panicky{}, context.Canceled, context.Canceled, context.DeadlineExceeded)
	}()
	if got.Error() != "(echo.panicky whose Error method panicked)" {
		t.Errorf("Rebase(...).Error() = %q, want words saying Error panicked", got.Error())
	}
	if !errors.Is(got, context.DeadlineExceeded) {
		t.Errorf("Rebase(...) = %v, want it to match the outer error", got)
	}
}
