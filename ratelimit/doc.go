// Package ratelimit makes callers wait for their turn: a Semaphore makes
// them wait until few enough others hold a resource, a Limiter until the
// rate of events allows one more, and a Keyed limiter does that per client.
// An Adaptive limit finds for itself how many calls a downstream can take
// at once, follows it as it changes, and refuses the rest.
//
// Its names are those of golang.org/x/sync/semaphore and golang.org/x/time/rate,
// so that moving to it is mostly a change of import:
//
//	sem := ratelimit.NewWeighted(3)           // semaphore.NewWeighted(3); or NewSemaphore
//	lim := ratelimit.NewLimiter(20, 1)        // rate.NewLimiter(20, 1)
//	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
//		for _, url := range urls {
//			n.Go(func(ctx context.Context) error {
//				return sem.Do(ctx, 1, func(ctx context.Context) error { // at most 3 at once
//					if err := lim.Wait(ctx); err != nil {       // at most 20 a second
//						return err
//					}
//					return fetch(ctx, url)
//				})
//			})
//		}
//		return nil
//	})
//
// For x/sync/semaphore, it is: NewWeighted and Weighted are NewSemaphore
// and Semaphore under that package's names. For x/time/rate, the calls
// that pass a time change: Limiter's AllowN and ReserveN take none, so
// lim.AllowN(time.Now(), n) becomes lim.AllowN(n), and a call with a time of
// the caller's, lim.AllowN(t, n), becomes lim.AllowNAt(t, n) (ReserveNAt
// likewise; TokensAt, SetLimitAt, SetBurstAt, DelayFrom, CancelAt and
// Sometimes keep their names). CI runs both packages' own tests against this
// one: the file PEERS.md beside this package's source lists the four of
// x/time/rate's that fail, all because a Limiter's clock never goes back,
// and the guides docs/migrating-from-x-time-rate.md and
// docs/migrating-from-x-sync-semaphore.md say what else differs, and why.
//
// What it adds: a Semaphore is strictly first come, first served (nobody
// barges past a waiter), fails a request larger than its capacity at once
// instead of hanging, can be resized while in use, and runs a function
// holding a slot (Do, Python's `async with sem:`). A Limiter never grants
// more than its rate, however many goroutines call it, keeps its rate on
// hosts whose timers fire late, and fails a Wait at once when the tokens
// would come after the context's deadline. Keyed holds a Limiter per key in
// bounded memory. Every error wraps a sentinel that errors.Is matches, and
// names this package once.
//
// # Semaphore and nursery
//
// A Semaphore has the method set the nursery accepts as a limit shared by
// several nurseries: Acquire(ctx, n) and Release(n); so has an Adaptive. A recursive fan-out
// that holds a slot while it waits for its children can deadlock once every
// slot is held by a waiting parent; give the slot back while waiting, and
// take it again afterwards (see the Semaphore examples).
//
// # Rules
//
// Every type is safe for concurrent use; none starts a goroutine. Blocking
// calls (Semaphore.Acquire and Do, Limiter.Wait, Keyed.Wait) take a context
// first, fail at once if it is already done, and return ctx.Err() unchanged
// when it ends (err == context.Canceled works, as with x/sync and x/time),
// holding nothing. They wait on channels and timers, so code using them can
// be tested in virtual time with testing/synctest.
//
// Whoever acquires from a Semaphore must Release the same weight; Do does it
// even if the function panics, and lets the panic go on unchanged. Releasing
// more than is held panics. Tokens taken from a Limiter are not given back,
// except by cancelling a Reservation (or a Wait, by ending its context).
//
// A nil context, a nil function or a negative weight or count panics with a
// message naming the function and the argument. The zero Limiter allows
// nothing; the zero Semaphore and Keyed are not usable: use the
// constructors.
//
// The module's cookbook, in its docs directory, has recipes for these patterns
// beside their Python originals: docs/rate-limiting.md (rate limiting,
// limiting-concurrency.md for semaphores, and protect-a-downstream.md for
// the adaptive limit).
package ratelimit
