// Command crawler crawls a small web site that it serves itself on
// loopback (net/http/httptest), the way a polite crawler should: at most 4
// fetches at once, at most 50 started a second, each page retried when the
// server says it is busy, and given up on when it takes too long. A page
// that fails does not stop the crawl: every failure is reported at the end.
//
// It checks that what it claims happened, and exits with status 1 if not.
//
//	go run ./examples/crawler
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/multierr"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
	"github.com/structured-go/structured/retry"
	"github.com/structured-go/structured/timeout"
)

const (
	inFlight  = 4                      // fetches at once
	perSecond = 50                     // fetches started a second
	perPage   = 200 * time.Millisecond // for one attempt at a page
	attempts  = 3                      // per page
	pageTime  = 60 * time.Millisecond  // the server's time to answer
)

// site is the web site: each page lists the pages it links to.
var site = map[string][]string{
	"/":           {"/docs", "/blog", "/about"},
	"/docs":       {"/docs/start", "/docs/api", "/flaky", "/"},
	"/docs/start": {"/docs/api", "/missing"},
	"/docs/api":   {"/slow", "/docs"},
	"/blog":       {"/blog/1", "/blog/2", "/blog/3"},
	"/blog/1":     {"/blog/2"},
	"/blog/2":     {"/blog/3", "/about"},
	"/blog/3":     {"/"},
	"/about":      {"/"},
	"/flaky":      {"/blog/1"},
}

// newSite serves site, each page after pageTime. /flaky answers 503 twice
// before it answers; /slow never answers (until the client gives up);
// /missing is not found.
func newSite() *httptest.Server {
	var flaky atomic.Int32
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			<-r.Context().Done()
			return
		case "/flaky":
			if flaky.Add(1) <= 2 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
		}
		t := time.NewTimer(pageTime) // every page takes a while to make
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
		links, ok := site[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		for _, l := range links {
			fmt.Fprintf(w, "<a href=%q>%s</a>\n", l, l)
		}
	}))
}

// A statusError is an answer other than 200 OK.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("%d %s", e.code, http.StatusText(e.code)) }

var linkRE = regexp.MustCompile(`href="([^"]+)"`)

// getLinks fetches one page and returns the links on it. A 5xx answer is
// worth retrying; any other failure of the server is permanent.
func getLinks(ctx context.Context, client *http.Client, base, path string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return nil, retry.Permanent(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		err := &statusError{resp.StatusCode}
		if resp.StatusCode < 500 {
			return nil, retry.Permanent(err)
		}
		return nil, err
	}
	var links []string
	for _, m := range linkRE.FindAllStringSubmatch(string(body), -1) {
		links = append(links, m[1])
	}
	return links, nil
}

// A crawler visits every page reachable from a start page once.
type crawler struct {
	client  *http.Client
	base    string
	fetches *ratelimit.Semaphore // at most inFlight at once
	rate    *ratelimit.Limiter   // at most perSecond started a second

	mu      sync.Mutex
	seen    map[string]bool
	ok      []string
	retried map[string]int // page -> attempts it took, if more than one
	peak    int
	now     int
	starts  []time.Time
}

// visit fetches a page, with retries, and starts a task for each link not
// seen yet. The limit is on fetches, not on tasks: a task that started tasks
// while it held a slot of nursery.WithLimit could wait for a slot held by
// itself.
func (c *crawler) visit(ctx context.Context, n *nursery.Nursery, path string) error {
	calls := 0
	links, err := retry.DoValue(ctx, func(ctx context.Context) ([]string, error) {
		calls++
		return c.fetch(ctx, path)
	}, retry.Attempts(attempts), retry.WithBackoff(retry.Exponential{Initial: 5 * time.Millisecond, Jitter: retry.FullJitter}))
	if calls > 1 {
		c.mu.Lock()
		c.retried[path] = calls
		c.mu.Unlock()
	}
	if err != nil {
		return err // recorded by the nursery, which goes on (WithCollectAll)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ok = append(c.ok, path)
	for _, l := range links {
		if !c.seen[l] {
			c.seen[l] = true
			n.Go(func(ctx context.Context) error { return c.visit(ctx, n, l) }, nursery.WithName(l))
		}
	}
	return nil
}

// fetch is one attempt: it waits for a slot and for the rate, then gets the
// page, and gives up on it after perPage.
func (c *crawler) fetch(ctx context.Context, path string) ([]string, error) {
	var links []string
	err := c.fetches.Do(ctx, 1, func(ctx context.Context) error {
		if err := c.rate.Wait(ctx); err != nil {
			return err
		}
		c.mu.Lock()
		c.now++
		c.peak = max(c.peak, c.now)
		c.starts = append(c.starts, time.Now())
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			c.now--
			c.mu.Unlock()
		}()
		var err error
		links, err = timeout.Call(ctx, perPage, func(ctx context.Context) ([]string, error) {
			return getLinks(ctx, c.client, c.base, path)
		})
		return err
	})
	return links, err
}

