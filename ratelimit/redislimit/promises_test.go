package redislimit_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/structured-go/structured/ratelimit"
	"github.com/structured-go/structured/ratelimit/redislimit"
)

// While the call that asks Redis afresh (the answer being TrustFor old) is
// under way, the others go on refusing by the old answer, for TrustFor more
// at most; then they ask too. (Burst 5: the call under way does not rule
// the others out by itself.)
func TestOthersRefuseByTheOldAnswerWhileOneAsks(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int64
	f := startFake(t, func(string, []string) any {
		if calls.Add(1) == 2 {
			<-release // the second call, the probe, hangs until told
		}
		now := redisMicros() // empty for 10s, at 10/s with burst 5
		return []any{int64(0), int64(10_000_000 - 400_000), int64(10_000_000 - 500_000), "", now}
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	clock := newManualClock()
	l := redislimit.NewLimiter(f.client(t), "probe", 10, 5)
	redislimit.SetClock(l, clock.Now)
	if ok, _ := l.Allow(t.Context()); ok {
		t.Fatal("Allow on a bucket empty for 10s = true")
	}
	clock.Add(redislimit.TrustFor)
	probed := make(chan struct{})
	go func() {
		defer close(probed)
		l.Allow(context.Background()) // asks, and hangs
	}()
	for calls.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	clock.Add(redislimit.TrustFor - time.Millisecond)
	before := calls.Load()
	if ok, _ := l.Allow(t.Context()); ok || calls.Load() != before {
		t.Fatalf("Allow while the probe asks: %v, %d calls; want refused without asking", ok, calls.Load()-before)
	}
	clock.Add(time.Millisecond)
	if ok, _ := l.Allow(t.Context()); ok || calls.Load() != before+1 {
		t.Fatalf("Allow TrustFor after the probe began: %v, %d calls; want it to ask too", ok, calls.Load()-before)
	}
	close(release)
	<-probed
}

// A WaitN keeps a margin for the round trip before its deadline: with
// round trips of 20ms, a Wait with 100ms left asks for tokens within 100ms
// less the margin (at least 20ms), not within 100ms.
func TestWaitKeepsAMarginForTheRoundTrip(t *testing.T) {
	var mu sync.Mutex
	var maxWaits []int64
	f := startFake(t, func(script string, args []string) any {
		mw, _ := strconv.ParseInt(args[3], 10, 64)
		mu.Lock()
		maxWaits = append(maxWaits, mw)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		now := redisMicros() // at 10/s with burst 10, half full after the grant
		return []any{int64(1), int64(0), int64(-500_000), strconv.FormatInt(now+500_000, 10), now}
	})
	l := redislimit.NewLimiter(f.client(t), "margin", 10, 10)
	for range 5 { // round trips of 20ms, and more
		if ok, err := l.Allow(t.Context()); err != nil || !ok {
			t.Fatalf("Allow = %v, %v", ok, err)
		}
	}
	ctx, stop := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer stop()
	if err := l.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	last := maxWaits[len(maxWaits)-1]
	mu.Unlock()
	if last > 80_000 {
		t.Fatalf("a Wait with 100ms left after round trips of 20ms asked for tokens within %dµs; want 80ms or less", last)
	}
	t.Logf("asked within %v", time.Duration(last)*time.Microsecond)
}

// A grant whose answer comes back too late for its WaitN's deadline goes to
// the next WaitN of the process whose deadline allows: it acts at the
// grant's time, without a round trip of its own.
func TestALateGrantGoesToTheNextWait(t *testing.T) {
	var calls atomic.Int64
	f := startFake(t, func(script string, args []string) any {
		calls.Add(1)
		mw, _ := strconv.ParseInt(args[3], 10, 64)
		time.Sleep(10 * time.Millisecond) // the answer is slow...
		now := redisMicros()
		// ...and grants at the far end of the time asked for.
		return []any{int64(1), mw, mw, strconv.FormatInt(now+mw+100_000, 10), now}
	})
	l := redislimit.NewLimiter(f.client(t), "late", 10, 1)
	ctx, stop := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer stop()
	if err := l.Wait(ctx); !errors.Is(err, ratelimit.ErrExceedsDeadline) {
		t.Fatalf("Wait whose grant comes back too late = %v, want ErrExceedsDeadline", err)
	}
	if s := l.Stats(); s.Late != 1 {
		t.Fatalf("Stats %+v, want 1 late", s)
	}
	asked := calls.Load()
	ctx2, stop2 := context.WithTimeout(t.Context(), time.Second)
	defer stop2()
	if err := l.Wait(ctx2); err != nil {
		t.Fatalf("the next Wait = %v, want the late grant", err)
	}
	if s := l.Stats(); s.Spares != 1 || calls.Load() != asked {
		t.Fatalf("Stats %+v, %d more calls; want the spare taken without asking", s, calls.Load()-asked)
	}
}

// WaitN calls whose tokens are further ahead than ReserveWithin wait in
// line in this process, and go in the order they came.
func TestWaitsBeyondReserveWithinGoInOrder(t *testing.T) {
	l := redislimit.NewLimiter(newClient(t, redisAddr), newKey(t), 50, 1, redislimit.ReserveWithin(25*time.Millisecond))
	if err := l.WaitN(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	const waits = 6 // 120ms of tokens: all but the first beyond ReserveWithin
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range waits {
		calls := l.Stats().Calls
		wg.Go(func() {
			if err := l.Wait(t.Context()); err != nil {
				t.Error(err)
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		})
		for l.Stats().Calls == calls { // the next starts once this one has
			time.Sleep(100 * time.Microsecond)
		}
		time.Sleep(time.Millisecond) // and is in line, or asking
	}
	wg.Wait()
	for i, w := range order {
		if w != i {
			t.Fatalf("Waits returned in the order %v, want the order they came", order)
		}
	}
	if s := l.Stats(); s.Queued < waits-2 {
		t.Fatalf("Stats %+v: want the Waits beyond ReserveWithin in line", s)
	}
}

// Many callers of one Limiter polling an empty bucket do not all ask Redis:
// as tokens come, about one call asks per token, whatever the callers.
func TestManyCallersAskAboutOncePerToken(t *testing.T) {
	const rate, callers = 100, 100
	l := redislimit.NewLimiter(newClient(t, redisAddr), newKey(t), rate, 1)
	var granted atomic.Int64
	stopAt := time.Now().Add(500 * time.Millisecond)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for time.Now().Before(stopAt) {
				if ok, err := l.Allow(t.Context()); err != nil {
					t.Error(err)
					return
				} else if ok {
					granted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	s := l.Stats()
	t.Logf("%d callers, %d calls, %d granted, %d round trips, %d answered without Redis", callers, s.Calls, granted.Load(), s.RoundTrips, s.Saved)
	if most := 2*granted.Load() + 10; s.RoundTrips > most {
		t.Fatalf("%d round trips for %d grants by %d callers; want about one per token (at most %d)", s.RoundTrips, granted.Load(), callers, most)
	}
}

// When burst is less than replicas, each local limiter still has a burst
// of 1: with Redis down, the replicas together grant up to replicas
// tokens at once, replicas − burst more than the burst.
func TestFailLocalWithABurstBelowTheReplicas(t *testing.T) {
	var granted int
	for range 3 {
		// Nothing listens on port 1: every call fails at once.
		l := redislimit.NewLimiter(newClient(t, "127.0.0.1:1"), "down", 3, 1, redislimit.FailLocal(3))
		for range 5 {
			if ok, err := l.Allow(t.Context()); err != nil {
				t.Fatal(err)
			} else if ok {
				granted++
			}
		}
	}
	if granted != 3 {
		t.Fatalf("3 replicas with burst 1 under FailLocal(3) granted %d at once with Redis down, want 3", granted)
	}
}

// tcpProxy forwards connections on a loopback port to a Redis, and can be
// cut (every connection closed, new ones refused) and restored on the same
// port: a network partition, with Redis keeping its state.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() {
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				io.Copy(dst, src)
				dst.Close()
				src.Close()
			}
			p.wg.Go(func() { pipe(up, c) })
			p.wg.Go(func() { pipe(c, up) })
		}
	})
}

// cut closes the listener and every connection.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// restore listens again on the same port.
func (p *tcpProxy) restore() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("the proxy cannot listen on %s again: %v", p.addr, err)
	}
	p.serve(ln)
}

