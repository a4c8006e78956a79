package redislimit_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/structured-go/structured/ratelimit"
	"github.com/structured-go/structured/ratelimit/redislimit"
)

// simRedis plays Redis for the Limiter's scripts in virtual time
// (testing/synctest): the same GCRA arithmetic as gcraSrc and giveBackSrc,
// in µs since the scripts' epoch, with round trips of a chosen length. A
// round trip that its context's deadline cuts short loses its answer, as a
// real one does: the grant, if made, is made all the same.
type simRedis struct {
	base time.Time // Redis's clock reads 10^14 µs then
	mu   sync.Mutex
	tats map[string]string // key -> the TAT, as stored
	rtt  func() time.Duration
	rng  *rand.Rand
	n    atomic.Int64 // scripts run
}

func newSimRedis(seed uint64, minRTT, maxRTT time.Duration) *simRedis {
	s := &simRedis{base: time.Now(), tats: map[string]string{}, rng: rand.New(rand.NewPCG(seed, 21))}
	s.rtt = func() time.Duration {
		s.mu.Lock()
		defer s.mu.Unlock()
		return minRTT + time.Duration(s.rng.Int64N(int64(maxRTT-minRTT)+1))
	}
	return s
}

// now is Redis's clock, in µs since the scripts' epoch: synctest's clock,
// which starts in 2000, moved to after it.
func (s *simRedis) now() float64 {
	return 1e14 + float64(time.Since(s.base).Microseconds())
}

func num(v any) float64 {
	f, err := strconv.ParseFloat(fmt.Sprint(v), 64)
	if err != nil {
		panic(err)
	}
	return f
}

// tat returns the key's TAT at now; a key past its TAT has expired.
func (s *simRedis) tat(key string, now float64) (string, float64) {
	str, ok := s.tats[key]
	if !ok {
		return "", now
	}
	t := num(str)
	if t <= now {
		delete(s.tats, key)
		return "", now
	}
	return str, t
}

func (s *simRedis) set(key string, tat float64) string {
	str := strconv.FormatFloat(tat, 'f', -1, 64)
	s.tats[key] = str
	return str
}

func (s *simRedis) exec(script string, key string, args []any) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n.Add(1)
	now := s.now()
	switch script {
	case "gcra":
		T, burst, n, maxwait, charge, floor := num(args[0]), num(args[1]), num(args[2]), num(args[3]), num(args[4]), num(args[5])
		_, tat := s.tat(key, now)
		tau := burst * T
		if floor > tat || charge > 0 {
			tat = max(tat, floor) + charge*T
			s.set(key, tat)
		}
		next := tat + n*T
		wait := next - tau - now
		if wait > maxwait {
			return []any{int64(0), int64(math.Ceil(wait)), int64(math.Floor(tat - tau - now)), "", int64(now)}
		}
		stored := s.set(key, next)
		return []any{int64(1), int64(math.Ceil(max(wait, 0))), int64(math.Floor(next - tau - now)), stored, int64(now)}
	case "giveBack":
		mine, T, burst, n := fmt.Sprint(args[0]), num(args[1]), num(args[2]), num(args[3])
		tau := burst * T
		cur, tat := s.tat(key, now)
		if cur != mine || num(mine)-tau <= now {
			return []any{int64(0), int64(math.Floor(tat - tau - now)), int64(now)}
		}
		back := num(mine) - n*T
		if back <= now {
			delete(s.tats, key)
			back = now
		} else {
			s.set(key, back)
		}
		return []any{int64(1), int64(math.Floor(back - tau - now)), int64(now)}
	}
	panic("simRedis: no script " + script)
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *simRedis) EvalSha(ctx context.Context, sha string, keys []string, args ...any) *redis.Cmd {
	rtt := s.rtt()
	if err := sleep(ctx, rtt/2); err != nil {
		return redis.NewCmdResult(nil, err)
	}
	v := s.exec(redislimit.ScriptName(sha), keys[0], args)
	if err := sleep(ctx, rtt-rtt/2); err != nil {
		return redis.NewCmdResult(nil, err) // the answer is lost
	}
	return redis.NewCmdResult(v, nil)
}

func (s *simRedis) Eval(ctx context.Context, _ string, _ []string, _ ...any) *redis.Cmd {
	return redis.NewCmdResult(nil, errors.New("simRedis: EVAL"))
}

func (s *simRedis) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return s.Eval(ctx, script, keys, args...)
}

