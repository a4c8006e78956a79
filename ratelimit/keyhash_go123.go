//go:build !go1.24

package ratelimit

import "hash/maphash"

// maxShards is the most shards a Keyed limiter spreads its keys over:
// before Go 1.24 hashKey cannot spread them, and one shard holds them all.
const maxShards = 1

// hashKey spreads Keyed's keys over its shards. Before Go 1.24, which has
// maphash.Comparable, every key goes to the first shard (the only one:
// maxShards is 1): Keyed is as correct, with one lock for all keys.
func hashKey[K comparable](seed maphash.Seed, key K) uint64 { return 0 }
