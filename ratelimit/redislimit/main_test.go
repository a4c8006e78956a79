package redislimit_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/structured-go/structured/ratelimit/redislimit/redistest"
)

// server is the redis-server the tests share; tests that kill or pause a
// server start their own.
var server *redistest.Server

// redisAddr is server's address, for the examples.
var redisAddr string

func TestMain(m *testing.M) {
	s, err := redistest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "redislimit tests need a real redis-server:", err)
		os.Exit(1)
	}
	server, redisAddr = s, s.Addr()
	// go-redis logs every failed dial; the tests that kill Redis check
	// what the callers see instead.
	redis.SetLogger(quiet{})
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { s.Close() }))
}

// newClient returns a client of addr as the package doc advises, closed at
// the end of the test.
func newClient(t testing.TB, addr string) *redis.Client {
	c := redis.NewClient(clientOptions(addr))
	t.Cleanup(func() { c.Close() })
	return c
}

func clientOptions(addr string) *redis.Options {
	return &redis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true,
		DialTimeout:           200 * time.Millisecond,
		DialerRetries:         1,
		MaxRetries:            -1,
	}
}

var keySeq atomic.Int64

// newKey returns a key no other test uses.
func newKey(t testing.TB) string {
	name := strings.NewReplacer("/", ":", " ", "_").Replace(t.Name())
	return fmt.Sprintf("test:%s:%d", name, keySeq.Add(1))
}

// redisNow reads Redis's clock.
func redisNow(t testing.TB, c *redis.Client) time.Time {
	t.Helper()
	now, err := c.Time(context.Background()).Result()
	if err != nil {
		t.Fatalf("TIME: %v", err)
	}
	return now
}

// recoverPanic runs f and returns what it panicked with, or nil.
func recoverPanic(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}
