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
// sleeps until its tokens come, ending with its context, and that never
// reserves more than a second ahead (ReserveWithin), so that abandoned
// Waits cannot lock a key; a pre-check, so that a call a recent answer
// already rules out does not go to Redis at all, and many callers do not
// all ask at once; grants that come back too late for their caller go to
// the next caller of the process; n events per call; replies checked
// against what the script can return (ErrBadReply); and a failure policy
// per limiter for when Redis is down (FailClosed, FailOpen, FailLocal),
// with FailLocal's replicas charging Redis on its return with what their
// local limiters handed out. The Semaphore
// is new: leases that expire, so a crashed replica's slots come back;
// first come, first served across replicas; one poller per Semaphore for
// all its waiters; and Do, which renews its lease while its function runs
// and cancels the function's context if the lease is lost.
//
// # Keys
//
// A Limiter uses its key, a string. A Semaphore uses four keys that start
// with its key (key+":holders", ":queue", ":waiting", ":ticket"); on a Redis
// Cluster put the key in braces ("{licences:render}") so they share a slot.
// Every key expires when idle. Every process sharing a key must use the same
// limit and burst, or the same capacity. A key is at most MaxKeyLen (512)
// bytes; the constructors panic beyond.
//
// A key built from what a client sends (a user name, an IP address, an API
// key) must not be the raw input: its length would be the sender's to
// choose, and on a Cluster braces in it would choose the shard (the part
// between the first "{" and the next "}" is all that is hashed), so one
// sender could pile every key on one node. Hash it, and put braces only
// around text of your own:
//
//	sum := sha256.Sum256([]byte(user))
//	id := hex.EncodeToString(sum[:16])
//	lim := redislimit.NewLimiter(rdb, "login:"+id, ratelimit.Every(time.Minute), 5)
//	sem := redislimit.NewSemaphore(rdb, "{exports:"+id+"}", 2)
//
// Errors quote keys (%q), so a key cannot forge a line in a log.
//
// # Rules
//
// Every type is safe for concurrent use. The client must be a go-redis
// client with ContextTimeoutEnabled (constructors panic otherwise, for the
// client types they can inspect), so that a context's deadline bounds each
// round trip. No call starts a goroutine that outlives it: Wait sleeps in
// its caller, a Semaphore's poller is one of its waiting callers, and Do's
// renewals stop before Do returns, also when the function panics (the panic
// goes on unchanged, once the slot is released).
// Blocking calls take a context first, fail at once if it is done, and
// return ctx.Err() unchanged when it ends.
//
// A Lease must be released (Do does it); a lease that is not renewed expires
// after its TTL all the same. A nil client, context or function, an empty
// key or one longer than MaxKeyLen, or a limit, burst or capacity out of
// range panics with a message naming the function and the argument. The zero values are not usable: use
// the constructors.
package redislimit
