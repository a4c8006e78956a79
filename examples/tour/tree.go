package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
)

// treeChapter bounds a tree of nested nurseries with one limit, and shows
// what a Run is waiting for.
//
// In Python there is no counterpart to either: a semaphore shared by
// nested TaskGroups deadlocks the same way, and asyncio.all_tasks() lists
// tasks without their owners.
func treeChapter(ctx context.Context, server string) error {
	type dir struct {
		name     string
		children []dir
	}
	root := dir{"/", []dir{
		{"/a", []dir{{"/a/1", nil}, {"/a/2", nil}, {"/a/3", nil}}},
		{"/b", []dir{{"/b/1", nil}}},
		{"/c", nil},
	}}
	fmt.Println("A walk of a tree of 8 directories, a nursery per directory, at most 2 fetches at once in all (WithSemaphore):")
	sem := ratelimit.NewSemaphore(2)
	var mu sync.Mutex
	running, peak, visited := 0, 0, 0
	var walk func(ctx context.Context, d dir) error
	walk = func(ctx context.Context, d dir) error {
		mu.Lock()
		running++
		peak = max(peak, running)
		visited++
		mu.Unlock()
		err := get(ctx, server, "/2") // the directory's own work, holding a unit
		mu.Lock()
		running--
		mu.Unlock()
		if err != nil || len(d.children) == 0 {
			return err
		}
		sem.Release(1) // no unit held while waiting for the children
		defer func() { _ = sem.Acquire(context.WithoutCancel(ctx), 1) }()
		return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
			for _, child := range d.children {
				n.Go(func(ctx context.Context) error { return walk(ctx, child) })
			}
			return nil
		}, nursery.WithSemaphore(sem))
	}
	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { return walk(ctx, root) })
		return nil
	}, nursery.WithSemaphore(sem))
	fmt.Printf("  %d directories, at most %d at work at once, error: %v\n", visited, peak, err)
	if err != nil || visited != 8 || peak > 2 {
		return errors.New("the shared limit did not hold")
	}

	fmt.Println("\nA tracked nursery (WithTracking): nursery.Tree lists what runs in it, by name:")
	err = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		var started sync.WaitGroup
		for _, name := range []string{"upload", "index"} {
			started.Add(1)
			n.Go(func(ctx context.Context) error {
				started.Done()
				return get(ctx, server, "/20")
			}, nursery.WithName(name))
		}
		started.Wait()
		for _, nu := range nursery.Tree() {
			if nu.Name == "backup" {
				var names []string
				for _, t := range nu.Tasks {
					names = append(names, fmt.Sprintf("%q", t.Name))
				}
				fmt.Printf("  nursery %q, open tasks: %s\n", nu.Name, strings.Join(names, ", "))
			}
		}
		return nil
	}, nursery.WithName("backup"), nursery.WithTracking())
	if err != nil {
		return err
	}

	fmt.Println("\nA body that returns without stopping its worker; WithStuckReport(5 units) says what Run waits for:")
	jobs := make(chan int)
	report := &stuckPrinter{rescue: func() { close(jobs) }}
	err = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			for range jobs {
			}
			return nil
		}, nursery.WithName("worker"))
		return nil // forgot close(jobs): Run waits for the worker
	}, nursery.WithStuckReport(5*unit, slog.New(report)))
	fmt.Printf("  (the tour then closed the channel for it) Run: %v\n", err)
	if err != nil || !report.reported {
		return errors.New("the stuck Run did not report")
	}
	return nil
}

// stuckPrinter is a slog.Handler that prints the names of the tasks a
// stuck Run reports, then does what the body forgot (rescue), so that the
// chapter ends. A program would log the report as it is; it names files
// and lines too.
type stuckPrinter struct {
	rescue   func()
	reported bool
}

func (p *stuckPrinter) Enabled(context.Context, slog.Level) bool { return true }
func (p *stuckPrinter) WithAttrs([]slog.Attr) slog.Handler       { return p }
func (p *stuckPrinter) WithGroup(string) slog.Handler            { return p }

func (p *stuckPrinter) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if tasks, ok := a.Value.Any().([]nursery.TaskInfo); ok && a.Key == "tasks" {
			var names []string
			for _, t := range tasks {
				names = append(names, fmt.Sprintf("%q", t.Name))
			}
			fmt.Printf("  %s: Run waits for %s\n", r.Level, strings.Join(names, ", "))
		}
		return true
	})
	if !p.reported {
		p.reported = true
		p.rescue()
	}
	return nil
}
