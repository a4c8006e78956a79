package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/structured-go/structured/asynciter"
	"github.com/structured-go/structured/nursery"
)

// channelChapter hands values between tasks: trio's memory channels and
// asyncio's Queue.
//
// In Python:
//
//	send, recv = trio.open_memory_channel(0)
//	async with send.clone() as s: await s.send(v)
//
//	q = asyncio.Queue()
//	await q.put(job); job = await q.get(); q.task_done(); await q.join()
func channelChapter(ctx context.Context, server string) error {
	fmt.Println("Three producers on clones of one Sender; the receiver's loop ends when the last is closed (OpenChannel):")
	send, recv := asynciter.OpenChannel[string](0)
	var got []string
	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		for _, p := range []string{"/3", "/1", "/2"} {
			s, err := send.Clone()
			if err != nil {
				return err
			}
			n.Go(func(ctx context.Context) error {
				defer s.Close()
				body, err := fetch(ctx, server, p)
				if err != nil {
					return err
				}
				return s.Send(ctx, body)
			})
		}
		send.Close() // the clones keep the sending end open
		for body, err := range recv.All(ctx) {
			if err != nil {
				return err
			}
			got = append(got, body)
		}
		return nil
	})
	fmt.Printf("  received %q, error: %v\n", got, err)
	if err != nil || len(got) != 3 {
		return errors.New("the channel lost values")
	}

	fmt.Println("\nA Queue of 8 jobs for 3 workers; Join waits until each is done, Shutdown ends the workers (NewQueue):")
	q := asynciter.NewQueue[string](4)
	var mu sync.Mutex
	var handled []string
	err = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		for range 3 {
			n.Go(func(ctx context.Context) error {
				for path, err := range q.All(ctx) {
					if err != nil {
						return err
					}
					if err := get(ctx, server, path); err != nil {
						return err
					}
					mu.Lock()
					handled = append(handled, path)
					mu.Unlock()
					if err := q.TaskDone(); err != nil {
						return err
					}
				}
				return nil // shut down and empty
			})
		}
		for _, path := range []string{"/1", "/2", "/3", "/1", "/2", "/3", "/1", "/2"} {
			if err := q.Put(ctx, path); err != nil {
				return err
			}
		}
		err := q.Join(ctx)
		mu.Lock()
		fmt.Printf("  Join returned: %d jobs handled\n", len(handled))
		mu.Unlock()
		q.Shutdown(false)
		return err
	})
	slices.Sort(handled)
	fmt.Printf("  Run: %v (the workers' loops ended with the shutdown)\n", err)
	if err != nil || len(handled) != 8 {
		return errors.New("the queue lost jobs")
	}
	return nil
}
