// Command treepage serves the page of nursery.TreeHandler for a program in
// a known state, and checks it in a real browser: headless Chromium loads
// the page over loopback, and the program checks the DOM Chromium built
// (its sections, rows, folded counts, stuck marks, and that a name made of
// markup came out as text) and that Chromium took a screenshot.
//
//	go run ./examples/treepage                       # needs chromium on PATH
//	go run ./examples/treepage -screenshot page.png  # keep the screenshot
//
// It exits with status 1 if the page is not what it should be.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/structured-go/structured/nursery"
)

func main() {
	browser := flag.String("browser", "chromium", "the headless browser to run")
	shot := flag.String("screenshot", "", "where to keep the screenshot (a temporary file if empty)")
	flag.Parse()
	if err := run(*browser, *shot); err != nil {
		fmt.Fprintln(os.Stderr, "treepage:", err)
		os.Exit(1)
	}
}

// evilName is a task name made of markup: the page must show it as text.
const evilName = `<img src=x onerror="alert(1)">`

// program is the state the page shows: a server whose body returned, with
// a listener meant to run until cancelled, 40 identical workers and a task
// with an evil name; a batch that waits for a task its body forgot; and a
// nursery cancelled with a cause, whose task is slow to stop. The page
// marks as stuck the Runs that have waited longer than 100ms (?stuck=):
// all three, but not the listener's row.
func program(ctx context.Context, check func() error) error {
	release := make(chan struct{})
	ready := make(chan struct{}, 3)
	var checked error
	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName("listener"), nursery.UntilCancelled())
		for range 40 {
			n.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName("worker"))
		}
		n.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName(evilName))
		n.Go(func(ctx context.Context) error {
			return nursery.Run(ctx, func(ctx context.Context, b *nursery.Nursery) error {
				b.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName("forgotten"))
				ready <- struct{}{}
				return nil // Run waits for the forgotten task
			}, nursery.WithName("batch"))
		}, nursery.WithName("batcher"))
		n.Go(func(ctx context.Context) error {
			return nursery.Run(ctx, func(ctx context.Context, c *nursery.Nursery) error {
				c.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName("slow to stop"))
				c.Cancel(errors.New("quota exceeded"))
				ready <- struct{}{}
				return nil
			}, nursery.WithName("uploads"))
		}, nursery.WithName("uploader"))
		n.Go(func(ctx context.Context) error {
			defer close(release)
			<-ready
			<-ready
			time.Sleep(200 * time.Millisecond) // past the page's ?stuck=100ms
			checked = check()
			return nil
		}, nursery.WithName("checker"))
		return nil
	}, nursery.WithName("server"), nursery.WithTracking())
	return errors.Join(err, checked)
}

func run(browser, shot string) error {
	if _, err := exec.LookPath(browser); err != nil {
		return fmt.Errorf("%s is needed to check the page in a browser (Debian: apt-get install chromium): %w", browser, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	internal := http.NewServeMux() // a mux of its own, on loopback: never the public one
	internal.Handle("/debug/nurseries", nursery.TreeHandler())
	srv := &http.Server{Handler: internal}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/debug/nurseries?stuck=100ms"

	dir, err := os.MkdirTemp("", "treepage")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if shot == "" {
		shot = filepath.Join(dir, "page.png")
	}
	return program(context.Background(), func() error {
		dom, err := chromium(browser, dir, "--dump-dom", url)
		if err != nil {
			return err
		}
		if err := checkDOM(dom); err != nil {
			return err
		}
		fmt.Println("the page in Chromium: 3 nurseries, 8 rows, 40 workers on one row, 3 stuck, the markup name shown as text")
		abs, err := filepath.Abs(shot)
		if err != nil {
			return err
		}
		if _, err := chromium(browser, dir, "--screenshot="+abs, "--window-size=1100,820", "--hide-scrollbars", url); err != nil {
			return err
		}
		png, err := os.ReadFile(abs)
		if err != nil || len(png) < 1000 || string(png[1:4]) != "PNG" {
			return fmt.Errorf("no screenshot at %s (%d bytes, %v)", abs, len(png), err)
		}
		fmt.Println("a screenshot of the page:", len(png) > 0)
		return nil
	})
}

// chromium runs the headless browser with a fresh profile, as this
// machine's closed network wants it (no background connections).
func chromium(browser, dir string, args ...string) (string, error) {
	profile, err := os.MkdirTemp(dir, "profile")
	if err != nil {
		return "", err
	}
	ctx, stop := context.WithTimeout(context.Background(), 60*time.Second)
	defer stop()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-quic", "--user-data-dir=" + profile}
	cmd := exec.CommandContext(ctx, browser, append(base, args...)...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %v\n%s", browser, strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), nil
}

// checkDOM checks the DOM that Chromium built from the page.
func checkDOM(dom string) error {
	count := func(re string) int { return len(regexp.MustCompile(re).FindAllString(dom, -1)) }
	var errs []error
	want := func(what string, got, n int) {
		if got != n {
			errs = append(errs, fmt.Errorf("%s: %d, want %d", what, got, n))
		}
	}
	want("nursery sections", count(`<section class="nursery[^"]*" data-nursery="\d+"`), 3)
	want("task rows", count(`<tr data-task=`), 8)
	want("the workers' row, folded", count(`<tr data-task="worker" data-count="40"`), 1)
	want("stuck nurseries (the server and the batch wait for tasks not meant to run on; the uploads were cancelled)", count(`<section [^>]*data-stuck`), 3)
	want("the listener, meant to run until cancelled, not stuck", count(`<tr data-task="listener" data-count="1"><td`), 1)
	want("the cancelled nursery", count(`data-state="cancelled"`), 1)
	want("the cause", count(`quota exceeded`), 1)
	want("scripts", count(`<script`), 0)
	want("images made of a name", count(`<img`), 0)
	want("the markup name as text", count(`<td class="name">"&lt;img src=x onerror=\\"alert\(1\)\\"&gt;"</td>`), 1)
	return errors.Join(errs...)
}
