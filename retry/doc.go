// Package retry calls a function again until it succeeds, waiting between
// attempts; Do returns only when the function has succeeded or retrying has
// stopped, and never leaves an attempt running behind it.
//
//	err := retry.Do(ctx, func(ctx context.Context) error {
//		return send(ctx, msg)
//	})
//
//	user, err := retry.DoValue(ctx, fetchUser, retry.Attempts(6), retry.MaxElapsed(10*time.Second))
//
// # Defaults
//
// With no options, Do makes at most 4 attempts (Attempts counts calls, not
// retries), and waits between them as Exponential{Initial: 100ms,
// Multiplier: 2, Max: 10s, Jitter: FullJitter} says: a random delay up to
// 100ms, then up to 200ms, then up to 400ms. A failure that never clears
// therefore costs at most 4 calls and 700ms of sleep. There is no time limit
// of Do's own (MaxElapsed is 0, unlimited): ctx's deadline is the one that
// counts. Server hints (After) are honoured up to 1 minute (MaxHint). Every
// error is retried except those marked Permanent and the end of ctx; there
// is no per-attempt timeout, no budget and no hedging.
//
// # Zero values
//
// Every policy value of the package works as its zero value: a zero field
// takes the default written beside it, and no default is a delay of 0, so
// that a field left out never turns a retry into a tight loop.
// Exponential{} waits 100ms, 200ms, 400ms, ...; Linear{} waits 100ms,
// 200ms, 300ms, ...; the zero Budget is NewBudget(10, 0.1). To retry at
// once, say so: Constant(0). A Latency is the one exception, as no default
// can guess its first delay: make it with NewLatency.
//
// Do's own limits follow the same rule: MaxElapsed(0) and AttemptTimeout(0)
// mean no limit. Attempts counts calls, so it has no zero: Attempts(n)
// panics for n < 1, and Attempts(Unlimited) lifts the limit.
//
// # Rules
//
// Do stops at the first success and returns nil (DoValue returns the value).
// Otherwise it stops, and says why, when:
//
//   - fn returns an error marked with Permanent, or one that RetryIf
//     rejects: Do returns that error as it is (Permanent's mark removed);
//   - the attempts are used up: an *Error matching ErrAttempts;
//   - the next attempt would start after MaxElapsed: an *Error matching
//     ErrMaxElapsed;
//   - the retry budget (WithBudget) is exhausted: an *Error matching
//     ErrBudget;
//   - ctx ends: ctx.Err() unchanged if no attempt had failed, else an *Error
//     matching ctx.Err() (and context.Cause(ctx)).
//
// An *Error also matches, with errors.Is and errors.As, the last attempt's
// error, which Unwrap returns; Errors lists the earlier ones (the first and
// the latest, at most 8). Use errors.Is(err, retry.ErrAttempts) to tell "it
// kept failing" from errors.Is(err, context.Canceled), "the caller gave up".
// WithLastError returns the last attempt's error itself instead, as
// cenkalti/backoff does. DoValue returns, with its error, the value the
// last attempt returned.
//
// The end of ctx is never retried, even if fn returns some other error as
// ctx ends. An attempt that AttemptTimeout ended is an ordinary failure, and
// is retried. Do checks ctx before the first attempt and does not call fn if
// ctx is already done. There is no sleep after the last attempt.
//
// A Backoff (Constant, Linear, Exponential, or a BackoffFunc) is an
// immutable policy, and so is a Policy of options: share them between
// goroutines and calls freely. A Budget and a Latency are meant to be shared
// and are safe for concurrent use. Do itself keeps no state between calls.
//
// Hooks (OnRetry, OnGiveUp) run in Do's goroutine, one at a time, also
// under Hedge; unset, they cost nothing. For a hot path, bundle the options
// once in a Policy: a call given only a Policy allocates nothing.
//
// # Panics
//
// Without Hedge, fn runs in Do's goroutine and a panic in it goes up through
// Do unchanged: there is nothing else to stop. With Hedge, the attempts run
// in a nursery: a panic in one is recovered there, the other attempts are
// cancelled and waited for, and Do panics with a *nursery.PanicError
// carrying the value and the stack of the goroutine that panicked.
//
// # Server hints, budgets and hedging
//
// After marks an error with the delay a server asked for (RetryAfter reads
// it from an HTTP response); Do sleeps at least that long, capped at
// MaxHint, and a hint that reaches past MaxElapsed, while the backoff's own
// delay does not, still gets one last attempt at MaxElapsed.
//
// A Budget, shared by the calls to one server, stops retries when most
// attempts fail, as gRPC's retry throttling does: retries cannot multiply
// the load on a server that is down.
//
// Hedge and HedgeAdaptive start a second attempt while the first is still
// running, if it is slow to answer, and take whichever succeeds first (The
// Tail at Scale's hedged requests). Use them only for idempotent work.
//
// # Breakers and throttles
//
// A Breaker (NewBreaker) stops calling a downstream that is down: after
// enough failures it opens, refuses calls at once with an error wrapping
// ErrOpen that names the failure that opened it, lets a few probes through
// once its open time has passed, and closes when they succeed. A Throttle
// (NewThrottle) is the client-side throttling of Google's SRE book: it
// refuses locally, with a probability that grows as the downstream accepts
// fewer requests than it is sent. WithBreaker and WithThrottle put them in
// front of Do's attempts: an open breaker's remaining time is a hint, so Do
// waits it out, or gives up with an error matching both its reason and
// ErrOpen. Refusals cost no attempt of the budget. For a limit that follows
// a downstream's capacity, see ratelimit.Adaptive.
//
// The module's cookbook, in its docs directory, has recipes for these
// patterns beside their Python originals: docs/retries.md (retries) and
// docs/protect-a-downstream.md (which of a limit, an adaptive limit, a
// breaker, a throttle and a retry budget for which failure).
package retry
