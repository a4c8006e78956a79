package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/structured-go/structured/nursery"
)

// spawnChapter starts tasks now and collects them later, cancels one of
// them alone, and starts a server that is ready when Start returns.
//
// In Python:
//
//	async with asyncio.TaskGroup() as tg:
//	    profile = tg.create_task(fetch("/5"))
//	    prefetch = tg.create_task(fetch("/100"))
//	    print(await profile)
//	    prefetch.cancel()
//
//	await nursery.start(serve)   # trio: returns once the server listens
func spawnChapter(ctx context.Context, server string) error {
	fmt.Println("Spawn starts a task now; Wait collects its result later; Cancel stops that task alone:")
	var prefetchErr error
	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		profile := nursery.Spawn(n, func(ctx context.Context) (string, error) { return fetch(ctx, server, "/5") })
		prefetch := nursery.Spawn(n, func(ctx context.Context) (string, error) { return fetch(ctx, server, "/100") })
		audit := n.Spawn(func(ctx context.Context) error { return get(ctx, server, "/1") }) // a task with no value
		fmt.Println("  three requests started; the body goes on meanwhile")
		if _, err := audit.Wait(ctx); err != nil {
			return err
		}
		fmt.Println("  audit.Wait: done (n.Spawn, for a task that returns only an error)")
		body, err := profile.Wait(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("  profile.Wait: %q\n", body)
		prefetch.Cancel(errors.New("not needed after all"))
		_, prefetchErr = prefetch.Wait(ctx)
		fmt.Printf("  prefetch.Wait, after prefetch.Cancel: %v\n", prefetchErr)
		return nil
	})
	fmt.Printf("  Run: %v (a task cancelled by Cancel is not a failure)\n", err)
	if err != nil || prefetchErr == nil {
		return errors.New("Spawn, Wait and Cancel did not behave")
	}

	fmt.Println("\nStart waits until a task says it is ready: a second server, listening when Start returns:")
	err = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		addr, err := nursery.Start(ctx, n, serveSlowly) // returns once the server listens
		if err != nil {
			return err
		}
		second := newClient(addr)
		defer second.CloseIdleConnections()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, serverURL+"/0", nil)
		if err != nil {
			return err
		}
		resp, err := second.Do(req) // cannot be refused: the server listens already
		if err != nil {
			return err
		}
		resp.Body.Close()
		fmt.Printf("  the first request to it, at once: %s\n", resp.Status)
		n.Cancel(nil) // stops the second server; Run waits until it has
		return nil
	})
	fmt.Printf("  Run: %v (the server stopped when the nursery was cancelled)\n", err)
	return err
}
