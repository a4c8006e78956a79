// Command replicas runs three replicas of a service, each with its own Redis
// client and its own redislimit.Limiter, sharing one limit of 20 requests a
// second at an endpoint on loopback, and prints the rate the endpoint saw.
//
// It starts its own redis-server (it must be installed: apt-get install -y
// redis-server) on a free loopback port, and stops it at the end.
//
//	go run ./examples/replicas
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
	"github.com/structured-go/structured/ratelimit/redislimit"
	"github.com/structured-go/structured/ratelimit/redislimit/redistest"
)

const (
	replicas = 3
	limit    = 20 // requests a second, for all the replicas together
	burst    = 1
	runFor   = 3 * time.Second
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		os.Exit(1)
	}
}

func run() error {
	srv, err := redistest.Start()
	if err != nil {
		return err
	}
	defer srv.Close()

	// The endpoint: it notes when each request arrives.
	var mu sync.Mutex
	var seen []time.Time
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	endpoint := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, time.Now())
		mu.Unlock()
	})}
	url := "http://" + ln.Addr().String() + "/"

	sent := make([]int, replicas)
	fmt.Printf("%d replicas, one limit of %d requests a second shared through Redis\n", replicas, limit)
	err = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			if err := endpoint.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		var wg sync.WaitGroup
		for i := range replicas {
			wg.Add(1)
			n.Go(func(ctx context.Context) error {
				defer wg.Done()
				// Each replica has its own client, as separate
				// processes would.
				rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true, DialerRetries: 1})
				defer rdb.Close()
				lim := redislimit.NewLimiter(rdb, "quota:endpoint", limit, burst)
				ctx, stop := context.WithTimeout(ctx, runFor)
				defer stop()
				for {
					if err := lim.Wait(ctx); err != nil {
						if ctx.Err() != nil || errors.Is(err, ratelimit.ErrExceedsDeadline) {
							return nil // time is up
						}
						return err
					}
					if err := get(ctx, url); err != nil {
						if ctx.Err() != nil {
							return nil
						}
						return err
					}
					sent[i]++
				}
			})
		}
		n.Go(func(ctx context.Context) error {
			wg.Wait()
			return endpoint.Shutdown(ctx)
		})
		return nil
	})
	if err != nil {
		return err
	}

	for i, s := range sent {
		fmt.Printf("replica %d sent %d\n", i+1, s)
	}
	if len(seen) < 2 {
		return fmt.Errorf("the endpoint saw %d requests", len(seen))
	}
	window := seen[len(seen)-1].Sub(seen[0])
	rate := float64(len(seen)-1) / window.Seconds()
	fmt.Printf("the endpoint saw %d requests in %.2fs: %.1f a second (limit %d)\n", len(seen), window.Seconds(), rate, limit)
	// burst + limit × the window, and one more for the jitter of the
	// requests' way from the limiter to the endpoint.
	if most := burst + limit*window.Seconds() + 1; float64(len(seen)) > most {
		return fmt.Errorf("the endpoint saw %d requests, more than the limit allows (%.1f)", len(seen), most)
	}
	if rate < 0.8*limit {
		return fmt.Errorf("the endpoint saw only %.1f requests a second, well below the limit of %d", rate, limit)
	}
	fmt.Println("within the limit: yes")
	return nil
}

func get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
