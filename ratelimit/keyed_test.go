//go:build go1.25

package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/ratelimit"
)

func TestKeyedLimitsEachKeyOnItsOwn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed[string](10, 2)
		for _, key := range []string{"alice", "bob"} {
			if !k.AllowN(key, 2) {
				t.Fatalf("AllowN(%q, 2) on a new key = false", key)
			}
			if k.Allow(key) {
				t.Fatalf("Allow(%q) with an empty bucket = true", key)
			}
		}
		start := time.Now()
		if err := k.Wait(t.Context(), "alice"); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 100*time.Millisecond {
			t.Fatalf("Wait(alice) took %v, want 100ms", d)
		}
		if got := k.Tokens("bob"); got != 1 {
			t.Fatalf("Tokens(bob) = %v, want 1", got)
		}
		if got := k.Tokens("carol"); got != 2 {
			t.Fatalf("Tokens of an unknown key = %v, want the burst, 2", got)
		}
	})
}

// Keys whose bucket is full again are forgotten when the limiter meets its
// maximum; keys still paying for their events are kept.
func TestKeyedForgetsOnlyKeysWhoseBucketIsFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed[int](1, 1, ratelimit.WithMaxKeys(1000)) // a second per token
		for i := range 500 {
			k.Allow(i)
		}
		time.Sleep(time.Second) // the first 500 buckets are full again
		for i := 500; i < 1000; i++ {
			k.Allow(i) // in debt for a second
		}
		if n := k.Len(); n != 1000 {
			t.Fatalf("Len() = %d, want 1000: below the maximum, keys are not forgotten", n)
		}
		if !k.Allow(-1) {
			t.Fatal("a new key at the maximum, with 500 full buckets held, was refused")
		}
		if n := k.Len(); n != 501 {
			t.Fatalf("Len() = %d, want 501: the 500 busy keys and the new one", n)
		}
		for i := 500; i < 1000; i++ {
			if k.Allow(i) {
				t.Fatalf("key %d, in debt, was forgotten and started afresh", i)
			}
		}
		// A forgotten key starts full again, as it would have been anyway.
		if !k.Allow(7) || k.Allow(7) {
			t.Fatal("a forgotten key did not behave as a new one")
		}
	})
}

// At the maximum, the limiter looks for keys to forget at the time the
// first of its buckets is due to be full again, and no more often than
// every quarter of the time an empty bucket takes to fill.
func TestKeyedLooksForFullBucketsWhenTheFirstIsDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed[string](1, 4, ratelimit.WithMaxKeys(4)) // 4s to fill
		for _, key := range []string{"a", "b", "c", "d"} {
			k.AllowN(key, 4) // full again at 4s
		}
		if k.Allow("e") {
			t.Fatal("a new key with 4 empty buckets held was allowed")
		}
		time.Sleep(4*time.Second - time.Nanosecond)
		if k.Allow("e") {
			t.Fatal("a new key was allowed a nanosecond before any bucket is full")
		}
		time.Sleep(time.Nanosecond)
		if !k.Allow("e") {
			t.Fatal("a new key was refused when the first bucket was due to be full")
		}
	})
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed[string](1, 8, ratelimit.WithMaxKeys(4)) // 8s to fill
		for _, key := range []string{"a", "b", "c", "d"} {
			k.Allow(key) // full again at 1s
		}
		if k.Allow("e") { // looks, finds none: not again for 2s
			t.Fatal("a new key with 4 busy buckets held was allowed")
		}
		time.Sleep(1500 * time.Millisecond)
		if k.Allow("e") {
			t.Fatal("the limiter looked again 1.5s after it last did: want no sooner than a quarter of 8s")
		}
		time.Sleep(500 * time.Millisecond)
		if !k.Allow("e") {
			t.Fatal("a new key was refused 2s after the last look, every bucket full")
		}
	})
}

// At its maximum of keys, with every bucket still in use, a new key is
// refused rather than any client's bucket forgotten early.
func TestKeyedRefusesNewKeysWhenFullOfBusyKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed[string](1, 1, ratelimit.WithMaxKeys(3))
		for _, key := range []string{"a", "b", "c"} {
			k.Allow(key)
		}
		if k.Allow("d") {
			t.Fatal("Allow(d) beyond 3 busy keys = true")
		}
		err := k.Wait(t.Context(), "d")
		if !errors.Is(err, ratelimit.ErrTooManyKeys) {
			t.Fatalf("Wait(d) beyond 3 busy keys = %v, want ErrTooManyKeys", err)
		}
		if !strings.Contains(err.Error(), "d") {
			t.Errorf("error %q does not name the key", err)
		}
		if k.Allow("a") {
			t.Fatal("a busy key was forgotten and started afresh")
		}
		time.Sleep(time.Second)
		// Eventually the sweep at the cap runs again and finds full buckets.
		ok := false
		for range 4 {
			if ok = k.Allow("d"); ok {
				break
			}
		}
		if !ok {
			t.Fatal("Allow(d) never succeeded once the busy keys refilled")
		}
	})
}

// Forgetting a key never lets it exceed its rate: many keys hammered while
// sweeps drop and remake them.
func TestKeyedNeverOverGrantsAKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rate, burst, keys = 100, 3, 50
		k := ratelimit.NewKeyed[string](rate, burst, ratelimit.WithMaxKeys(keys+10))
		start := time.Now()
		granted := make([]int, keys)
		for step := range 2000 {
			for i := range keys {
				if k.Allow(fmt.Sprint("key", i)) {
					granted[i]++
				}
			}
			k.Allow(fmt.Sprint("passer-by", step)) // new keys force sweeps
			time.Sleep(time.Millisecond)
		}
		bound := burst + rate*int(time.Since(start)/time.Second)
		for i, g := range granted {
			if g > bound || g < bound-rate/10 {
				t.Fatalf("key%d granted %d in %v, want at most %d and about that", i, g, time.Since(start), bound)
			}
		}
		if n := k.Len(); n > keys+10 {
			t.Fatalf("Len() = %d beyond the maximum", n)
		}
	})
}

