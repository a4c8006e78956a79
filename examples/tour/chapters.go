package main

import "context"

// A chapter of the tour: what it is called, the lines of Go it shows (each
// appears in file; tour_test.go checks it), the rows of the closing table
// (the Go, and the Python it stands for), and the function that runs it.
type chapter struct {
	title  string
	file   string
	code   string
	showed [][2]string
	run    func(ctx context.Context, server string) error
}

var chapters = []chapter{
	{
		title: "One request after another, then all at once (nursery.Run + n.Go)",
		file:  "fetch.go",
		code: `
err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
	for _, d := range delays {
		n.Go(func(ctx context.Context) error {
			if err := get(ctx, server, fmt.Sprintf("/%d", d)); err != nil {
				return err
			}
`,
		showed: [][2]string{{"nursery.Run + n.Go", "async with asyncio.TaskGroup(), create_task"}},
		run:    fetchChapter,
	},
	{
		title: "Values in the order asked, at most 4 at once (nursery.Gather, nursery.Map + WithLimit, nursery.ForEach)",
		file:  "gather.go",
		code: `
bodies, err := nursery.Gather(ctx, page("/6"), page("/2"), page("/4"))
...
bodies, err = nursery.Map(ctx, paths, func(ctx context.Context, path string) (string, error) {
	...
	return fetch(ctx, server, path)
}, nursery.WithLimit(4))
...
err = nursery.ForEach(ctx, paths, func(ctx context.Context, path string) error {
`,
		showed: [][2]string{
			{"nursery.Gather", "asyncio.gather"},
			{"nursery.Map + nursery.WithLimit(4)", "gather + asyncio.Semaphore(4)"},
			{"nursery.ForEach", "the same, for work with no value"},
		},
		run: gatherChapter,
	},
	{
		title: "One failure cancels its siblings (nursery.Run), or not (WithCollectAll, WithFirstError, AllSettled, MapSettled)",
		file:  "failure.go",
		code: `
err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
	for _, p := range paths {
		n.Go(func(ctx context.Context) error {
			err := get(ctx, server, p)
...
}, nursery.WithCollectAll())
...
}, nursery.WithCollectAll(), nursery.WithFirstError())
...
results, err := nursery.AllSettled(ctx,
...
outcomes, err := nursery.MapSettled(ctx, settled, func(ctx context.Context, path string) (string, error) {
`,
		showed: [][2]string{
			{"the first error cancels the rest", "TaskGroup, FIRST_EXCEPTION"},
			{"nursery.WithCollectAll()", "gather(return_exceptions=True)"},
			{"nursery.WithFirstError()", "errgroup's first error only"},
			{"nursery.AllSettled, nursery.MapSettled", "gather(return_exceptions=True)"},
		},
		run: failureChapter,
	},
	{
		title: "A result later, one task cancelled, a server that is ready (nursery.Spawn, n.Spawn, Task.Cancel, nursery.Start)",
		file:  "spawn.go",
		code: `
profile := nursery.Spawn(n, func(ctx context.Context) (string, error) { return fetch(ctx, server, "/5") })
prefetch := nursery.Spawn(n, func(ctx context.Context) (string, error) { return fetch(ctx, server, "/100") })
audit := n.Spawn(func(ctx context.Context) error { return get(ctx, server, "/1") }) // a task with no value
...
body, err := profile.Wait(ctx)
...
prefetch.Cancel(errors.New("not needed after all"))
...
addr, err := nursery.Start(ctx, n, serveSlowly) // returns once the server listens
`,
		showed: [][2]string{
			{"nursery.Spawn (n.Spawn) + Task.Wait", "create_task + await task"},
			{"Task.Cancel", "task.cancel()"},
			{"nursery.Start", "trio: await nursery.start(serve)"},
		},
		run: spawnChapter,
	},
	{
		title: "One limit for nested nurseries, and what a Run waits for (nursery.WithSemaphore, WithTracking, Tree, WithStuckReport)",
		file:  "tree.go",
		code: `
sem.Release(1) // no unit held while waiting for the children
defer func() { _ = sem.Acquire(context.WithoutCancel(ctx), 1) }()
return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
	for _, child := range d.children {
		n.Go(func(ctx context.Context) error { return walk(ctx, child) })
	}
	return nil
}, nursery.WithSemaphore(sem))
...
for _, nu := range nursery.Tree() {
...
}, nursery.WithName("backup"), nursery.WithTracking())
...
	return nil // forgot close(jobs): Run waits for the worker
}, nursery.WithStuckReport(5*unit, slog.New(report)))
`,
		showed: [][2]string{
			{"nursery.WithSemaphore", "a Semaphore shared by nested TaskGroups"},
			{"WithTracking + nursery.Tree", "asyncio.all_tasks()"},
			{"nursery.WithStuckReport", "(none built in)"},
		},
		run: treeChapter,
	},
	{
		title: "Pages as they finish, and the first answer (nursery.AsCompleted, nursery.Race)",
		file:  "race.go",
		code: `
for i, r := range nursery.AsCompleted(ctx, fns...) {
	...
	fmt.Printf("  %d: %s done at %v\n", i, paths[i], round(time.Since(t0)))
}
...
body, err := nursery.Race(ctx,
`,
		showed: [][2]string{
			{"range nursery.AsCompleted", "asyncio.as_completed"},
			{"nursery.Race", "asyncio.wait(FIRST_COMPLETED), cancel the rest"},
		},
		run: raceChapter,
	},
	{
		title: "Waiting overlaps, computing takes cores (100 tasks at once; nursery.Map + WithLimit)",
		file:  "compute.go",
		code: `
for range 100 {
	n.Go(func(ctx context.Context) error { return cancel.Sleep(ctx, unit) })
}
...
counts, err := nursery.Map(ctx, chunks, func(ctx context.Context, lo int) (int, error) {
	return countPrimes(lo, lo+100_000), nil
}, nursery.WithLimit(cores))
`,
		showed: [][2]string{
			{"100 tasks waiting at once", "gather(*(asyncio.sleep(0.1) for _ in range(100)))"},
			{"nursery.Map + WithLimit(GOMAXPROCS)", "run_in_executor(ProcessPoolExecutor())"},
		},
		run: computeChapter,
	},
	{
		title: "Timeouts: move on, fail, move the deadline, clean up under a shield (package timeout)",
		file:  "timeouts.go",
		code: `
timedOut, err := timeout.MoveOnAfter(ctx, 10*unit, func(ctx context.Context) error {
...
err = timeout.FailAfter(ctx, 10*unit, func(ctx context.Context) error {
...
t := timeout.New(10 * unit)
...
if err := t.Reschedule(time.Now().Add(10 * unit)); err != nil {
...
_, shielded = timeout.MoveOnAfter(ctx, 50*unit, func(ctx context.Context) error {
	return get(ctx, server, "/2")
}, timeout.WithShield())
`,
		showed: [][2]string{
			{"timeout.MoveOnAfter", "trio.move_on_after"},
			{"timeout.FailAfter", "asyncio.timeout, wait_for, trio.fail_after"},
			{"timeout.New + Reschedule", "asyncio.Timeout.reschedule"},
			{"timeout.WithShield()", "asyncio.shield, CancelScope(shield=True)"},
		},
		run: timeoutChapter,
	},
	{
		title: "Cancel scopes and sleeps (cancel.New, Scope.Cancel, cancel.Sleep)",
		file:  "scopes.go",
		code: `
s := cancel.New()
...
	return s.Run(ctx, func(ctx context.Context) error {
		return get(ctx, server, "/100") // a long search
	})
...
	s.Cancel(errors.New("found it elsewhere"))
...
slept = cancel.Sleep(sleepCtx, time.Hour)
`,
		showed: [][2]string{
			{"cancel.New, Scope.Cancel, CancelledCaught", "trio.CancelScope, cancel(), cancelled_caught"},
			{"cancel.Sleep", "await asyncio.sleep"},
		},
		run: scopeChapter,
	},
	{
		title: "Retries: backoff, server hints, budgets, hedged requests (package retry)",
		file:  "retry.go",
		code: `
body, err := retry.DoValue(ctx, func(ctx context.Context) (string, error) {
	calls++
	return fetch(ctx, server, "/flaky/a")
}, retry.OnRetry(func(attempt int, err error, _ time.Duration) {
...
}, retry.WithBudget(budget), retry.WithBackoff(retry.Constant(unit)))
...
}, retry.Hedge(5*unit), retry.Attempts(2))
...
}, retry.HedgeAdaptive(latency), retry.Attempts(2)); err != nil {
`,
		showed: [][2]string{
			{"retry.DoValue, retry.After", "tenacity, a retry loop"},
			{"retry.WithBudget, Hedge, HedgeAdaptive", "(none built in)"},
		},
		run: retryChapter,
	},
	{
		title: "At most 3 at once, at most 20 a second, a limit per client (ratelimit.Semaphore, ratelimit.Limiter, ratelimit.Keyed)",
		file:  "ratelimit.go",
		code: `
sem := ratelimit.NewSemaphore(inFlight)
lim := ratelimit.NewLimiter(perSecond, 1)
...
return sem.Do(ctx, 1, func(ctx context.Context) error { // async with sem:
	if err := lim.Wait(ctx); err != nil {
		return err
	}
...
perClient := ratelimit.NewKeyed[string](1, 2)
...
if perClient.Allow(client) {
`,
		showed: [][2]string{
			{"ratelimit.Semaphore.Do", "async with asyncio.Semaphore(3)"},
			{"ratelimit.Limiter.Wait", "aiolimiter.AsyncLimiter(20, 1)"},
			{"ratelimit.Keyed", "a limiter per client, by hand"},
		},
		run: rateChapter,
	},
	{
		title: "Protect a downstream: a limit that finds its capacity, a breaker, a throttle (ratelimit.NewAdaptive, Adaptive.Do, retry.NewBreaker, retry.NewThrottle)",
		file:  "overload.go",
		code: `
lim := ratelimit.NewAdaptive()
...
err := lim.Do(ctx, downstream)
switch {
case errors.Is(err, ratelimit.ErrExceedsLimit):
	shed.Add(1) // shed at once: a 503 of our own
...
b := retry.NewBreaker(retry.ConsecutiveFailures(3), retry.OpenFor(20*unit), retry.HalfOpen(1, 1),
...
err := b.Do(ctx, func(ctx context.Context) error {
	reached++
	return get(ctx, server, "/fail/0")
})
...
th := retry.NewThrottle(2, time.Minute) // the SRE book's k of 2
`,
		showed: [][2]string{
			{"ratelimit.NewAdaptive + Do", "asyncio.Semaphore(n), n a guess"},
			{"retry.NewBreaker, retry.NewThrottle", "aiobreaker, pybreaker"},
		},
		run: overloadChapter,
	},
	{
		title: "A pipeline that stops early, and streams combined (asynciter.Generate, MapStream, Batch, Map + WithUnordered, Merge, Tee)",
		file:  "pipeline.go",
		code: `
ids := asynciter.Generate(ctx, func(ctx context.Context, yield func(int) bool) error {
...
pages := asynciter.MapStream(ctx, ids, func(ctx context.Context, id int) (string, error) {
...
}, asynciter.WithLimit(4))
...
for batch, err := range asynciter.Batch(ctx, pages, 5, 4*unit) {
...
	if batches == 3 {
		break // cancels the fetches in flight and the generator, and waits for them
	}
...
}, asynciter.WithUnordered()) {
...
err := asynciter.Tee(ctx, asynciter.Merge(ctx, evens, odds),
`,
		showed: [][2]string{
			{"range asynciter.Generate, MapStream, Batch", "async for over an async generator, aclosing"},
			{"asynciter.Map + WithUnordered", "aiostream map, as completed"},
			{"asynciter.Merge, asynciter.Tee", "aiostream merge, itertools.tee"},
		},
		run: pipelineChapter,
	},
	{
		title: "Handing values between tasks (asynciter.OpenChannel, asynciter.NewQueue)",
		file:  "channels.go",
		code: `
send, recv := asynciter.OpenChannel[string](0)
...
	s, err := send.Clone()
...
		defer s.Close()
...
for body, err := range recv.All(ctx) {
...
q := asynciter.NewQueue[string](4)
...
			for path, err := range q.All(ctx) {
...
				if err := q.TaskDone(); err != nil {
...
	err := q.Join(ctx)
...
	q.Shutdown(false)
`,
		showed: [][2]string{
			{"asynciter.OpenChannel, Clone, Close", "trio.open_memory_channel"},
			{"asynciter.NewQueue, TaskDone, Join", "asyncio.Queue"},
		},
		run: channelChapter,
	},
	{
		title: "Ctrl-C cancels everything (nursery.WithSignals)",
		file:  "signals.go",
		code: `
err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
	n.Go(func(ctx context.Context) error {
		inFlight = get(ctx, server, "/100") // still running when the signal comes
		return nil
	})
...
	return self.Signal(os.Interrupt) // Ctrl-C
}, nursery.WithSignals())
`,
		showed: [][2]string{
			{"nursery.Run(..., nursery.WithSignals())", "asyncio.run(main()), KeyboardInterrupt"},
		},
		run: signalChapter,
	},
}
