//go:build go1.25

package cancel_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/cancel"
	"github.com/structured-go/structured/timeout"
)

type valueKey string

// A scope's context, seen through WithValue layers, is a parent the
// standard library attaches derived contexts to without a goroutine.
func TestDerivedThroughValuesStartNoGoroutine(t *testing.T) {
	const derived = 1000
	check := func(name string, ctx context.Context) {
		ctx = context.WithValue(context.WithValue(ctx, valueKey("a"), 1), valueKey("b"), 2)
		before := runtime.NumGoroutine()
		stops := make([]func(), 0, 2*derived)
		for range derived {
			_, stop1 := context.WithCancel(ctx)
			_, stop2 := context.WithTimeout(ctx, time.Hour)
			stops = append(stops, stop1, stop2)
		}
		grew := runtime.NumGoroutine() - before
		for _, stop := range stops {
			stop()
		}
		if grew > derived/10 {
			t.Errorf("%s: %d derived contexts started %d goroutines, want none", name, 2*derived, grew)
		}
	}
	parent, stop := context.WithCancel(context.Background())
	defer stop()
	_ = cancel.New().Run(parent, func(ctx context.Context) error {
		check("cancel.Scope", ctx)
		return cancel.New(cancel.WithShield()).Run(ctx, func(ctx context.Context) error {
			check("shielded cancel.Scope", ctx)
			return timeout.New(time.Hour).Run(ctx, func(ctx context.Context) error {
				check("timeout.New", ctx)
				return nil
			})
		})
	})
}

// When Scope.Cancel returns, every context derived from the scope's, through
// WithValue layers, from a scope nested in it, or from a timeout nested in
// it, is done with the scope's cause.
func TestScopeCancelHasReachedEveryDescendantWhenItReturns(t *testing.T) {
	errStop := errors.New("stop")
	for round := range 200 {
		s := cancel.New()
		var derived []context.Context
		var stops []func()
		ready, release := make(chan struct{}), make(chan struct{})
		done := make(chan error)
		go func() {
			done <- s.Run(context.Background(), func(ctx context.Context) error {
				add := func(ctx context.Context) {
					c1, stop1 := context.WithCancel(context.WithValue(ctx, valueKey("k"), 1))
					c2, stop2 := context.WithTimeout(ctx, time.Hour)
					derived = append(derived, c1, c2)
					stops = append(stops, stop1, stop2)
				}
				add(ctx)
				return cancel.New().Run(context.WithValue(ctx, valueKey("v"), 2), func(ctx context.Context) error {
					add(ctx)
					return timeout.New(time.Hour).Run(ctx, func(ctx context.Context) error {
						add(ctx)
						close(ready)
						<-release
						return ctx.Err()
					})
				})
			})
		}()
		<-ready
		s.Cancel(errStop)
		for i, c := range derived {
			if c.Err() == nil {
				t.Errorf("round %d: when Scope.Cancel returned, derived context %d was not done", round, i)
			} else if context.Cause(c) != errStop || c.Err() != context.Canceled {
				t.Errorf("round %d: derived context %d: Err %v, Cause %v; want context.Canceled, %v", round, i, c.Err(), context.Cause(c), errStop)
			}
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatalf("round %d: Run() = %v, want nil (its own cancellation, caught)", round, err)
		}
		for _, stop := range stops {
			stop()
		}
		if t.Failed() {
			return
		}
	}
}

// context.Context: "If Done is not yet closed, Err returns nil", for a
// scope's context too, whether Cancel or the parent's cancellation ends it.
func TestScopeErrIsNilWhileDoneIsOpen(t *testing.T) {
	violations := 0
	for round := range 1000 {
		parent, stopParent := context.WithCancel(context.Background())
		s := cancel.New()
		polling := make(chan struct{})
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			_ = s.Run(parent, func(ctx context.Context) error {
				done := ctx.Done()
				close(polling)
				oneProc := runtime.GOMAXPROCS(0) == 1
				for i := 0; ctx.Err() == nil; i++ {
					if oneProc && i%1024 == 0 {
						runtime.Gosched() // on one processor, the canceller runs only if this yields
					}
				}
				select {
				case <-done:
				default:
					violations++
				}
				return nil
			})
		}()
		<-polling
		if round%2 == 0 {
			s.Cancel(nil)
		} else {
			stopParent()
		}
		<-finished
		stopParent()
	}
	if violations > 0 {
		t.Fatalf("Err() was non-nil while Done was open %d times in 1000 cancellations", violations)
	}
}

