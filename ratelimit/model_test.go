//go:build go1.25

package ratelimit_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/ratelimit"
	"github.com/structured-go/structured/ratelimit/internal/bucketmodel"
)

// The differential test: a Limiter (or a Keyed limiter, key by key) and the
// model of internal/bucketmodel are driven with the same random calls at the
// same instants of virtual time, and must agree after every step: on every
// grant and refusal, every delay, every error, and Tokens(). Idle gaps run
// from nothing to many refill periods; the calls are Allow/AllowN,
// Reserve/ReserveN, Wait/WaitN with and without deadlines, cancelled
// reservations and waits in any order, SetLimit and SetBurst (to and from
// Inf and 0) mid-run, and many goroutines calling at one instant. At the
// end, every window [a, b] of the run is checked against the bound: the
// tokens granted in it are at most burst + limit × (b - a), give or take
// the nanosecond to which a reservation's time is rounded.
//
// The limits are whole numbers of tokens a second, for which the Limiter's
// arithmetic is exact, so that the two must agree to the last bit.

func TestLimiterAgreesWithTheModel(t *testing.T) {
	for seed := range uint64(60) {
		synctest.Test(t, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 18))
			limit, burst := randomLimit(rng), randomBurst(rng)
			lim := ratelimit.NewLimiter(ratelimit.Limit(limit), burst)
			h := newHarness(t, seed, rng, 1, limit, burst, subject{
				allow:  func(_, n int) bool { return lim.AllowN(n) },
				wait:   func(ctx context.Context, _, n int) error { return lim.WaitN(ctx, n) },
				tokens: func(int) float64 { return lim.Tokens() },
				lim:    lim,
			})
			h.run(250)
		})
	}
}

func TestKeyedAgreesWithTheModelKeyByKey(t *testing.T) {
	for seed := range uint64(40) {
		synctest.Test(t, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 81))
			limit, burst := randomLimit(rng), randomBurst(rng)
			const keys = 4
			k := ratelimit.NewKeyed[int](ratelimit.Limit(limit), burst, ratelimit.WithMaxKeys(keys))
			h := newHarness(t, seed, rng, keys, limit, burst, subject{
				allow:  k.AllowN,
				wait:   k.WaitN,
				tokens: k.Tokens,
			})
			h.run(250)
		})
	}
}

func randomLimit(rng *rand.Rand) float64 {
	return []float64{0, 1, 2, 3, 10, 10, 100, 1000, bucketmodel.Inf}[rng.IntN(9)]
}

func randomBurst(rng *rand.Rand) int { return []int{0, 1, 2, 3, 5, 8}[rng.IntN(6)] }

// A subject is what the harness drives: a Limiter (key 0 only), or a Keyed
// limiter.
type subject struct {
	allow  func(key, n int) bool
	wait   func(ctx context.Context, key, n int) error
	tokens func(key int) float64
	lim    *ratelimit.Limiter // for the calls only a Limiter has, or nil
}

// A grant is tokens granted at a time, by a call made while the limit and
// burst were those of segment seg.
type grant struct {
	at     time.Duration
	key, n int
	seg    int
}

type segment struct {
	limit float64
	burst int
}

// A waiter is a WaitN in its own goroutine that the model says waits.
type waiter struct {
	key, n, seg int
	m           *bucketmodel.Reservation
	deadline    time.Duration // -1 for none
	stop        context.CancelFunc
	done        chan error
	at          time.Duration // when WaitN returned
	finished    bool
	cancelled   bool // by the harness
}

type reservation struct {
	r   *ratelimit.Reservation
	m   *bucketmodel.Reservation
	seg int
}

type harness struct {
	t       *testing.T
	seed    uint64
	rng     *rand.Rand
	start   time.Time
	sub     subject
	models  []*bucketmodel.Bucket
	segs    []segment
	grants  []grant
	resvs   []reservation // those the harness may still cancel
	made    []reservation // every one, to count its grant
	waiters []*waiter
	step    int
	what    string // the current step, for messages
}

