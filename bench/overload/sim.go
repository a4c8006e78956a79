package overload

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// A scenario is one variant of the benchmark: the server's capacity over
// time, the offered load, and how long it runs.
type scenario struct {
	name string
	// workers and slowdown give the server's workers W(t) and the factor
	// m(t) on service times, for t measured from the start of the run.
	workers  func(t time.Duration) int
	slowdown func(t time.Duration) float64
	maxW     int
	rate     float64       // arrivals per second, Poisson
	timeout  time.Duration // the client gives up after it
	duration time.Duration
	changes  []time.Duration // when W or m change
	// shedAfter, if positive, makes the server answer at once with an
	// error when the wait of a new request in its queue would pass it.
	shedAfter time.Duration
}

// phaseAt returns the index of the phase t falls in.
func (s *scenario) phaseAt(t time.Duration) int {
	p := 0
	for _, c := range s.changes {
		if t >= c {
			p++
		}
	}
	return p
}

// nextChange returns the first change after t, or the end of the run.
func (s *scenario) nextChange(t time.Duration) time.Duration {
	for _, c := range s.changes {
		if c > t {
			return c
		}
	}
	return s.duration
}

var (
	variantA = scenario{
		name:     "A",
		workers:  steps(16, 8, 16),
		slowdown: func(time.Duration) float64 { return 1 },
		maxW:     16,
		rate:     1200,
		timeout:  time.Second,
		duration: 90 * time.Second,
		changes:  []time.Duration{30 * time.Second, 60 * time.Second},
	}
	variantB = scenario{
		name:    "B",
		workers: func(time.Duration) int { return 16 },
		slowdown: func(t time.Duration) float64 {
			if t >= 30*time.Second && t < 60*time.Second {
				return 2
			}
			return 1
		},
		maxW:     16,
		rate:     1200,
		timeout:  time.Second,
		duration: 90 * time.Second,
		changes:  []time.Duration{30 * time.Second, 60 * time.Second},
	}
	// variantC: the downstream goes down for the middle 30 s (no worker
	// serves; every request is shed at once, as a server behind a load
	// balancer answers 503), under a load it can carry otherwise (0.75 of
	// its capacity). Shedding when the wait would pass 200 ms is what keeps
	// its queue bounded.
	variantC = scenario{
		name:      "C",
		workers:   steps(16, 0, 16),
		slowdown:  func(time.Duration) float64 { return 1 },
		maxW:      16,
		rate:      600,
		timeout:   time.Second,
		duration:  90 * time.Second,
		changes:   []time.Duration{30 * time.Second, 60 * time.Second},
		shedAfter: 200 * time.Millisecond,
	}
)

// steps returns W(t) for three phases of 30 s.
func steps(a, b, c int) func(time.Duration) int {
	return func(t time.Duration) int {
		switch {
		case t < 30*time.Second:
			return a
		case t < 60*time.Second:
			return b
		default:
			return c
		}
	}
}

// meanService is the mean service time before the slowdown factor:
// 10 ms + Exp(mean 10 ms).
const meanService = 20 * time.Millisecond

// errShed is the server's fast refusal in variant C.
var errShed = errors.New("server: overloaded, try later")

// outcome is what became of one request.
type outcome uint8

const (
	rejected  outcome = iota // refused by the client's limiter, breaker or throttle
	completed                // answered
	timedOut                 // the client gave up after its timeout
	shed                     // the server refused it at once (variant C)
)

// A record is one request, as the client saw it.
type record struct {
	arrival, end time.Duration // from the start of the run
	outcome      outcome
}

// A request is one request in the server's queue.
type request struct {
	service  time.Duration
	deadline time.Time
	done     chan error // buffered: the server never blocks on it
}

// server is W(t) workers over an unbounded FIFO queue.
type server struct {
	sc    *scenario
	start time.Time

	mu    sync.Mutex
	cond  *sync.Cond
	queue []*request // FIFO; head at queue[qhead]
	qhead int
	stop  bool

	wastedSkip, wastedWork, served, shed int // counted under mu
	queuedWork                           time.Duration
}

func newServer(sc *scenario, start time.Time) *server {
	s := &server{sc: sc, start: start}
	s.cond = sync.NewCond(&s.mu)
	return s
}

func (s *server) now() time.Duration { return time.Since(s.start) }

// submit queues r, or sheds it at once in variant C when the wait it would
// face passes shedAfter. It reports false if shed.
func (s *server) submit(r *request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sc.shedAfter > 0 {
		w := s.sc.workers(s.now())
		if w == 0 || s.queuedWork/time.Duration(w) > s.sc.shedAfter {
			s.shed++
			return false
		}
	}
	s.queuedWork += r.service
	s.queue = append(s.queue, r)
	s.cond.Signal()
	return true
}