// crawl visits every page reachable from "/", and returns every page's
// failure, combined.
func (c *crawler) crawl(ctx context.Context) error {
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		c.seen["/"] = true
		n.Go(func(ctx context.Context) error { return c.visit(ctx, n, "/") }, nursery.WithName("/"))
		return nil
	}, nursery.WithCollectAll())
}

func run(ctx context.Context) error {
	srv := newSite()
	defer srv.Close()
	// The client dials the site's port whatever the URL's host, so that
	// messages say http://site.test, not a port that changes every run.
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, srv.Listener.Addr().String())
		},
	}}
	defer client.CloseIdleConnections()
	c := &crawler{
		client:  client,
		base:    "http://site.test",
		fetches: ratelimit.NewSemaphore(inFlight),
		rate:    ratelimit.NewLimiter(perSecond, 1),
		seen:    map[string]bool{},
		retried: map[string]int{},
	}
	fmt.Printf("Crawling a site of %d pages from /: at most %d fetches at once, at most %d started a second,\n", len(site), inFlight, perSecond)
	fmt.Printf("each attempt within %v, and at most %d attempts a page.\n\n", perPage, attempts)

	err := c.crawl(ctx)

	slices.Sort(c.ok)
	fmt.Printf("fetched %d pages: %s\n", len(c.ok), strings.Join(c.ok, " "))
	for _, page := range slices.Sorted(maps.Keys(c.retried)) {
		fmt.Printf("retried: %s, %d attempts\n", page, c.retried[page])
	}
	failures := multierr.Errors(err)
	var lines []string
	for _, e := range failures {
		lines = append(lines, e.Error())
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println("failed:", l)
	}
	busiest := 0
	for i := range c.starts {
		j := i
		for j < len(c.starts) && c.starts[j].Sub(c.starts[i]) < time.Second {
			j++
		}
		busiest = max(busiest, j-i)
	}
	fmt.Printf("at most %d fetches at once; %d fetches in the busiest second\n", c.peak, busiest)

	// The self-check.
	var timedOut, notFound bool
	for _, e := range failures {
		timedOut = timedOut || strings.HasPrefix(e.Error(), `task "/slow"`) && errors.Is(e, timeout.ErrTimeout)
		var se *statusError
		notFound = notFound || strings.HasPrefix(e.Error(), `task "/missing"`) && errors.As(e, &se) && se.code == http.StatusNotFound
	}
	switch {
	case len(c.ok) != len(site):
		return fmt.Errorf("fetched %d pages, want %d", len(c.ok), len(site))
	case len(failures) != 2 || !timedOut || !notFound:
		return fmt.Errorf("the failures were %v; want /slow timed out and /missing not found", lines)
	case c.retried["/flaky"] != 3 || c.retried["/slow"] != 3 || c.retried["/missing"] != 0:
		return fmt.Errorf("attempts: %v; want 3 for /flaky and /slow, and 1 for /missing", c.retried)
	case c.peak > inFlight || busiest > perSecond+1:
		return errors.New("the limits did not hold")
	case c.peak < 2:
		return errors.New("the fetches never overlapped")
	}
	fmt.Println("\nevery page fetched once; /flaky retried until it answered; /slow given up on after 3 timeouts; /missing not retried")
	return nil
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "crawler:", err)
		os.Exit(1)
	}
}
