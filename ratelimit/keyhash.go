//go:build go1.24

package ratelimit

import "hash/maphash"

// maxShards is the most shards a Keyed limiter spreads its keys over.
const maxShards = 64

// hashKey spreads Keyed's keys over its shards.
func hashKey[K comparable](seed maphash.Seed, key K) uint64 {
	return maphash.Comparable(seed, key)
}