func newHarness(t *testing.T, seed uint64, rng *rand.Rand, keys int, limit float64, burst int, sub subject) *harness {
	h := &harness{t: t, seed: seed, rng: rng, start: time.Now(), sub: sub, segs: []segment{{limit, burst}}}
	for range keys {
		h.models = append(h.models, bucketmodel.New(limit, burst))
	}
	return h
}

func (h *harness) now() time.Duration { return time.Since(h.start) }

func (h *harness) seg() segment { return h.segs[len(h.segs)-1] }

func (h *harness) fatalf(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf("seed %d, step %d (%s), at %v, limit %v burst %d: %s", h.seed, h.step, h.what, h.now(),
		h.seg().limit, h.seg().burst, fmt.Sprintf(format, args...))
}

func ratFloat(r *big.Rat) float64 {
	f, _ := r.Float64()
	return f
}

func (h *harness) run(steps int) {
	for h.step = range steps {
		h.idle()
		h.act()
		for key, m := range h.models {
			if got, want := h.sub.tokens(key), ratFloat(m.Tokens(h.now())); got != want {
				h.fatalf("key %d: Tokens() = %v, the model says %v", key, got, want)
			}
		}
	}
	// Let every waiter finish, in time order.
	h.what = "the end"
	for {
		next, ok := h.nextEvent()
		if !ok {
			break
		}
		h.sleepUntil(next)
	}
	h.checkWindows()
}

// idle lets a random gap of virtual time pass: none, less than a token's
// period, about one, or many.
func (h *harness) idle() {
	period := time.Second
	if l := h.seg().limit; l > 0 && l != bucketmodel.Inf {
		period = time.Duration(float64(time.Second) / l)
	}
	var gap time.Duration
	switch h.rng.IntN(6) {
	case 0, 1:
	case 2:
		gap = time.Duration(h.rng.Int64N(int64(period)))
	case 3:
		gap = period + time.Duration(h.rng.Int64N(int64(period)))/8
	case 4:
		gap = time.Duration(h.rng.Int64N(4 * int64(period)))
	case 5:
		gap = time.Duration(1+h.rng.IntN(20)) * period * time.Duration(max(1, h.seg().burst))
	}
	h.what = fmt.Sprintf("idle %v", gap)
	h.advanceTo(h.now() + gap)
}

// advanceTo lets virtual time pass until target, stopping at every time a
// waiter returns, so that the model hears of each at its time.
func (h *harness) advanceTo(target time.Duration) {
	for {
		next, ok := h.nextEvent()
		if !ok || next > target {
			break
		}
		h.sleepUntil(next)
	}
	h.sleepUntil(target)
}

// nextEvent returns the earliest time at which a waiter returns.
func (h *harness) nextEvent() (time.Duration, bool) {
	var next time.Duration
	found := false
	for _, w := range h.waiters {
		if w.finished {
			continue
		}
		at := w.m.Act
		if w.deadline >= 0 && w.deadline < at {
			at = w.deadline
		}
		if !found || at < next {
			next, found = at, true
		}
	}
	return next, found
}

// sleepUntil sleeps until t, then collects the waiters that returned.
func (h *harness) sleepUntil(t time.Duration) {
	if d := t - h.now(); d > 0 {
		time.Sleep(d)
	}
	synctest.Wait()
	for _, w := range h.waiters {
		if w.finished {
			continue
		}
		select {
		case err := <-w.done:
			h.finish(w, err)
		default:
			if h.now() > w.m.Act {
				h.fatalf("a WaitN(key %d, n=%d) still waits; the model says it acted at %v", w.key, w.n, w.m.Act)
			}
		}
	}
}

