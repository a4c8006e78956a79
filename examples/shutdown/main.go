// Command shutdown is a server that stops gracefully on SIGINT or SIGTERM:
// the signal cancels its nursery, the server stops accepting connections,
// the requests in flight finish, and only then does the program exit.
//
// To show it without a terminal, the program plays its own users: it sends
// a slow request, sends itself SIGTERM while that request is in flight, and
// tries a new request during the shutdown. It checks that the slow request
// was answered, that the new one was refused, and that Run reported the
// signal; it exits with status 1 if not.
//
//	go run ./examples/shutdown
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/timeout"
)

// serve listens on a loopback port and serves until SIGINT or SIGTERM,
// then shuts down within 5 seconds. It reports its address through
// started; inFlight receives a value when a request to /slow has arrived,
// and shuttingDown is closed once the server no longer accepts
// connections.
func serve(ctx context.Context, started func(string), inFlight chan<- struct{}, shuttingDown chan<- struct{}) error {
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
			inFlight <- struct{}{}
			t := time.NewTimer(200 * time.Millisecond) // a slow answer
			defer t.Stop()
			select {
			case <-t.C:
				fmt.Fprint(w, "slow answer")
			case <-r.Context().Done():
			}
		})
		srv := &http.Server{Handler: mux}
		// Shutdown closes the listeners before it calls these.
		srv.RegisterOnShutdown(func() { close(shuttingDown) })

		n.Go(func(ctx context.Context) error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		started(ln.Addr().String())

		<-ctx.Done() // the signal
		fmt.Println("shutting down:", context.Cause(ctx))
		// The nursery's ctx is done, so Shutdown, which waits for the
		// requests in flight, runs under a shield, with a deadline.
		return timeout.FailAfter(ctx, 5*time.Second, srv.Shutdown, timeout.WithShield())
	}, nursery.WithSignals())
}

// get fetches url and returns the status and body, on a connection of its
// own.
func get(ctx context.Context, url string) (string, error) {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return fmt.Sprintf("%s %q", resp.Status, b), err
}

func run(ctx context.Context) error {
	inFlight := make(chan struct{}, 1)
	shuttingDown := make(chan struct{})
	var slowAnswer string
	var slowErr, lateErr error
	// WithCollectAll: the server's end (its *SignalError) does not cancel
	// the users, who stand for the outside world.
	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		addr, err := nursery.Start(ctx, n, func(ctx context.Context, started func(string)) error {
			return serve(ctx, started, inFlight, shuttingDown)
		})
		if err != nil {
			return err
		}
		fmt.Println("the server is listening on loopback")
		n.Go(func(ctx context.Context) error {
			slowAnswer, slowErr = get(ctx, "http://"+addr+"/slow")
			return nil
		})
		<-inFlight
		fmt.Println("a slow request is in flight; the program sends itself SIGTERM")
		if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
			return err
		}
		<-shuttingDown
		_, lateErr = get(ctx, "http://"+addr+"/slow")
		if errors.Is(lateErr, syscall.ECONNREFUSED) {
			fmt.Println("a new request during the shutdown: connection refused")
		}
		return nil
	}, nursery.WithCollectAll())

	fmt.Printf("the request in flight was answered: %s\n", slowAnswer)
	fmt.Println("Run returned:", err)
	var sig *nursery.SignalError
	if errors.As(err, &sig) {
		code := 128 + int(sig.Signal.(syscall.Signal))
		fmt.Printf("a server would now exit with status %d (128 + the signal's number)\n", code)
	}

	// The self-check.
	switch {
	case slowErr != nil || slowAnswer != `200 OK "slow answer"`:
		return fmt.Errorf("the request in flight got %s, %v; want it answered", slowAnswer, slowErr)
	case !errors.Is(lateErr, syscall.ECONNREFUSED):
		return fmt.Errorf("a request during the shutdown got %v; want it refused", lateErr)
	case sig == nil || sig.Signal != syscall.SIGTERM:
		return fmt.Errorf("Run returned %v; want the *nursery.SignalError of SIGTERM", err)
	}
	return nil
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "shutdown:", err)
		os.Exit(1)
	}
}
