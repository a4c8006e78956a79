//go:build go1.25

package ratelimit

import (
	"fmt"
	"runtime"
	"testing"
	"testing/synctest"
	"unsafe"
)

// Keys are spread over shards, each with a lock of its own: a call for a key
// of one shard does not wait for another shard's lock.
func TestKeyedCallsOfOneShardDoNotWaitForAnother(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := NewKeyed[string](1, 1) // DefaultMaxKeys: 64 shards
		if len(k.shards) != 64 {
			t.Fatalf("%d shards for %d keys, want 64", len(k.shards), DefaultMaxKeys)
		}
		a := "key-0"
		b := ""
		for i := 1; b == ""; i++ {
			if key := fmt.Sprint("key-", i); k.shard(key) != k.shard(a) {
				b = key
			}
		}
		sh := k.shard(a)
		sh.mu.Lock() // as a long search of a's shard would
		done := make(chan bool)
		go func() { done <- k.Allow(b) }()
		if !<-done {
			t.Fatalf("Allow(%q) on a new key = false", b)
		}
		sh.mu.Unlock()
	})
}

// A search for keys to forget takes one shard's lock at a time: while it
// waits for one shard, calls for keys of the others go on. (Not in a
// synctest bubble: a goroutine waiting for a mutex does not let it see
// the others as blocked.)
func TestKeyedSearchTakesOneShardsLockAtATime(t *testing.T) {
	const max = 16384
	k := NewKeyed[string](1, 1, WithMaxKeys(max))
	for i := range max {
		k.Allow(fmt.Sprint("k-", i))
	}
	a := k.shard("k-0")
	var b, c string
	for i := 1; b == "" || c == ""; i++ {
		if key := fmt.Sprint("k-", i); k.shard(key) != a && c == "" {
			c = key // a key held, in another shard
		}
		if key := fmt.Sprint("new-", i); k.shard(key) != a && b == "" {
			b = key // a new key, in another shard
		}
	}
	a.mu.Lock()
	searched := make(chan bool)
	go func() { searched <- k.Allow(b) }() // at the maximum: searches, and waits for a
	for !k.sweeping.Load() {
		runtime.Gosched()
	}
	k.Allow(c) // returns, whichever shard the search waits for
	a.mu.Unlock()
	<-searched
}

// Each shard takes a whole number of 64-byte cache lines, so that the lock
// and map of one shard never share a line with another's.
func TestKeyedShardIsPaddedToACacheLine(t *testing.T) {
	for name, size := range map[string]uintptr{
		"string":   unsafe.Sizeof(keyedShard[string]{}),
		"[16]byte": unsafe.Sizeof(keyedShard[[16]byte]{}),
		"int64":    unsafe.Sizeof(keyedShard[int64]{}),
	} {
		if size%64 != 0 {
			t.Errorf("keyedShard[%s] is %d bytes, want a multiple of 64", name, size)
		}
	}
}
