package redislimit

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"
)

// checkClient panics if client is nil, or is a go-redis client that would
// let a slow Redis hold a call past its context's deadline.
func checkClient(fn string, client redis.Scripter) {
	if client == nil {
		panic(fmt.Sprintf("redislimit: %s called with a nil client", fn))
	}
	var enabled, isNil bool
	switch c := client.(type) {
	case *redis.Client:
		isNil = c == nil
		enabled = isNil || c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		isNil = c == nil
		enabled = isNil || c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		isNil = c == nil
		enabled = isNil || c.Options().ContextTimeoutEnabled
	default:
		return // a wrapper of the caller's: its doc must say
	}
	if isNil {
		panic(fmt.Sprintf("redislimit: %s called with a nil client", fn))
	}
	if !enabled {
		panic(fmt.Sprintf("redislimit: %s: the client's ContextTimeoutEnabled option is false, "+
			"so a slow Redis could hold a call past its context's deadline; set ContextTimeoutEnabled: true in its options", fn))
	}
}

// MaxKeyLen is the longest key, in bytes, that NewLimiter and NewSemaphore
// accept. A key built from what a user sends must be bounded anyway (see
// the package doc: hash it); this bound keeps a forgotten one from making
// Redis store and compare megabytes on every call.
const MaxKeyLen = 512

func checkKey(fn, key string) {
	if key == "" {
		panic(fmt.Sprintf("redislimit: %s called with an empty key", fn))
	}
	if len(key) > MaxKeyLen {
		panic(fmt.Sprintf("redislimit: %s called with a key of %d bytes, more than MaxKeyLen (%d): hash keys built from user input",
			fn, len(key), MaxKeyLen))
	}
}

// script is a Lua script run with EVALSHA, and with EVAL when the server
// does not have it yet (a new or restarted server): one round trip in the
// steady state, two after a restart.
type script struct {
	src  string
	hash string
}

func newScript(src string) *script {
	return &script{src: src, hash: redis.NewScript(src).Hash()}
}

// run runs s and reports the round trips it took. A nil reply, which no
// script returns, comes back as a nil value for the caller's check to
// reject, not as an error of Redis.
func (s *script) run(ctx context.Context, c redis.Scripter, keys []string, args ...any) (any, int, error) {
	trips := 1
	v, err := c.EvalSha(ctx, s.hash, keys, args...).Result()
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		trips = 2
		v, err = c.Eval(ctx, s.src, keys, args...).Result()
	}
	if err == redis.Nil {
		return nil, trips, nil
	}
	return v, trips, err
}

// redisEpoch is where the scripts count time from, in Redis's clock: µs
// since then stay below 2^53, exact in Lua's doubles, with room for a
// fraction of a µs.
const redisEpoch = 1577836800 // 2020-01-01T00:00:00Z

// unavailable wraps a Redis error for the caller.
func unavailable(op, key string, err error) error {
	return fmt.Errorf("%w (%s, key %q): %w", ErrUnavailable, op, key, err)
}

// badReply is the error of a reply that cannot be right.
func badReply(op, key, what string, v any) error {
	s := fmt.Sprintf("%v", v)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return fmt.Errorf("%w (%s, key %q): %s: %q", ErrBadReply, op, key, what, s)
}

// micros converts a duration to whole µs, rounded down.
func micros(d time.Duration) int64 { return int64(d / time.Microsecond) }

// duration converts a float number of ns to a Duration, saturating instead
// of overflowing.
func duration(ns float64) time.Duration {
	switch {
	case ns >= math.MaxInt64:
		return math.MaxInt64
	case ns <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(ns)
}

// ended returns ctx.Err() if ctx has ended, after a round trip failed: also
// when the failure is the socket's deadline, which is ctx's, firing a moment
// before ctx's own timer does.
func ended(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}