// finish checks what a waiter's WaitN returned, when.
func (h *harness) finish(w *waiter, err error) {
	w.finished = true
	switch {
	case err == nil:
		if w.at != w.m.Act {
			h.fatalf("WaitN(key %d, n=%d) returned at %v; the model says at %v", w.key, w.n, w.at, w.m.Act)
		}
		h.grants = append(h.grants, grant{w.at, w.key, w.n, w.seg})
	case w.cancelled && errors.Is(err, context.Canceled):
		// Checked, and the model told, where the harness cancelled it.
	case errors.Is(err, context.DeadlineExceeded) && w.at == w.deadline && w.deadline == w.m.Act:
		// The deadline and the tokens came at the same instant, and the
		// deadline won: the wait gives its tokens back, at that instant.
		h.models[w.key].Cancel(w.at, w.m)
	default:
		h.fatalf("WaitN(key %d, n=%d, deadline %v) = %v at %v; the model says it acts at %v", w.key, w.n, w.deadline, err, w.at, w.m.Act)
	}
}

func (h *harness) act() {
	key := h.rng.IntN(len(h.models))
	m := h.models[key]
	burst := h.seg().burst
	n := h.rng.IntN(burst + 2)
	if h.rng.IntN(4) > 0 {
		n = min(n, 1+h.rng.IntN(2))
	}
	now := h.now()
	switch c := h.rng.IntN(24); {
	case c < 5:
		h.what = fmt.Sprintf("AllowN(key %d, %d)", key, n)
		got, want := h.sub.allow(key, n), m.AllowN(now, n)
		if got != want {
			h.fatalf("AllowN = %v, the model says %v", got, want)
		}
		if got {
			h.grants = append(h.grants, grant{now, key, n, len(h.segs) - 1})
		}
	case c < 9:
		h.startWait(key, n)
	case c < 11:
		h.cancelWaiter()
	case c < 13:
		h.concurrent(key, n)
	case c < 15:
		h.waitsThenCancels(key)
	case h.sub.lim == nil:
		h.what = fmt.Sprintf("Tokens(key %d)", key)
	case c < 18:
		h.what = fmt.Sprintf("ReserveN(%d)", n)
		r := h.sub.lim.ReserveN(n)
		mr := m.ReserveN(now, n, 1<<62)
		h.checkReservation(r, mr)
		h.resvs = append(h.resvs, reservation{r, mr, len(h.segs) - 1})
		h.made = append(h.made, reservation{r, mr, len(h.segs) - 1})
	case c < 20:
		if len(h.resvs) == 0 {
			return
		}
		i := h.rng.IntN(len(h.resvs))
		p := h.resvs[i]
		h.what = fmt.Sprintf("Cancel of ReserveN(%d) acting at %v", p.m.N, p.m.Act)
		p.r.Cancel()
		m.Cancel(now, p.m)
		if p.m.OK && p.m.Act >= now && h.rng.IntN(2) == 0 {
			return // keep it: cancelling twice must do nothing
		}
		h.resvs = slices.Delete(h.resvs, i, i+1)
	case c < 22:
		h.reservationsThenCancels()
	case c < 23:
		limit := randomLimit(h.rng)
		h.what = fmt.Sprintf("SetLimit(%v)", limit)
		h.sub.lim.SetLimit(ratelimit.Limit(limit))
		m.SetLimit(now, limit)
		h.segs = append(h.segs, segment{limit, burst})
	default:
		b := randomBurst(h.rng)
		h.what = fmt.Sprintf("SetBurst(%d)", b)
		h.sub.lim.SetBurst(b)
		m.SetBurst(now, b)
		h.segs = append(h.segs, segment{h.seg().limit, b})
	}
	// Every outstanding reservation keeps the delay the model gives it.
	now = h.now()
	for _, p := range h.resvs {
		want := ratelimit.InfDuration
		if p.m.OK {
			want = max(p.m.Act-now, 0)
		}
		if got := p.r.Delay(); got != want {
			h.fatalf("a ReserveN(%d) has Delay() %v, the model says %v", p.m.N, got, want)
		}
	}
}