func TestKeyedBadInputPanics(t *testing.T) {
	k := ratelimit.NewKeyed[int](1, 1)
	var nilCtx context.Context
	for _, c := range []struct {
		name string
		f    func()
		want string
	}{
		{"WithMaxKeys(0)", func() { ratelimit.WithMaxKeys(0) }, "WithMaxKeys(0)"},
		{"NewKeyed(nil option)", func() { ratelimit.NewKeyed[int](1, 1, nil) }, "NewKeyed called with a nil Option"},
		{"NewKeyed(-1, 1)", func() { ratelimit.NewKeyed[int](-1, 1) }, "NewKeyed(r=-1)"},
		{"Wait(nil ctx)", func() { _ = k.Wait(nilCtx, 1) }, "Keyed.WaitN called with a nil context"},
		{"AllowN(-1)", func() { k.AllowN(1, -1) }, "n=-1"},
	} {
		r := recoverPanic(c.f)
		if msg, _ := r.(string); !strings.Contains(msg, c.want) {
			t.Errorf("%s panicked with %v, want a message containing %q", c.name, r, c.want)
		}
	}
}

// A flood of invented keys fills the limiter; once their buckets are full
// again, they are found by time and forgotten, and new clients get in: the
// flood does not lock them out.
func TestKeyedFloodDoesNotLockNewClientsOut(t *testing.T) {
	for _, c := range []struct {
		name  string
		rate  ratelimit.Limit
		burst int
		after time.Duration // once every bucket the flood used is full again
	}{
		{"10/s, burst 20", 10, 20, 2 * time.Second},
		{"a login attempt every 12 minutes", ratelimit.Every(12 * time.Minute), 1, 12 * time.Minute},
	} {
		synctest.Test(t, func(t *testing.T) {
			const max = 1000
			k := ratelimit.NewKeyed[string](c.rate, c.burst, ratelimit.WithMaxKeys(max))
			for i := range max {
				k.Allow(fmt.Sprint("invented-", i))
			}
			if k.Allow("one more") {
				t.Fatalf("%s: a new key beyond %d keys in use was allowed", c.name, max)
			}
			// Within a quarter of the time a bucket takes to fill, after
			// they all have.
			time.Sleep(c.after + c.after/4)
			refused := 0
			for i := range 1000 {
				if !k.Allow(fmt.Sprint("client-", i)) {
					refused++
				}
			}
			if refused > 0 {
				t.Fatalf("%s: %d of 1000 new clients refused once every invented key's bucket was full again", c.name, refused)
			}
		})
	}
}

// Refusing a new key at the maximum allocates nothing.
func TestKeyedRefusalAllocatesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed[int](1, 10, ratelimit.WithMaxKeys(100))
		for i := range 100 {
			k.Allow(i)
		}
		next := 1000
		if a := testing.AllocsPerRun(1000, func() {
			if k.Allow(next) {
				t.Fatal("a new key beyond the maximum was allowed")
			}
			next++
		}); a != 0 {
			t.Fatalf("a refusal allocated %v times, want 0", a)
		}
		if a := testing.AllocsPerRun(1000, func() { k.Allow(7) }); a != 0 {
			t.Fatalf("Allow on a known key allocated %v times, want 0", a)
		}
	})
}

// Keys are quoted in errors, and a long one is cut: a key chosen by a
// client cannot forge a log line, nor fill one.
func TestKeyedErrorsQuoteTheKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed[string](1, 1, ratelimit.WithMaxKeys(1))
		k.Allow("held")
		evil := "x\nlevel=info msg=\"admin logged in\"" + strings.Repeat("y", 1000)
		err := k.Wait(t.Context(), evil)
		if !errors.Is(err, ratelimit.ErrTooManyKeys) {
			t.Fatalf("Wait(a new key) beyond the maximum = %v, want ErrTooManyKeys", err)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, `"x\nlevel=info msg=\"admin logged in\"`) {
			t.Fatalf("the error %q does not quote the key", msg)
		}
		if !strings.Contains(msg, strconv.Quote(evil[:64])) || strings.Contains(msg, strconv.Quote(evil[:65])) {
			t.Fatalf("the error %q does not print the key's first 64 bytes, and no more", msg)
		}
		if n := strings.Count(msg, "ratelimit"); n != 1 {
			t.Fatalf("the error %q names the package %d times, want once", msg, n)
		}
	})
}

// A key's bucket, idle, grants its burst and no more.
func TestKeyedIdleKeyGrantsItsBurstAndNoMore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed[string](1, 2)
		k.Allow("a")
		time.Sleep(10 * time.Second)
		n := 0
		for range 5 {
			if k.Allow("a") {
				n++
			}
		}
		if n != 2 {
			t.Fatalf("5 Allow calls on a key idle for 10s granted %d, want the burst, 2", n)
		}
	})
}

// With a limit of 0 buckets never fill again, and keys are never
// forgotten.
func TestKeyedAtLimitZeroNeverForgetsAKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed[string](0, 1, ratelimit.WithMaxKeys(2))
		k.Allow("a")
		k.Allow("b")
		time.Sleep(1000 * time.Hour)
		if k.Allow("c") {
			t.Fatal("a new key was allowed with 2 keys at limit 0 held")
		}
		if k.Allow("a") || k.Len() != 2 {
			t.Fatal("a key at limit 0 was forgotten and started afresh")
		}
	})
}
