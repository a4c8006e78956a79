// Command nurseries shows the tree of a program's tracked nurseries, read
// from its nursery.TreeHandler, the way Python's "python -m asyncio pstree"
// and "ps" show a program's asyncio tasks:
//
//	nurseries pstree http://localhost:6060/debug/nurseries
//	nurseries ps -stacks http://localhost:6060/debug/nurseries
//	nurseries pstree -watch 2s URL
//	nurseries ps -stuck 30s URL     # exit status 3 if a Run has waited longer
//
// pstree draws the tree: each nursery with its name, id, site, age and
// state, its open tasks under it (identical ones, with the same name,
// function and site, on one line with their number) and the nurseries
// nested in it. ps lists one line per kind of open task, with the path of
// nurseries it runs in. The source is a URL of a TreeHandler, a file
// holding its JSON (?format=json), or - for standard input.
//
// Flags:
//
//	-watch d   read and show the tree again every d, until interrupted
//	-count n   with -watch, stop after n readings (0: never)
//	-stacks    show where each task's goroutine is (the handler's ?stacks=1)
//	-stuck d   exit with status 3 if a Run has waited longer than d for a
//	           task (from its body's return or its cancellation; for a task
//	           meant to run until cancelled, from the cancellation): a
//	           health probe
//	-json      print the JSON as read
//	-timeout d give up on a URL that has not answered within d (default
//	           10s; 0: wait for ever), so that -stuck against a wedged
//	           server fails, with status 1, instead of hanging
//
// -watch needs a URL or a file: standard input (-) cannot be read again.
//
// The tree reveals file paths, function and task names and error texts:
// serve the handler on an internal address only.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/structured-go/structured/nursery"
)

