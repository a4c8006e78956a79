//go:build go1.25

package docs_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/structured-go/structured/nursery"
)

// A dbConn stands for a resource that must be closed: a connection, a
// file, a lock.
type dbConn struct {
	mu     sync.Mutex
	closed bool
	open   *atomic.Int32
}

func dialDB(open *atomic.Int32) *dbConn {
	open.Add(1)
	return &dbConn{open: open}
}

func (c *dbConn) Query(ctx context.Context, q string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("query on a closed connection")
	}
	return ctx.Err()
}

func (c *dbConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.open.Add(-1)
	}
	return nil
}

// A resource per task: defer inside the task. Run returns after every
// task has, so after every Close.
func Example_scopedPerTask() {
	var open atomic.Int32
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for _, q := range []string{"select 1", "select 2", "select 3"} {
			n.Go(func(ctx context.Context) error {
				db := dialDB(&open)
				defer db.Close() // async with: released however the task ends
				return db.Query(ctx, q)
			})
		}
		return nil
	})
	fmt.Println(err, "; connections open after Run:", open.Load())
	// Output: <nil> ; connections open after Run: 0
}

// queryAll shares one resource between the tasks of a nursery, and closes
// it after Run has returned, when every task is done with it.
func queryAll(ctx context.Context, open *atomic.Int32, queries []string) error {
	db := dialDB(open)
	defer db.Close() // runs after Run has returned: every task is done with db
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		for _, q := range queries {
			n.Go(func(ctx context.Context) error { return db.Query(ctx, q) })
		}
		return nil
	})
}

func Example_scopedShared() {
	var open atomic.Int32
	err := queryAll(context.Background(), &open, []string{"select 1", "select 2"})
	fmt.Println(err, "; connections open:", open.Load())
	// Output: <nil> ; connections open: 0
}

// The trap: a defer in the body of Run. The body returns as soon as it
// has started the tasks, long before they are done: its defers run then,
// and close what the tasks still use.
func Example_scopedTrapDeferInBody() {
	var open atomic.Int32
	bodyDone := make(chan struct{})
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		defer close(bodyDone) // runs after the Close below: defers run last in, first out
		db := dialDB(&open)
		defer db.Close() // runs when the body returns: the task still needs db
		n.Go(func(ctx context.Context) error {
			<-bodyDone // the task queries after the body has returned, as a slow task would
			return db.Query(ctx, "select 1")
		})
		return nil
	})
	fmt.Println(err)
	// Output: query on a closed connection
}