// readTAT reads a limiter key's TAT, in µs.
func readTAT(t *testing.T, c *redis.Client, key string) float64 {
	t.Helper()
	s, err := c.Get(t.Context(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Under FailLocal, a replica that loses Redis takes over from its share of
// the bucket as its last answer told it; the first call that Redis answers
// again charges it with what the local limiter handed out since (and had
// not earned back). Here Redis keeps its state through a partition: each of
// two replicas, whose last answer tells of a full bucket by now, hands out
// its local burst of 5, and each one's first answer moves the key's TAT by
// those 5 tokens and its own.
func TestFailLocalChargesRedisWithWhatTheLocalLimiterHandedOut(t *testing.T) {
	const rate, burst, replicas = 20, 10, 2
	token := 1e6 / rate // µs
	proxy := startProxy(t, redisAddr)
	key := newKey(t)
	ref := newClient(t, redisAddr)
	clocks := make([]*manualClock, replicas)
	lims := make([]*redislimit.Limiter, replicas)
	for i := range lims {
		clocks[i] = newManualClock()
		lims[i] = redislimit.NewLimiter(newClient(t, proxy.addr), key, rate, burst, redislimit.FailLocal(replicas))
		redislimit.SetClock(lims[i], clocks[i].Now)
		// Connected through the proxy, and told the bucket holds 9, or 8.
		if _, err := lims[i].ReserveN(t.Context(), 0+1); err != nil {
			t.Fatal(err)
		}
	}
	proxy.cut()
	for i, l := range lims {
		// The last answer too old to refuse by, and the bucket it told
		// of full again by now: a local share of 5.
		clocks[i].Add(200 * time.Millisecond)
		var local int
		for range 2 * burst / replicas {
			if ok, err := l.Allow(t.Context()); err != nil {
				t.Fatal(err)
			} else if ok {
				local++
			}
		}
		if local != burst/replicas {
			t.Fatalf("replica %d granted %d with Redis cut off, want its local burst, %d", i, local, burst/replicas)
		}
	}
	proxy.restore()
	direct := redislimit.NewLimiter(ref, key, rate, burst)
	for range 2 { // the key in debt, so that every charge shows in its TAT
		if _, err := direct.ReserveN(t.Context(), burst); err != nil {
			t.Fatal(err)
		}
	}
	for i, l := range lims {
		clocks[i].Add(redislimit.DownFor)
		before := readTAT(t, ref, key)
		r, err := l.Reserve(t.Context())
		if err != nil || !r.OK() {
			t.Fatalf("replica %d: Reserve once Redis is back = %v, %v", i, r, err)
		}
		moved := (readTAT(t, ref, key) - before) / token
		if want := float64(burst/replicas + 1); moved < want-0.01 || moved > want+0.01 {
			t.Fatalf("replica %d's first answer moved the TAT by %.2f tokens, want its %d local grants and its own", i, moved, burst/replicas)
		}
		// The charge is made once.
		before = readTAT(t, ref, key)
		if _, err := l.Reserve(t.Context()); err != nil {
			t.Fatal(err)
		}
		if moved := (readTAT(t, ref, key) - before) / token; moved > 1.01 {
			t.Fatalf("replica %d's second answer moved the TAT by %.2f tokens, want 1", i, moved)
		}
	}
}

// A replica that loses Redis while Waits have reserved ahead in it takes
// over that debt: its local limiter grants nothing until the reservations
// it knew of have come, rather than a burst beside them.
func TestFailLocalTakesOverTheBucketsDebt(t *testing.T) {
	const rate, burst, replicas = 20, 10, 2
	proxy := startProxy(t, redisAddr)
	l := redislimit.NewLimiter(newClient(t, proxy.addr), newKey(t), rate, burst, redislimit.FailLocal(replicas))
	for range 3 { // 30 tokens: the burst, and a second ahead
		if _, err := l.ReserveN(t.Context(), burst); err != nil {
			t.Fatal(err)
		}
	}
	proxy.cut()
	clock := newManualClock()
	redislimit.SetClock(l, clock.Now)
	clock.Add(redislimit.TrustFor)
	for range 5 {
		if ok, err := l.Allow(t.Context()); ok || err != nil {
			t.Fatalf("Allow with Redis down and a second reserved ahead = %v, %v; want false", ok, err)
		}
	}
	if s := l.Stats(); s.Failures != 5 {
		t.Fatalf("Stats %+v: want the 5 Allows answered by the local limiter", s)
	}
}

// When a poll fails, every waiter of the Semaphore fails with it, and each
// failed Acquire is heard by OnFailure.
func TestAFailedPollFailsEveryWaiter(t *testing.T) {
	srv := ownServer(t)
	key := newKey(t)
	holder, err := redislimit.NewSemaphore(newClient(t, srv.Addr()), key, 1).Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_ = holder // lost with the server
	var heard atomic.Int64
	sem := redislimit.NewSemaphore(newClient(t, srv.Addr()), key, 1,
		redislimit.OnFailure(func(err error) {
			if errors.Is(err, redislimit.ErrUnavailable) {
				heard.Add(1)
			}
		}))
	const waiters = 3
	errs := make(chan error, waiters)
	for range waiters {
		go func() {
			_, err := sem.Acquire(context.Background())
			errs <- err
		}()
	}
	untilQueued(t, newClient(t, srv.Addr()), key, waiters)
	srv.Kill()
	for range waiters {
		if err := <-errs; !errors.Is(err, redislimit.ErrUnavailable) {
			t.Fatalf("Acquire when the poll fails = %v, want ErrUnavailable", err)
		}
	}
	if heard.Load() != waiters {
		t.Fatalf("OnFailure heard %d failures, want %d, one a waiter", heard.Load(), waiters)
	}
}

// A group of waiters whose process stopped polling is forgotten when its
// patience runs out, and its waiters, first in the queue, stop holding it
// up: a live waiter then gets the slot.
func TestForgottenWaitersDoNotHoldTheQueue(t *testing.T) {
	key := newKey(t)
	ref := newClient(t, redisAddr)
	now := redisNow(t, ref).UnixMicro() - 1577836800*1_000_000
	const patience = 300 * time.Millisecond
	if err := ref.ZAdd(t.Context(), key+":queue", redis.Z{Score: 0, Member: "deadgroup/1"}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := ref.ZAdd(t.Context(), key+":waiting", redis.Z{Score: float64(now + patience.Microseconds()), Member: "deadgroup"}).Err(); err != nil {
		t.Fatal(err)
	}
	sem := redislimit.NewSemaphore(newClient(t, redisAddr), key, 1)
	if l, err := sem.TryAcquire(t.Context()); l != nil || err != nil {
		t.Fatalf("TryAcquire with a waiter of another process first = %v, %v; want nil, nil", l, err)
	}
	ctx, stop := context.WithTimeout(t.Context(), 10*time.Second)
	defer stop()
	l, err := sem.Acquire(ctx)
	if err != nil {
		t.Fatalf("Acquire behind a forgotten waiter = %v, want the slot once it is forgotten", err)
	}
	defer l.Release(t.Context())
	if err := ref.ZScore(t.Context(), key+":queue", "deadgroup/1").Err(); err != redis.Nil {
		t.Fatalf("ZSCORE of the forgotten waiter = %v, want it gone", err)
	}
}

// A Wait cancelled while it sleeps on its grant gives its tokens back to
// Redis when nobody has reserved since; when someone has, the next Wait of
// the process takes them, without a round trip.
func TestACancelledWaitsGrantGoesToTheNextWait(t *testing.T) {
	l := redislimit.NewLimiter(newClient(t, redisAddr), newKey(t), 2, 1)
	if err := l.Wait(t.Context()); err != nil { // the bucket empty
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- l.Wait(ctx) }() // sleeps on its grant, 500ms ahead
	// Once its answer is in, it sleeps, or is about to.
	for l.Stats().RoundTrips < 2 {
		time.Sleep(time.Millisecond)
	}
	other := redislimit.NewLimiter(newClient(t, redisAddr), l.Key(), 2, 1)
	if _, err := other.Reserve(t.Context()); err != nil { // reserved behind it
		t.Fatal(err)
	}
	stop()
	if err := <-done; err != context.Canceled {
		t.Fatalf("cancelled Wait = %v, want context.Canceled", err)
	}
	trips := l.Stats().RoundTrips
	if err := l.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s.Spares != 1 || s.RoundTrips != trips {
		t.Fatalf("Stats %+v after %d round trips; want the cancelled Wait's grant taken without asking", s, trips)
	}
}

// Under FailLocal, Redis restarted empty gets back the bucket as the
// replica last knew it: here a second of reservations ahead, which a fresh
// key would have forgotten.
func TestFailLocalRestoresTheBucketARestartLost(t *testing.T) {
	srv := ownServer(t)
	const rate, burst = 20, 10
	key := newKey(t)
	ref := newClient(t, srv.Addr())
	clock := newManualClock()
	l := redislimit.NewLimiter(newClient(t, srv.Addr()), key, rate, burst, redislimit.FailLocal(1))
	redislimit.SetClock(l, clock.Now)
	for range 3 { // the burst, and a second ahead
		if _, err := l.ReserveN(t.Context(), burst); err != nil {
			t.Fatal(err)
		}
	}
	known := readTAT(t, ref, key)
	srv.Kill()
	clock.Add(redislimit.TrustFor)
	if ok, err := l.Allow(t.Context()); ok || err != nil {
		t.Fatalf("Allow with Redis down and a second reserved ahead = %v, %v; want false from the local limiter", ok, err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	clock.Add(redislimit.DownFor)
	if _, err := l.Reserve(t.Context()); err != nil {
		t.Fatal(err)
	}
	if after := readTAT(t, ref, key); after < known {
		t.Fatalf("after the restart the key's TAT is %.0fµs before the one the replica knew: its reservations were forgotten", known-after)
	}
}
