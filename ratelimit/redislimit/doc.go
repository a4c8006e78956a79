// Package redislimit makes callers in many processes wait for their turn
// together: a Limiter makes them wait until the rate of events, counted in
// Redis, allows one more, and a Semaphore until one of its slots, leased in
// Redis, is free. Ten replicas of a service with a Limiter each on the same
// key share one quota at a downstream API; with a Semaphore each, one pool
// of licences.
//
// It is package ratelimit across processes, with its names and its errors:
// a Limiter is a ratelimit.Waiter, as the in-process ratelimit.Limiter is,
// so code that paces itself can take either.
//
//	rdb := redis.NewClient(&redis.Options{
//		Addr:                  "redis:6379",
//		ContextTimeoutEnabled: true, // required: deadlines bound each round trip
//		DialerRetries:         1,    // a dead Redis is noticed at once
//	})
//	lim := redislimit.NewLimiter(rdb, "quota:geo-api", 100, 10, redislimit.FailLocal(10))
//	sem := redislimit.NewSemaphore(rdb, "licences:render", 4)
//	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
//		for _, job := range jobs {
//			n.Go(func(ctx context.Context) error {
//				if err := lim.Wait(ctx); err != nil { // 100 a second across the replicas
//					return err
//				}
//				return sem.Do(ctx, func(ctx context.Context) error { // 4 at once across them
//					return render(ctx, job)
//				})
//			})
//		}
//		return nil
//	})
//
// # What it adds to go-redis/redis_rate
//
// The Limiter keeps redis_rate's core, the generic cell rate algorithm in one
// Lua script (EVALSHA, with EVAL when Redis does not have the script) on
// Redis's own clock, and adds: a Wait that reserves in one round trip and
// sleeps until its tokens come, ending with its context; a pre-check, so
// that a call the last answer already rules out does not go to Redis at all;
// n events per call; and a failure policy per limiter for when Redis is down
// (FailClosed, FailOpen, FailLocal). The Semaphore is new: leases that
// expire, so a crashed replica's slots come back; first come, first served
// across replicas; and Do, which renews its lease while its function runs
// and cancels the function's context if the lease is lost.
//
// # Keys
//
// A Limiter uses its key, a string. A Semaphore uses four keys that start
// with its key (key+":holders", ":queue", ":waiting", ":ticket"); on a Redis
// Cluster put the key in braces ("{licences:render}") so they share a slot.
// Every key expires when idle. Every process sharing a key must use the same
// limit and burst, or the same capacity.
//
// # Rules
//
// Every type is safe for concurrent use. The client must be a go-redis
// client with ContextTimeoutEnabled (constructors panic otherwise, for the
// client types they can inspect), so that a context's deadline bounds each
// round trip. No call starts a goroutine that outlives it: Wait sleeps in
// its caller, and Do's renewals stop before Do returns, also when the
// function panics (the panic goes on unchanged, once the slot is released).
// Blocking calls take a context first, fail at once if it is done, and
// return ctx.Err() unchanged when it ends.
//
// A Lease must be released (Do does it); a lease that is not renewed expires
// after its TTL all the same. A nil client, context or function, an empty
// key, or a limit, burst or capacity out of range panics with a message
// naming the function and the argument. The zero values are not usable: use
// the constructors.
package redislimit
