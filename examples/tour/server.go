package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/structured-go/structured/nursery"
)

// serveSlowly serves, on a loopback port, GET /N, which answers after N
// units, and GET /fail/N, which answers 500 after N units. It reports its
// base URL through started and serves until ctx is cancelled.
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
	srv := &http.Server{Handler: mux}
	started("http://" + ln.Addr().String())

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

// get fetches path from server and returns an error for any status but 200.
func get(ctx context.Context, server, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
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