// The rule of a scope's moving deadline and the standard library's fixed
// ones: a context.WithTimeout for longer than the scope's deadline gets no
// timer of its own, so it follows the scope when SetDeadline moves it later
// (its Deadline says so); timeout.FailAfter inside the scope keeps its own.
func TestDerivedTimeoutFollowsAMovedDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		s := cancel.New(cancel.WithTimeout(100 * time.Millisecond))
		var stdEnded, oursEnded time.Duration
		var stdDeadline time.Time
		_ = s.Run(t.Context(), func(ctx context.Context) error {
			std, stop := context.WithTimeout(ctx, 200*time.Millisecond)
			defer stop()
			s.SetDeadline(start.Add(10 * time.Second))
			stdDeadline, _ = std.Deadline()
			_ = timeout.FailAfter(ctx, 200*time.Millisecond, func(ctx context.Context) error {
				<-ctx.Done()
				oursEnded = time.Since(start)
				return ctx.Err()
			})
			<-std.Done()
			stdEnded = time.Since(start)
			return nil
		})
		if oursEnded != 200*time.Millisecond {
			t.Errorf("timeout.FailAfter(200ms) under the moved scope ended after %v, want 200ms", oursEnded)
		}
		if stdEnded != 10*time.Second || !stdDeadline.Equal(start.Add(10*time.Second)) {
			t.Errorf("context.WithTimeout(200ms) under the moved scope: Deadline %v, ended after %v; want the scope's, 10s",
				stdDeadline.Sub(start), stdEnded)
		}
	})
}

// The same rule through net/http: a request whose context is a
// context.WithTimeout under a scope whose deadline then moves later ends
// with the scope; wrapped in timeout.FailAfter, it ends at its own bound.
func TestHTTPRequestUnderAMovedDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		tr := &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
			srvConn, cliConn := net.Pipe()
			conns = append(conns, srvConn, cliConn)
			go func() { // a server that reads requests and never answers
				r := bufio.NewReader(srvConn)
				for {
					if _, err := http.ReadRequest(r); err != nil {
						return
					}
				}
			}()
			return cliConn, nil
		}}
		defer tr.CloseIdleConnections()
		get := func(ctx context.Context) error {
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://test.example/", nil)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
			return err
		}
		start := time.Now()
		s := cancel.New(cancel.WithTimeout(100 * time.Millisecond))
		var withTimeout, failAfter time.Duration
		_ = s.Run(t.Context(), func(ctx context.Context) error {
			reqCtx, stop := context.WithTimeout(ctx, 300*time.Millisecond) // made while the scope's deadline is sooner
			defer stop()
			s.SetDeadline(start.Add(5 * time.Second))
			_ = timeout.FailAfter(ctx, 200*time.Millisecond, get)
			failAfter = time.Since(start)
			_ = get(reqCtx)
			withTimeout = time.Since(start)
			return nil
		})
		if failAfter != 200*time.Millisecond {
			t.Errorf("a request under timeout.FailAfter(200ms) ended after %v, want 200ms", failAfter)
		}
		if withTimeout != 5*time.Second {
			t.Errorf("a request under context.WithTimeout(300ms), the scope moved to 5s, ended after %v; want 5s (with the scope)", withTimeout)
		}
	})
}

// A scope's context, first looked at by several goroutines at once after
// Cancel has returned, is never seen live.
func TestScopeContextFirstAskedAfterCancelIsNeverSeenLive(t *testing.T) {
	live := 0
	for range 2000 {
		s := cancel.New()
		var seen [4]bool
		_ = s.Run(context.Background(), func(ctx context.Context) error {
			start := make(chan struct{})
			done := make(chan struct{}, len(seen))
			for i := range seen {
				go func() {
					<-start // nobody has looked at ctx before Cancel
					seen[i] = ctx.Err() == nil
					done <- struct{}{}
				}()
			}
			s.Cancel(nil)
			close(start)
			for range seen {
				<-done
			}
			return nil
		})
		for _, l := range seen {
			if l {
				live++
			}
		}
	}
	if live > 0 {
		t.Fatalf("a goroutine saw the scope's context live after Cancel had returned, %d times", live)
	}
}
