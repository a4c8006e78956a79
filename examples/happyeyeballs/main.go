// Command happyeyeballs connects to the first of several addresses that
// answers, trying them in order with a staggered start (RFC 8305, "Happy
// Eyeballs"): a new attempt starts when the one before has failed, or has
// gone unanswered for a while; the first to connect wins, and the others
// are cancelled before the call returns.
//
// It starts three servers on loopback, one for each way an address behaves
// (one accepts connections and never answers, one refuses them, one
// answers), connects through them, and checks that what it claims happened;
// it exits with status 1 if not.
//
//	go run ./examples/happyeyeballs
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/structured-go/structured/nursery"
)

// stagger is how long an attempt goes unanswered before the next starts
// (RFC 8305 recommends 250ms).
const stagger = 100 * time.Millisecond

// errLost is returned by an attempt that connected after another had won:
// it closes its connection instead of handing it over.
var errLost = errors.New("another attempt connected first")

// dialFirst dials addrs in order, each attempt starting when the one before
// has failed or after stagger, and returns the first connection that
// answers; the other attempts are cancelled, and have returned, when it
// does. report receives what happens, for the demonstration.
func dialFirst(ctx context.Context, addrs []string, report func(format string, args ...any)) (conn net.Conn, greeting string, err error) {
	type answer struct {
		conn     net.Conn
		greeting string
	}
	started := make([]chan struct{}, len(addrs)) // closed when attempt i dials
	failed := make([]chan struct{}, len(addrs))  // closed when attempt i has failed
	for i := range addrs {
		started[i], failed[i] = make(chan struct{}), make(chan struct{})
	}
	var won atomic.Bool
	attempts := make([]func(context.Context) (answer, error), len(addrs))
	for i, addr := range addrs {
		attempts[i] = func(ctx context.Context) (answer, error) {
			if i > 0 {
				select {
				case <-started[i-1]:
				case <-ctx.Done():
					return answer{}, ctx.Err()
				}
				t := time.NewTimer(stagger)
				defer t.Stop()
				select {
				case <-failed[i-1]:
					report("attempt %d: dialing at once, since attempt %d failed", i+1, i)
				case <-t.C:
					report("attempt %d: dialing, attempt %d has not answered in %v", i+1, i, stagger)
				case <-ctx.Done():
					return answer{}, ctx.Err()
				}
			} else {
				report("attempt %d: dialing", i+1)
			}
			close(started[i])
			c, greeting, err := dialAndGreet(ctx, addr)
			if err != nil {
				if ctx.Err() != nil {
					report("attempt %d: cancelled, another attempt won", i+1)
					return answer{}, ctx.Err()
				}
				report("attempt %d: failed: %s", i+1, describe(err))
				close(failed[i])
				return answer{}, err
			}
			// Claim the win before returning: Race keeps the first success
			// and drops the values of later ones, so a connection that
			// lost must be closed here, by its owner.
			if !won.CompareAndSwap(false, true) {
				c.Close()
				return answer{}, errLost
			}
			report("attempt %d: answered %q", i+1, greeting)
			return answer{c, greeting}, nil
		}
	}
	a, err := nursery.Race(ctx, attempts...)
	return a.conn, a.greeting, err
}

// dialAndGreet connects to addr and reads the server's greeting line. The
// read does not take a ctx, so the end of ctx interrupts it by moving the
// connection's deadline into the past.
func dialAndGreet(ctx context.Context, addr string) (net.Conn, string, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, "", err
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	line, err := bufio.NewReader(c).ReadString('\n')
	if !stop() || err != nil {
		c.Close()
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		return nil, "", err
	}
	return c, strings.TrimSpace(line), nil
}

// describe says what went wrong without the addresses, whose ports change
// from run to run.
func describe(err error) string {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return "connection refused"
	}
	return err.Error()
}

// serve accepts connections on a loopback port until ctx ends, and hands
// each to handle, in a task of its own.
func serve(handle func(ctx context.Context, c net.Conn)) func(ctx context.Context, started func(string)) error {
	return func(ctx context.Context, started func(string)) error {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		started(ln.Addr().String())
		return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
			context.AfterFunc(ctx, func() { ln.Close() })
			for {
				c, err := ln.Accept()
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return err
				}
				n.Go(func(ctx context.Context) error {
					defer c.Close()
					handle(ctx, c)
					return nil
				})
			}
		})
	}
}

// refusedAddr returns a loopback address where nothing listens.
func refusedAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

func run(ctx context.Context) error {
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		silent, err := nursery.Start(ctx, n, serve(func(ctx context.Context, c net.Conn) {
			<-ctx.Done() // accepts, and never says a word
		}))
		if err != nil {
			return err
		}
		good, err := nursery.Start(ctx, n, serve(func(ctx context.Context, c net.Conn) {
			fmt.Fprintln(c, "hello from the good server")
		}))
		if err != nil {
			return err
		}
		refused, err := refusedAddr()
		if err != nil {
			return err
		}

		fmt.Printf("Three addresses for one name: a server that never answers, a port that refuses, a good server.\n")
		fmt.Printf("Each attempt starts when the one before fails, or after %v without an answer.\n\n", stagger)
		var mu sync.Mutex
		var events []string
		report := func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			line := fmt.Sprintf(format, args...)
			events = append(events, line)
			fmt.Println(" ", line)
		}
		conn, greeting, err := dialFirst(ctx, []string{silent, refused, good}, report)
		if err != nil {
			return err
		}
		conn.Close()
		fmt.Printf("\ndialFirst returned the connection of attempt 3: %q\n", greeting)
		fmt.Println("by then every other attempt had returned: nothing was left dialing")

		want := []string{
			"attempt 1: dialing",
			fmt.Sprintf("attempt 2: dialing, attempt 1 has not answered in %v", stagger),
			"attempt 2: failed: connection refused",
			"attempt 3: dialing at once, since attempt 2 failed",
			`attempt 3: answered "hello from the good server"`,
			"attempt 1: cancelled, another attempt won",
		}
		if strings.Join(events, "\n") != strings.Join(want, "\n") {
			return fmt.Errorf("the attempts went\n%s\nwant\n%s", strings.Join(events, "\n"), strings.Join(want, "\n"))
		}
		n.Cancel(nil) // stops the servers
		return nil
	})
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "happyeyeballs:", err)
		os.Exit(1)
	}
}
