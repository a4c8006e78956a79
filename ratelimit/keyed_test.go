package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
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

// Keys whose bucket is full again are forgotten as keys are added; keys
// still paying for their events are kept.
func TestKeyedForgetsOnlyKeysWhoseBucketIsFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed[int](1, 1) // a second per token
		for i := range 1000 {
			k.Allow(i)
		}
		if n := k.Len(); n != 1000 {
			t.Fatalf("Len() = %d with 1000 keys in debt, want 1000", n)
		}
		time.Sleep(time.Second) // every bucket is full again
		// Sweeps come as keys are added, each time the map has doubled
		// since the last, so that their cost stays O(1) a key.
		added := 0
		for k.Len() >= 1000 && added < 2000 {
			k.Allow(-1 - added) // new keys, in debt
			added++
		}
		if n := k.Len(); n != added {
			t.Fatalf("Len() = %d after adding %d keys to 1000 full ones, want %d: the full ones stay", n, added, added)
		}
		if added > 1048 {
			t.Fatalf("the first sweep came after %d new keys, want by 1048 (the map at 2048)", added)
		}
		// A forgotten key starts full again, as it would have been anyway.
		if !k.Allow(7) || k.Allow(7) {
			t.Fatal("a forgotten key did not behave as a new one")
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