// reservationsThenCancels makes several reservations at one instant, may
// change the limit or the burst, and cancels some or all of them, in any
// order, at once or a little later: the cases where Cancel holds tokens
// back, and then gives them all back.
func (h *harness) reservationsThenCancels() {
	m := h.models[0]
	burst := h.seg().burst
	k := 2 + h.rng.IntN(5)
	h.what = fmt.Sprintf("%d reservations, then cancels", k)
	var batch []reservation
	for range k {
		n := 1 + h.rng.IntN(max(burst, 1))
		r := h.sub.lim.ReserveN(n)
		mr := m.ReserveN(h.now(), n, 1<<62)
		h.checkReservation(r, mr)
		p := reservation{r, mr, len(h.segs) - 1}
		batch = append(batch, p)
		h.made = append(h.made, p)
	}
	switch h.rng.IntN(4) {
	case 0:
		limit := randomLimit(h.rng)
		h.what += fmt.Sprintf(", SetLimit(%v)", limit)
		h.sub.lim.SetLimit(ratelimit.Limit(limit))
		m.SetLimit(h.now(), limit)
		h.segs = append(h.segs, segment{limit, burst})
	case 1:
		b := randomBurst(h.rng)
		h.what += fmt.Sprintf(", SetBurst(%d)", b)
		h.sub.lim.SetBurst(b)
		m.SetBurst(h.now(), b)
		h.segs = append(h.segs, segment{h.seg().limit, b})
	}
	h.rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
	keep := 0
	if h.rng.IntN(2) == 0 {
		keep = h.rng.IntN(k)
	}
	for _, p := range batch[keep:] {
		if h.rng.IntN(3) == 0 {
			h.advanceTo(h.now() + time.Duration(h.rng.Int64N(int64(50*time.Millisecond))))
		}
		p.r.Cancel()
		m.Cancel(h.now(), p.m)
		if got, want := h.sub.tokens(0), ratFloat(m.Tokens(h.now())); got != want {
			h.fatalf("after a cancel, Tokens() = %v, the model says %v", got, want)
		}
	}
	for _, p := range batch[:keep] {
		h.resvs = append(h.resvs, p)
	}
}

// waitsThenCancels starts several waits for one key at one instant, lets
// some time pass, takes a token or none, and cancels the waits still
// waiting, in any order.
func (h *harness) waitsThenCancels(key int) {
	k := 2 + h.rng.IntN(3)
	burst := h.seg().burst
	var ws []*waiter
	for range k {
		n := 1 + h.rng.IntN(max(burst, 1))
		before := len(h.waiters)
		h.startWait(key, n)
		if len(h.waiters) > before {
			ws = append(ws, h.waiters[len(h.waiters)-1])
		}
	}
	if len(ws) == 0 {
		return
	}
	h.what = fmt.Sprintf("%d waits for key %d, then cancels", len(ws), key)
	last := ws[len(ws)-1].m.Act
	h.advanceTo(h.now() + time.Duration(h.rng.Int64N(int64(last-h.now())+1)))
	n := h.rng.IntN(2)
	if got, want := h.sub.allow(key, n), h.models[key].AllowN(h.now(), n); got != want {
		h.fatalf("AllowN(key %d, %d) among the waits = %v, the model says %v", key, n, got, want)
	} else if got {
		h.grants = append(h.grants, grant{h.now(), key, n, len(h.segs) - 1})
	}
	h.rng.Shuffle(len(ws), func(i, j int) { ws[i], ws[j] = ws[j], ws[i] })
	for _, w := range ws {
		if w.finished || w.m.Act <= h.now() {
			continue
		}
		w.cancelled = true
		w.stop()
		synctest.Wait()
		if err := <-w.done; err != context.Canceled {
			h.fatalf("the cancelled WaitN = %v, want context.Canceled", err)
		}
		w.finished = true
		h.models[w.key].Cancel(h.now(), w.m)
		if got, want := h.sub.tokens(key), ratFloat(h.models[key].Tokens(h.now())); got != want {
			h.fatalf("after cancelling a WaitN, Tokens(key %d) = %v, the model says %v", key, got, want)
		}
	}
}

