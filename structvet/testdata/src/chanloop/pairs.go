package chanloop

import (
	"context"
	"io"
)

// Not reported: the task waits for a child of its own, which sends once on
// every path.
func copyAll(ctx context.Context, srcs []io.Reader, dst io.Writer) {
	go func() {
		for _, src := range srcs {
			eof := make(chan error)
			go func() {
				_, err := io.Copy(dst, src)
				eof <- err
			}()
			if err := <-eof; err != nil {
				return
			}
		}
	}()
}

func closedByChild(ctx context.Context, jobs []func()) {
	go func() {
		for _, job := range jobs {
			done := make(chan struct{})
			go func() {
				defer close(done)
				job()
			}()
			<-done
		}
	}()
}

// Reported: the child sends only on some paths.
func maybeAnswers(ctx context.Context, jobs []func() bool) {
	go func() {
		for _, job := range jobs {
			ok := make(chan bool)
			go func() {
				if job() {
					ok <- true
				}
			}()
			<-ok // want `SV007: this receive from ok in a loop blocks forever once the sender stops without closing it`
		}
	}()
}

// Not reported: a request that carries its reply channel, and that reply.
type request struct {
	key   string
	reply chan string
}

func lookups(ctx context.Context, keys []string, reqs chan<- request, out func(string)) {
	go func() {
		for _, k := range keys {
			req := request{key: k, reply: make(chan string)}
			reqs <- req
			out(<-req.reply)
		}
	}()
}

func lookupsByChannel(ctx context.Context, keys []string, reqs chan<- request, out func(string)) {
	go func() {
		for _, k := range keys {
			reply := make(chan string)
			reqs <- request{key: k, reply: reply}
			out(<-reply)
		}
	}()
}

// Reported: a send that carries no reply channel, and a receive from a
// channel that no request carried.
func notifications(ctx context.Context, keys []string, reqs chan<- string, acks <-chan bool) {
	go func() {
		for _, k := range keys {
			reqs <- k // want `SV007: this send on reqs in a loop blocks forever once the receiver stops`
			<-acks    // want `SV007: this receive from acks in a loop blocks forever`
		}
	}()
}

// Not reported: one send, then return, into a buffer of one.
func firstError(ctx context.Context, read func() error) <-chan error {
	errc := make(chan error, 1)
	go func() {
		for {
			if err := read(); err != nil {
				errc <- err
				return
			}
		}
	}()
	return errc
}

// Reported: unbuffered, the single send still waits for a receiver.
func firstErrorUnbuffered(ctx context.Context, read func() error) <-chan error {
	errc := make(chan error)
	go func() {
		for {
			if err := read(); err != nil {
				errc <- err // want `SV007: this send on errc in a loop blocks forever`
				return
			}
		}
	}()
	return errc
}

// Reported: other sends may have filled the buffer by the time of the
// last one.
func repliesThenTimeout(ctx context.Context, notes <-chan string) <-chan string {
	replies := make(chan string, 1)
	go func() {
		for {
			select {
			case <-ctx.Done():
				replies <- "timeout" // want `SV007: this send on replies in a loop blocks forever`
				return
			case n := <-notes:
				replies <- n // want `SV007: this send on replies in a loop blocks forever`
			}
		}
	}()
	return replies
}