// worker serves requests while its index is below W(t); above it, it is
// parked until the next change.
func (s *server) worker(i int) {
	for {
		s.mu.Lock()
		for {
			if s.stop {
				s.mu.Unlock()
				return
			}
			now := s.now()
			if i >= s.sc.workers(now) {
				// Parked: a wake-up meant for a worker goes to another.
				s.cond.Signal()
				s.mu.Unlock()
				next := s.sc.nextChange(now)
				if next >= s.sc.duration {
					return
				}
				time.Sleep(next - now)
				s.mu.Lock()
				continue
			}
			if s.qhead < len(s.queue) {
				break
			}
			s.cond.Wait()
		}
		r := s.queue[s.qhead]
		s.queue[s.qhead] = nil
		s.qhead++
		if s.qhead > 4096 && s.qhead*2 > len(s.queue) {
			s.queue = append(s.queue[:0], s.queue[s.qhead:]...)
			s.qhead = 0
		}
		s.queuedWork -= r.service
		if time.Now().After(r.deadline) {
			s.wastedSkip++
			s.mu.Unlock()
			continue
		}
		s.mu.Unlock()
		time.Sleep(r.service)
		s.mu.Lock()
		if time.Now().After(r.deadline) {
			s.wastedWork++
		} else {
			s.served++
		}
		s.mu.Unlock()
		r.done <- nil
	}
}

func (s *server) close() {
	s.mu.Lock()
	s.stop = true
	s.cond.Broadcast()
	s.mu.Unlock()
}

// call is one request from the client: it goes to the server and waits for
// the answer until ctx ends (the client's timeout).
func (s *server) call(ctx context.Context, service time.Duration) error {
	deadline, _ := ctx.Deadline()
	r := &request{service: service, deadline: deadline, done: make(chan error, 1)}
	if !s.submit(r) {
		return errShed
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// A run is what one contender saw in one scenario with one seed.
type run struct {
	records                                   []record
	limits                                    []float64 // limit(t) at t = 0, 1, ..., duration-1 s; NaN for none
	trace                                     []float64 // limit every 100 ms, for the plot
	extra                                     map[string]float64
	served, wastedSkip, wastedWork, shedCount int
	shedByPhase                               [3]int
	states                                    []stateChange
}

type stateChange struct {
	at    time.Duration
	state string
}

// simulate runs c in sc with the given seed. It must be called inside a
// synctest bubble: all its time is virtual.
func simulate(sc *scenario, seed uint64, c contender) *run {
	start := time.Now()
	srv := newServer(sc, start)
	c.start(start, sc)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	// Draw every arrival and service time first, so that each contender
	// faces the same requests for a seed.
	type arrival struct {
		at      time.Duration
		service time.Duration
	}
	var arrivals []arrival
	for t := time.Duration(0); ; {
		t += time.Duration(rng.ExpFloat64() / sc.rate * float64(time.Second))
		if t >= sc.duration {
			break
		}
		m := sc.slowdown(t)
		svc := time.Duration(m * float64(10*time.Millisecond+time.Duration(rng.ExpFloat64()*float64(10*time.Millisecond))))
		arrivals = append(arrivals, arrival{t, svc})
	}

	out := &run{records: make([]record, len(arrivals)), extra: map[string]float64{}}
	var wg sync.WaitGroup
	for i := range sc.maxW {
		wg.Go(func() { srv.worker(i) })
	}
	// The sampler: the limit once a second (at the whole second, before
	// anything else happens then), and every 100 ms for the plot.
	wg.Go(func() {
		for k := 0; k < int(sc.duration/(100*time.Millisecond)); k++ {
			if d := start.Add(time.Duration(k) * 100 * time.Millisecond).Sub(time.Now()); d > 0 {
				time.Sleep(d)
			}
			l := c.limit()
			out.trace = append(out.trace, l)
			if k%10 == 0 {
				out.limits = append(out.limits, l)
			}
		}
	})

	var reqs sync.WaitGroup
	for i, a := range arrivals {
		if d := start.Add(a.at).Sub(time.Now()); d > 0 {
			time.Sleep(d)
		}
		reqs.Go(func() {
			rec := &out.records[i]
			rec.arrival = a.at
			ctx, stop := context.WithTimeout(context.Background(), sc.timeout)
			defer stop()
			err := c.do(ctx, func(ctx context.Context) error { return srv.call(ctx, a.service) })
			rec.end = time.Since(start)
			switch {
			case err == nil:
				rec.outcome = completed
			case errors.Is(err, errShed):
				rec.outcome = shed
			case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
				rec.outcome = timedOut
			default:
				rec.outcome = rejected
			}
		})
	}
	reqs.Wait()
	srv.close()
	wg.Wait()
	c.finish(out)
	out.served, out.wastedSkip, out.wastedWork, out.shedCount = srv.served, srv.wastedSkip, srv.wastedWork, srv.shed
	return out
}

// nan is the limit of a contender without one.
var nan = math.NaN()
