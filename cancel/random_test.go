//go:build go1.25

package cancel_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/cancel"
)

// A layer of a random chain of nested scopes.
type layer struct {
	timeout     time.Duration // 0 for none
	shield      bool
	cancelAt    time.Duration // Cancel is called then; 0 for never
	moveAt      time.Duration // SetDeadline is called then ...
	moveTo      time.Duration // ... to now plus this (0 removes the deadline)
	unshieldAt  time.Duration // SetShield(false) then; 0 for never
	scope       *cancel.Scope
	err         error
	ran, caught bool
}

func (l *layer) String() string {
	return fmt.Sprintf("{timeout %v shield %v cancel@%v move@%v→%v unshield@%v}", l.timeout, l.shield, l.cancelAt, l.moveAt, l.moveTo, l.unshieldAt)
}

// TestRandomScopeChains runs random chains of nested scopes, with deadlines,
// shields, Cancel, moved deadlines and shields turned off at random virtual
// times, around work that waits for its context and returns the echo (bare,
// as the cause, or wrapped), and checks what trio promises:
//
//   - the echo is caught exactly once, by a scope that was cancelled or whose
//     deadline passed, and every scope outside it returns nil;
//   - every scope inside it returns an echo (it passes the error on) and
//     catches nothing;
//   - a scope that caught says CancelCalled;
//   - a scope shielded throughout that was cancelled catches the echo, or a
//     scope inside it does: the shield keeps it from going further out;
//   - contexts derived from the innermost report its Err.
func TestRandomScopeChains(t *testing.T) {
	for seed := range 10000 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		ms := func(n int) time.Duration { return time.Duration(1+rng.IntN(n)) * time.Millisecond }
		layers := make([]*layer, 1+rng.IntN(4))
		for i := range layers {
			l := &layer{}
			if rng.IntN(2) == 0 {
				l.timeout = ms(20)
			}
			l.shield = rng.IntN(4) == 0
			if rng.IntN(3) == 0 {
				l.cancelAt = ms(20)
			}
			if rng.IntN(4) == 0 {
				l.moveAt = ms(10)
				if rng.IntN(3) != 0 {
					l.moveTo = ms(20)
				}
			}
			if l.shield && rng.IntN(3) == 0 {
				l.unshieldAt = ms(20)
			}
			layers[i] = l
		}
		echoKind := rng.IntN(3)
		linger := time.Duration(rng.IntN(6)) * time.Millisecond // slow to honour the cancellation
		synctest.Test(t, func(t *testing.T) {
			t0 := time.Now()
			var woke time.Duration
			var derivedErr, innerErr error
			var run func(ctx context.Context, i int) error
			run = func(ctx context.Context, i int) error {
				if i == len(layers) {
					child, stop := context.WithCancel(ctx)
					defer stop()
					select {
					case <-ctx.Done():
					case <-time.After(time.Second): // nothing cancelled it
						return nil
					}
					woke = time.Since(t0)
					time.Sleep(linger)
					<-child.Done()
					derivedErr, innerErr = child.Err(), ctx.Err()
					switch echoKind {
					case 0:
						return ctx.Err()
					case 1:
						return context.Cause(ctx)
					default:
						return fmt.Errorf("work: %w", ctx.Err())
					}
				}
				l := layers[i]
				var opts []cancel.Option
				if l.timeout > 0 {
					opts = append(opts, cancel.WithTimeout(l.timeout))
				}
				if l.shield {
					opts = append(opts, cancel.WithShield())
				}
				l.scope = cancel.New(opts...)
				var timers []*time.Timer
				if l.cancelAt > 0 {
					timers = append(timers, time.AfterFunc(l.cancelAt, func() { l.scope.Cancel(fmt.Errorf("cancel %d", i)) }))
				}
				if l.moveAt > 0 {
					timers = append(timers, time.AfterFunc(l.moveAt, func() {
						var to time.Time
						if l.moveTo > 0 {
							to = time.Now().Add(l.moveTo)
						}
						l.scope.SetDeadline(to)
					}))
				}
				if l.unshieldAt > 0 {
					timers = append(timers, time.AfterFunc(l.unshieldAt, func() { l.scope.SetShield(false) }))
				}
				l.err = l.scope.Run(ctx, func(ctx context.Context) error {
					l.ran = true
					return run(ctx, i+1)
				})
				for _, tm := range timers {
					tm.Stop()
				}
				l.caught = l.scope.CancelledCaught()
				return l.err
			}
			top := run(t.Context(), 0)

			var broken []string
			catcher := -1
			for i, l := range layers {
				if l.caught {
					if catcher >= 0 {
						broken = append(broken, fmt.Sprintf("scopes %d and %d both caught", catcher, i))
					}
					catcher = i
					if !l.scope.CancelCalled() {
						broken = append(broken, fmt.Sprintf("scope %d caught without CancelCalled", i))
					}
				}
			}
			cancelled := woke > 0
			switch {
			case top != nil:
				broken = append(broken, fmt.Sprintf("the outermost Run returned %v, want nil", top))
			case cancelled && catcher < 0:
				broken = append(broken, "the work was cancelled, yet no scope caught the echo")
			case !cancelled && catcher >= 0:
				broken = append(broken, fmt.Sprintf("scope %d caught, yet the work was never cancelled", catcher))
			}
			for i, l := range layers {
				switch {
				case catcher >= 0 && i > catcher && l.err == nil:
					broken = append(broken, fmt.Sprintf("scope %d, inside the catcher, returned nil", i))
				case catcher >= 0 && i > catcher && !errors.Is(l.err, context.Canceled) && !errors.Is(l.err, context.DeadlineExceeded) && !strings.HasPrefix(l.err.Error(), "cancel "):
					broken = append(broken, fmt.Sprintf("scope %d passed on %v, not an echo", i, l.err))
				case i < catcher && l.err != nil:
					broken = append(broken, fmt.Sprintf("scope %d, outside the catcher, returned %v", i, l.err))
				}
			}
			for i, l := range layers {
				if cancelled && l.shield && l.unshieldAt == 0 && l.scope.CancelCalled() && catcher < i {
					broken = append(broken, fmt.Sprintf("scope %d, shielded and cancelled, let the echo out to %d", i, catcher))
				}
			}
			if cancelled && derivedErr != innerErr {
				broken = append(broken, fmt.Sprintf("a derived context reports %v, the scope's %v", derivedErr, innerErr))
			}
			if len(broken) > 0 {
				t.Fatalf("seed %d, layers %v, echo kind %d, linger %v:\n%s", seed, layers, echoKind, linger, strings.Join(broken, "\n"))
			}
		})
	}
}