func (h *harness) checkReservation(r *ratelimit.Reservation, mr *bucketmodel.Reservation) {
	h.t.Helper()
	if r.OK() != mr.OK {
		h.fatalf("OK() = %v, the model says %v", r.OK(), mr.OK)
	}
	if mr.OK {
		if d := r.Delay(); d != mr.Act-h.now() {
			h.fatalf("Delay() = %v, the model says %v", d, mr.Act-h.now())
		}
	} else if d := r.Delay(); d != ratelimit.InfDuration {
		h.fatalf("a reservation that is not OK has Delay() %v", d)
	}
}

// startWait starts a WaitN in a goroutine, with a random deadline or none,
// and checks what it does at once against the model.
func (h *harness) startWait(key, n int) {
	now := h.now()
	w := &waiter{key: key, n: n, seg: len(h.segs) - 1, deadline: -1, done: make(chan error, 1)}
	ctx, stop := context.WithCancel(h.t.Context())
	maxWait := time.Duration(1 << 62)
	if h.rng.IntN(2) == 0 {
		w.deadline = now + 1 + time.Duration(h.rng.Int64N(int64(3*time.Second)))
		maxWait = w.deadline - now
		ctx, stop = context.WithDeadline(h.t.Context(), h.start.Add(w.deadline))
	}
	w.stop = stop
	h.what = fmt.Sprintf("WaitN(key %d, n=%d, deadline %v)", key, n, w.deadline)
	//structvet:ignore SV002 a waiter still blocked is kept in the harness, which receives its w.done at a later step
	go func() {
		err := h.sub.wait(ctx, key, n)
		w.at = h.now()
		w.done <- err
	}()
	synctest.Wait()
	w.m = h.models[key].WaitN(now, n, maxWait)
	select {
	case err := <-w.done:
		stop()
		switch {
		case !w.m.OK && n > h.seg().burst && h.seg().limit != bucketmodel.Inf:
			if !errors.Is(err, ratelimit.ErrExceedsBurst) {
				h.fatalf("WaitN = %v, want ErrExceedsBurst", err)
			}
		case !w.m.OK:
			if !errors.Is(err, ratelimit.ErrExceedsDeadline) {
				h.fatalf("WaitN = %v, the model says it can never or not in time: want ErrExceedsDeadline", err)
			}
		case err != nil || w.m.Act != now:
			h.fatalf("WaitN returned %v at once; the model says it acts at %v", err, w.m.Act)
		default:
			h.grants = append(h.grants, grant{now, key, n, w.seg})
		}
	default:
		if !w.m.OK || w.m.Act == now {
			h.fatalf("WaitN waits; the model says OK %v, acting at %v", w.m.OK, w.m.Act)
		}
		h.waiters = append(h.waiters, w)
	}
}

// cancelWaiter ends the context of a waiter whose tokens have not come.
func (h *harness) cancelWaiter() {
	now := h.now()
	for _, w := range h.waiters {
		if w.finished || w.m.Act <= now || h.rng.IntN(2) == 0 {
			continue
		}
		h.what = fmt.Sprintf("cancel WaitN(key %d, n=%d) due at %v", w.key, w.n, w.m.Act)
		w.cancelled = true
		w.stop()
		synctest.Wait()
		select {
		case err := <-w.done:
			if err != context.Canceled {
				h.fatalf("the cancelled WaitN = %v, want context.Canceled", err)
			}
			w.finished = true
		default:
			h.fatalf("the cancelled WaitN did not return")
		}
		h.models[w.key].Cancel(now, w.m)
		return
	}
}