func (s *simRedis) EvalShaRO(ctx context.Context, sha string, keys []string, args ...any) *redis.Cmd {
	return s.EvalSha(ctx, sha, keys, args...)
}

func (s *simRedis) ScriptExists(ctx context.Context, hashes ...string) *redis.BoolSliceCmd {
	return redis.NewBoolSliceResult(make([]bool, len(hashes)), nil)
}

func (s *simRedis) ScriptLoad(ctx context.Context, script string) *redis.StringCmd {
	return redis.NewStringResult("", errors.New("simRedis: SCRIPT LOAD"))
}

// The design of Wait under contention, in virtual time and free of the
// host: 2 replicas whose callers loop on Wait with a deadline, more than the
// rate can serve (each caller asks at most once a round trip, so there are
// enough of them for the round trips of the case), against a Redis whose
// round trips take a random time up to the longest of the case. Whenever the deadline leaves room for a
// round trip — at any number of callers, and down to one token's time —
// at least 90% of the rate is granted, never more than burst + rate ×
// elapsed (exactly, by the one clock), with about one round trip a grant.
func TestWaitUnderContentionSimulated(t *testing.T) {
	const rate = 1200
	token := time.Second / rate
	for _, tc := range []struct {
		callers        int
		deadline       time.Duration
		burst          int
		minRTT, maxRTT time.Duration
	}{
		{200, 50 * time.Millisecond, 12, 100 * time.Microsecond, 300 * time.Microsecond},
		{200, 100 * time.Millisecond, 12, 100 * time.Microsecond, 300 * time.Microsecond},
		{200, token, 1, 100 * time.Microsecond, 300 * time.Microsecond},
		{200, 2 * token, 12, 100 * time.Microsecond, 300 * time.Microsecond},
		{20, token, 1, 100 * time.Microsecond, 300 * time.Microsecond},
		{1000, 5 * token, 12, 100 * time.Microsecond, 300 * time.Microsecond},
		{200, 50 * time.Millisecond, 12, time.Millisecond, 20 * time.Millisecond},
		{200, 50 * time.Millisecond, 1, 5 * time.Millisecond, 45 * time.Millisecond},
	} {
		name := fmt.Sprintf("%d callers, deadline %v, burst %d, round trips %v-%v", tc.callers, tc.deadline, tc.burst, tc.minRTT, tc.maxRTT)
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const replicas, run = 2, 500 * time.Millisecond
				// A refused caller tries again after a pause (virtual time
				// moves only while every goroutine waits): 5ms per
				// thousand callers, so that they ask 200,000 times a
				// second in all, however many.
				pause := time.Duration(tc.callers) * 5 * time.Microsecond
				sim := newSimRedis(uint64(tc.callers), tc.minRTT, tc.maxRTT)
				lims := make([]*redislimit.Limiter, replicas)
				for i := range lims {
					lims[i] = redislimit.NewLimiter(sim, "sim", rate, tc.burst)
				}
				start := time.Now()
				stopAt := start.Add(run)
				var granted, refused, expired atomic.Int64
				var wg sync.WaitGroup
				for c := range tc.callers {
					l := lims[c%replicas]
					wg.Go(func() {
						for time.Now().Before(stopAt) {
							ctx, stop := context.WithTimeout(context.Background(), tc.deadline)
							err := l.Wait(ctx)
							stop()
							switch {
							case err == nil:
								granted.Add(1)
							case errors.Is(err, ratelimit.ErrExceedsDeadline):
								refused.Add(1)
								time.Sleep(pause)
							case err == context.DeadlineExceeded:
								expired.Add(1)
							default:
								t.Errorf("Wait = %v", err)
								return
							}
						}
					})
				}
				wg.Wait()
				elapsed := time.Since(start)
				s := sumStats(lims)
				g := granted.Load()
				share := float64(g) / (rate * elapsed.Seconds())
				t.Logf("%d granted in %v (%.1f%% of the rate), %d refused, %d expired, %d late (%d taken by others); %.2f round trips a grant",
					g, elapsed, 100*share, refused.Load(), expired.Load(), s.Late, s.Spares, float64(s.RoundTrips)/float64(max(g, 1)))
				if most := float64(tc.burst) + rate*elapsed.Seconds(); float64(g) > most {
					t.Fatalf("%d granted, more than burst + rate × elapsed = %.2f", g, most)
				}
				if share < 0.9 {
					t.Fatalf("%.1f%% of the rate granted, want 90%% or more", 100*share)
				}
			})
		})
	}
}