// exitStuck is the exit status of -stuck when a Run has waited too long.
const exitStuck = 3

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: nurseries pstree|ps [-watch d] [-count n] [-stacks] [-stuck d] [-json] [-timeout d] URL|FILE|-`

// defaultTimeout is how long a reading of a URL may take, unless -timeout
// says otherwise.
const defaultTimeout = 10 * time.Second

// run is the command, with its arguments, streams and exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "pstree" && args[0] != "ps") {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	view := args[0]
	fs := flag.NewFlagSet("nurseries "+view, flag.ContinueOnError)
	fs.SetOutput(stderr)
	watch := fs.Duration("watch", 0, "read and show the tree again every `d`, until interrupted")
	count := fs.Int("count", 0, "with -watch, stop after `n` readings (0: never)")
	stacks := fs.Bool("stacks", false, "show where each task's goroutine is")
	stuck := fs.Duration("stuck", 0, "exit with status 3 if a Run has waited longer than `d` for a task")
	raw := fs.Bool("json", false, "print the JSON as read")
	timeout := fs.Duration("timeout", defaultTimeout, "give up on a URL that has not answered within `d` (0: wait for ever)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() != 1 || *watch < 0 || *stuck < 0 || *count < 0 || *timeout < 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	src := fs.Arg(0)
	if src == "-" && *watch > 0 {
		fmt.Fprintln(stderr, "nurseries: -watch cannot read standard input (-) again: give a URL or a file")
		return 2
	}
	client := &http.Client{Timeout: *timeout}
	for i := 1; ; i++ {
		data, err := read(ctx, client, src, *stacks, stdin)
		if err != nil {
			fmt.Fprintln(stderr, "nurseries:", err)
			return 1
		}
		var snap nursery.TreeSnapshot
		if err := json.Unmarshal(data, &snap); err != nil {
			fmt.Fprintf(stderr, "nurseries: %s is not the JSON of a nursery.TreeHandler: %v\n", src, err)
			return 1
		}
		if snap.Schema != nursery.TreeSchemaVersion {
			fmt.Fprintf(stderr, "nurseries: %s has schema %d; this command reads schema %d\n", src, snap.Schema, nursery.TreeSchemaVersion)
			return 1
		}
		if *watch > 0 {
			fmt.Fprint(stdout, "\x1b[H\x1b[2J") // clear the terminal
		}
		switch {
		case *raw:
			_, _ = stdout.Write(data)
		case view == "pstree":
			writePstree(stdout, snap)
		default:
			writePs(stdout, snap)
		}
		if *stuck > 0 {
			if lines := stuckRuns(snap, *stuck); len(lines) > 0 {
				for _, l := range lines {
					fmt.Fprintln(stderr, "nurseries: stuck:", l)
				}
				return exitStuck
			}
		}
		if *watch == 0 || *count > 0 && i >= *count {
			return 0
		}
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(*watch):
		}
	}
}

// read reads the JSON of the tree from src: a URL, with client, a file, or
// - (stdin).
func read(ctx context.Context, client *http.Client, src string, stacks bool, stdin io.Reader) ([]byte, error) {
	if src == "-" {
		return io.ReadAll(stdin)
	}
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		return os.ReadFile(src)
	}
	u, err := url.Parse(src)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("format", "json")
	q.Set("limit", "100000")
	if stacks {
		q.Set("stacks", "1")
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, timedOut(err, src, client.Timeout)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(src + ": " + resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, timedOut(err, src, client.Timeout)
	}
	return data, nil
}

// timedOut returns err, said plainly if it is the client's timeout.
func timedOut(err error, src string, timeout time.Duration) error {
	var te interface{ Timeout() bool }
	if timeout > 0 && errors.As(err, &te) && te.Timeout() {
		return fmt.Errorf("%s: no answer within %v (-timeout): %w", src, timeout, err)
	}
	return err
}

// since returns how long before the snapshot t was.
func since(snap nursery.TreeSnapshot, t time.Time) time.Duration {
	return snap.Time.Sub(t).Round(time.Millisecond)
}

// state is what a nursery is doing, as pstree and ps print it.
func state(snap nursery.TreeSnapshot, n nursery.NurseryInfo) string {
	switch {
	case !n.Cancelled.IsZero():
		s := fmt.Sprintf("cancelled %v ago", since(snap, n.Cancelled))
		if n.Cause != "" {
			s += fmt.Sprintf(": %q", n.Cause)
		}
		return s
	case !n.Waiting.IsZero():
		return fmt.Sprintf("waiting for its tasks for %v", since(snap, n.Waiting))
	case n.UntilCancelled && !n.Returned.IsZero():
		return "serving until cancelled"
	default:
		return "running"
	}
}

func nurseryLabel(n nursery.NurseryInfo) string {
	if n.Name != "" {
		return fmt.Sprintf("%q", n.Name)
	}
	return "(unnamed)"
}

func taskLabel(snap nursery.TreeSnapshot, t nursery.TaskInfo) string {
	var b strings.Builder
	if t.Count > 1 {
		fmt.Fprintf(&b, "%d× ", t.Count)
	}
	b.WriteString("task ")
	if t.Name != "" {
		fmt.Fprintf(&b, "%q ", t.Name)
	}
	fmt.Fprintf(&b, "%s at %s, for %v", t.Func, t.Site, since(snap, t.Started))
	if t.Count > 1 {
		b.WriteString(" (the oldest)")
	}
	if t.UntilCancelled {
		b.WriteString(", until cancelled")
	}
	return b.String()
}

// writePstree draws the tree with box-drawing branches.
func writePstree(w io.Writer, snap nursery.TreeSnapshot) {
	fmt.Fprintf(w, "pid %d, %s, at %s\n", snap.PID, snap.GoVersion, snap.Time.Format(time.RFC3339))
	if len(snap.Nurseries) == 0 {
		fmt.Fprintln(w, "no tracked nursery is running")
		return
	}
	for i, n := range snap.Nurseries {
		pstreeNursery(w, snap, n, "", i == len(snap.Nurseries)-1)
	}
}

func pstreeNursery(w io.Writer, snap nursery.TreeSnapshot, n nursery.NurseryInfo, prefix string, last bool) {
	branch, next := "├── ", "│   "
	if last {
		branch, next = "└── ", "    "
	}
	fmt.Fprintf(w, "%s%snursery %s #%d at %s, for %v: %s, %d open task%s\n", prefix, branch, nurseryLabel(n), n.ID, n.Site,
		since(snap, n.Started), state(snap, n), n.OpenTasks, plural(n.OpenTasks))
	kinds := nursery.FoldTasks(n.Tasks)
	for i, t := range kinds {
		isLast := i == len(kinds)-1 && len(n.Children) == 0
		b, sub := "├── ", "│   "
		if isLast {
			b, sub = "└── ", "    "
		}
		fmt.Fprintf(w, "%s%s%s%s\n", prefix, next, b, taskLabel(snap, t))
		for _, l := range stackLines(t.Stack) {
			fmt.Fprintf(w, "%s%s%s    %s\n", prefix, next, sub, l)
		}
	}
	for i, c := range n.Children {
		pstreeNursery(w, snap, c, prefix+next, i == len(n.Children)-1)
	}
}

func stackLines(stack string) []string {
	if stack == "" {
		return nil
	}
	return strings.Split(strings.TrimRight(stack, "\n"), "\n")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// writePs lists the kinds of open task, one a line, with their nurseries.
func writePs(w io.Writer, snap nursery.TreeSnapshot) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NURSERY\tID\tTASK\tCOUNT\tAGE\tSTATE\tFUNC\tSITE")
	var walk func(path string, ns []nursery.NurseryInfo)
	walk = func(path string, ns []nursery.NurseryInfo) {
		for _, n := range ns {
			p := nurseryLabel(n)
			if path != "" {
				p = path + " > " + p
			}
			for _, t := range nursery.FoldTasks(n.Tasks) {
				name := "-"
				if t.Name != "" {
					name = fmt.Sprintf("%q", t.Name)
				}
				st := "running"
				if isStuckTask(snap, n, t, 0) {
					st = "Run waits"
				}
				if t.UntilCancelled {
					st += ", until cancelled"
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%v\t%s\t%s\t%s\n", p, n.ID, name, t.Count, since(snap, t.Started), st, t.Func, t.Site)
				for _, l := range stackLines(t.Stack) {
					fmt.Fprintf(tw, "\t\t\t\t\t\t  %s\t\n", l)
				}
			}
			walk(p, n.Children)
		}
	}
	walk("", snap.Nurseries)
	_ = tw.Flush()
}

// isStuckTask reports whether t keeps n's Run waiting for longer than d.
func isStuckTask(snap nursery.TreeSnapshot, n nursery.NurseryInfo, t nursery.TaskInfo, d time.Duration) bool {
	return n.WaitedFor(t, snap.Time) > d
}

// stuckRuns describes the Runs that have waited longer than d.
func stuckRuns(snap nursery.TreeSnapshot, d time.Duration) []string {
	var lines []string
	var walk func([]nursery.NurseryInfo)
	walk = func(ns []nursery.NurseryInfo) {
		for _, n := range ns {
			var stuck int
			for _, t := range n.Tasks {
				if isStuckTask(snap, n, t, d) {
					stuck++
				}
			}
			if stuck > 0 {
				lines = append(lines, fmt.Sprintf("nursery %s #%d at %s has waited longer than %v for %d task%s", nurseryLabel(n), n.ID, n.Site, d, stuck, plural(stuck)))
			}
			walk(n.Children)
		}
	}
	walk(snap.Nurseries)
	return lines
}