// concurrent has several goroutines call AllowN(n), or WaitN(n), at once.
// They may be served in any order, but as they all ask for n, the grants
// and the times they wait do not depend on it.
func (h *harness) concurrent(key, n int) {
	now := h.now()
	k := 2 + h.rng.IntN(8)
	m := h.models[key]
	if h.rng.IntN(2) == 0 {
		h.what = fmt.Sprintf("%d × AllowN(key %d, %d) at once", k, key, n)
		var mu sync.Mutex
		got := 0
		var wg sync.WaitGroup
		for range k {
			wg.Go(func() {
				if h.sub.allow(key, n) {
					mu.Lock()
					got++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		want := 0
		for range k {
			if m.AllowN(now, n) {
				want++
			}
		}
		if got != want {
			h.fatalf("%d granted, the model says %d", got, want)
		}
		for range got {
			h.grants = append(h.grants, grant{now, key, n, len(h.segs) - 1})
		}
		return
	}
	h.what = fmt.Sprintf("%d × WaitN(key %d, %d) at once", k, key, n)
	results := make(chan time.Duration, k)
	for range k {
		go func() {
			if err := h.sub.wait(context.Background(), key, n); err != nil {
				results <- -1
				return
			}
			results <- h.now()
		}()
	}
	synctest.Wait()
	var want []time.Duration
	for range k {
		r := m.WaitN(now, n, 1<<62)
		if !r.OK {
			want = append(want, -1)
		} else {
			want = append(want, r.Act)
		}
	}
	// Wait for them all, each at its time, then compare the times.
	last := slices.Max(want)
	for h.now() < last {
		next, ok := h.nextEvent()
		if !ok || next > last {
			next = last
		}
		h.sleepUntil(next)
	}
	var got []time.Duration
	for range k {
		got = append(got, <-results)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		h.fatalf("the waits returned at %v, the model says %v (-1: failed)", got, want)
	}
	for _, at := range got {
		if at >= 0 {
			h.grants = append(h.grants, grant{at, key, n, len(h.segs) - 1})
		}
	}
}

// checkWindows checks the bound on every window of the run, segment by
// segment: the tokens granted by the calls of one segment, between two of
// them, are at most burst + limit × the time between.
func (h *harness) checkWindows() {
	// A reservation's tokens are granted when it acts, unless it was
	// cancelled first.
	for _, p := range h.made {
		if p.m.OK && !p.m.Cancelled && p.m.N > 0 {
			h.grants = append(h.grants, grant{p.m.Act, 0, p.m.N, p.seg})
		}
	}
	type keySeg struct{ key, seg int }
	bySeg := map[keySeg][]grant{}
	for _, g := range h.grants {
		bySeg[keySeg{g.key, g.seg}] = append(bySeg[keySeg{g.key, g.seg}], g)
	}
	for ks, gs := range bySeg {
		s := h.segs[ks.seg]
		if s.limit == bucketmodel.Inf {
			continue
		}
		slices.SortFunc(gs, func(a, b grant) int { return cmp.Compare(a.at, b.at) })
		for i := range gs {
			sum := int64(0)
			for j := i; j < len(gs); j++ {
				sum += int64(gs[j].n)
				// In nanotokens: sum ≤ burst + limit × (b - a + 1ns). A
				// reservation acts at the first nanosecond by which its
				// tokens have come, so a window that starts with one may
				// start up to a nanosecond late.
				if sum*1e9 > int64(s.burst)*1e9+int64(s.limit)*int64(gs[j].at-gs[i].at+1) {
					h.fatalf("key %d: %d tokens granted in [%v, %v], more than burst %d + %v/s × %v",
						ks.key, sum, gs[i].at, gs[j].at, s.burst, s.limit, gs[j].at-gs[i].at)
				}
			}
		}
	}
}
