package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/structured-go/structured/nursery"
)

// serveSlowly serves, on a loopback port, GET /N, which answers after N
// units, and GET /fail/N, which answers 500 after N units; GET /flaky/KEY
// answers 503 twice, then 200, and GET /busy/KEY answers 503 with
// Retry-After: 1 once, then 200 (counting per KEY). It reports its
// address through started and serves until ctx is cancelled.
func serveSlowly(ctx context.Context, started func(string)) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{n}", func(w http.ResponseWriter, r *http.Request) {
		if wait(w, r) {
			fmt.Fprintf(w, "slept %s\n", r.PathValue("n"))
		}
	})
	mux.HandleFunc("GET /fail/{n}", func(w http.ResponseWriter, r *http.Request) {
		if wait(w, r) {
			http.Error(w, "the upstream is down", http.StatusInternalServerError)
		}
	})
	var mu sync.Mutex
	seen := map[string]int{}
	count := func(r *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		seen[r.URL.Path]++
		return seen[r.URL.Path]
	}
	mux.HandleFunc("GET /flaky/{key}", func(w http.ResponseWriter, r *http.Request) {
		if count(r) <= 2 {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /busy/{key}", func(w http.ResponseWriter, r *http.Request) {
		if count(r) == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	srv := &http.Server{Handler: mux}
	started(ln.Addr().String())

	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		<-ctx.Done()
		return srv.Shutdown(context.WithoutCancel(ctx))
	})
}

// wait sleeps the number of units in the path, or until the client goes
// away; it reports whether the handler should answer.
func wait(w http.ResponseWriter, r *http.Request) bool {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 {
		http.Error(w, "want a number of units", http.StatusBadRequest)
		return false
	}
	t := time.NewTimer(time.Duration(n) * unit)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// serverURL is how the tour names its server: the client dials the
// server's loopback port whatever the host in the URL, so that what the
// tour prints does not show a port that changes from run to run.
const serverURL = "http://slow.server"

// client is the tour's HTTP client; main sets it up once the server
// listens.
var client *http.Client

// newClient returns a client that sends every request to addr.
func newClient(addr string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
}

// get fetches path from server and returns an error for any status but 200.
func get(ctx context.Context, server, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+path, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &statusError{path: path, code: resp.StatusCode}
	}
	return nil
}

type statusError struct {
	path string
	code int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("GET %s: %s", e.path, http.StatusText(e.code))
}
