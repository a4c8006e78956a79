//go:build go1.25

package timeout_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/timeout"
)

type tlayerKind int

const (
	moveOn tlayerKind = iota
	failAfter
	timeoutRun
)

// A tlayer of a random chain of nested timeouts.
type tlayer struct {
	kind                       tlayerKind
	d                          time.Duration
	shield                     bool
	rescheduleAt, rescheduleTo time.Duration // a Timeout is moved then to start+this (to 0: disabled); 0 for never
	err                        error
	timedOut                   bool
	reschedErr                 error // set by the reschedule's timer
}

func (l *tlayer) String() string {
	return fmt.Sprintf("{%d d=%v shield=%v resched@%v→%v}", l.kind, l.d, l.shield, l.rescheduleAt, l.rescheduleTo)
}

// deadline is the layer's deadline after its reschedule, relative to the
// start; 0 for none.
func (l *tlayer) deadline() time.Duration {
	if l.kind == timeoutRun && l.rescheduleAt > 0 && l.rescheduleAt < l.d {
		return l.rescheduleTo
	}
	return l.d
}

// TestRandomTimeoutChains runs random chains of nested MoveOnAfter,
// FailAfter and reschedulable Timeouts, some shielded, around work that
// either honours its context or ignores it, and checks the outcome against a
// model of the rules: the earliest deadline that reaches the work ends it
// (ties go to the outer timeout, a shield keeps outer deadlines out); that
// timeout alone reports it; the timeouts inside it pass the echo on, those
// outside it pass its result on; work that ignores its context keeps its
// result; and the call returns when the work does.
func TestRandomTimeoutChains(t *testing.T) {
	for seed := range 20000 {
		rng := rand.New(rand.NewPCG(uint64(seed), 11))
		ms := func(n int) time.Duration { return time.Duration(1+rng.IntN(n)) * time.Millisecond }
		layers := make([]*tlayer, 1+rng.IntN(4))
		for i := range layers {
			l := &tlayer{kind: tlayerKind(rng.IntN(3)), d: ms(20)}
			if l.kind != timeoutRun {
				l.shield = rng.IntN(4) == 0
			} else if rng.IntN(2) == 0 && l.d > time.Millisecond {
				l.rescheduleAt = (l.d / 2).Truncate(time.Millisecond)
				if rng.IntN(4) != 0 {
					l.rescheduleTo = l.rescheduleAt + ms(20)
				}
			}
			layers[i] = l
		}
		honours := rng.IntN(3) != 0
		work := ms(30) + 500*time.Microsecond // never at the same instant as a deadline

		// The model.
		winner, end := -1, time.Duration(0)
		for i := len(layers) - 1; i >= 0; i-- {
			if d := layers[i].deadline(); d > 0 && (winner < 0 || d <= end) {
				winner, end = i, d // <=: ties go to the outer one
			}
			if layers[i].shield {
				break // outer deadlines do not reach inside
			}
		}
		if winner >= 0 && (!honours || end > work) {
			winner = -1 // the work ended first, or ignored the deadline and kept its result
		}
		wantElapsed := work
		if honours && winner >= 0 {
			wantElapsed = end
		}

		synctest.Test(t, func(t *testing.T) {
			t0 := time.Now()
			var run func(ctx context.Context, i int) error
			run = func(ctx context.Context, i int) error {
				if i == len(layers) {
					if !honours {
						time.Sleep(work)
						return nil
					}
					select {
					case <-ctx.Done():
						return fmt.Errorf("work: %w", ctx.Err())
					case <-time.After(work):
						return nil
					}
				}
				l := layers[i]
				inner := func(ctx context.Context) error { return run(ctx, i+1) }
				var opts []timeout.Option
				if l.shield {
					opts = append(opts, timeout.WithShield())
				}
				switch l.kind {
				case moveOn:
					l.timedOut, l.err = timeout.MoveOnAfter(ctx, l.d, inner, opts...)
				case failAfter:
					l.err = timeout.FailAfter(ctx, l.d, inner, opts...)
				default:
					tm := timeout.New(l.d)
					if l.rescheduleAt > 0 {
						move := time.AfterFunc(l.rescheduleAt, func() {
							var to time.Time
							if l.rescheduleTo > 0 {
								to = t0.Add(l.rescheduleTo)
							}
							l.reschedErr = tm.Reschedule(to)
						})
						defer move.Stop()
					}
					l.err = tm.Run(ctx, inner)
				}
				return l.err
			}
			top := run(t.Context(), 0)
			elapsed := time.Since(t0)
			synctest.Wait() // a reschedule due at the very end has run

			var broken []string
			for i, l := range layers {
				if l.rescheduleAt > 0 && l.rescheduleAt < elapsed && l.reschedErr != nil {
					broken = append(broken, fmt.Sprintf("layer %d: Reschedule while running = %v", i, l.reschedErr))
				}
			}
			if elapsed != wantElapsed {
				broken = append(broken, fmt.Sprintf("returned after %v, want %v", elapsed, wantElapsed))
			}
			var want error // what the winner reports, and everything outside it passes on
			if winner >= 0 {
				w := layers[winner]
				switch {
				case w.kind == moveOn && (!w.timedOut || w.err != nil):
					broken = append(broken, fmt.Sprintf("the winner, layer %d, returned (%v, %v), want (true, nil)", winner, w.timedOut, w.err))
				case w.kind != moveOn && !errors.Is(w.err, timeout.ErrTimeout):
					broken = append(broken, fmt.Sprintf("the winner, layer %d, returned %v, want ErrTimeout", winner, w.err))
				case w.kind != moveOn:
					want = w.err
				}
			}
			for i, l := range layers {
				switch {
				case winner >= 0 && i > winner:
					// Inside the winner: the echo of its deadline goes on.
					if l.timedOut || errors.Is(l.err, timeout.ErrTimeout) || !errors.Is(l.err, context.DeadlineExceeded) {
						broken = append(broken, fmt.Sprintf("layer %d, inside the winner, returned (%v, %v), want the echo", i, l.timedOut, l.err))
					}
				case winner < 0 || i < winner:
					if l.timedOut || l.err != want {
						broken = append(broken, fmt.Sprintf("layer %d returned (%v, %v), want (false, %v)", i, l.timedOut, l.err, want))
					}
				}
			}
			if top != want {
				broken = append(broken, fmt.Sprintf("the outermost returned %v, want %v", top, want))
			}
			if len(broken) > 0 {
				t.Fatalf("seed %d, layers %v, work %v honours %v, winner %d at %v:\n%s",
					seed, layers, work, honours, winner, end, strings.Join(broken, "\n"))
			}
		})
	}
}
