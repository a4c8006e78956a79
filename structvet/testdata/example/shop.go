// Package shop makes the mistakes that structvet finds.
package shop

import (
	"context"
	"errors"
	"sync"
	"time"
)

func fetch(ctx context.Context, id int) error { return ctx.Err() }

// FetchAll returns on a bad id while the fetches already started go on.
func FetchAll(ctx context.Context, ids []int) error {
	var wg sync.WaitGroup
	for _, id := range ids {
		if id < 0 {
			return errors.New("bad id")
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = fetch(ctx, id)
		}()
	}
	wg.Wait()
	return nil
}

// Refresh starts a watcher that nothing waits for, cuts the chain of
// cancellation, and sleeps through it.
func Refresh(ctx context.Context) error {
	go func() {
		<-ctx.Done()
	}()
	for i := range 3 {
		if err := fetch(context.Background(), i); err == nil {
			return nil
		}
		time.Sleep(time.Second)
	}
	return errors.New("refresh failed")
}
