package barego

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stretchr/testify/assert"
)

// Goroutines whose last act is what the function waits for, through
// something other than a receive in the function itself: a helper that
// reads a channel to its end, a chain of stages each closing the next
// channel once it has read the one before to its end, a read loop that
// only a Close ends, a loop that never ends.

type job struct{ n int }

// drain reads in to its end: calling it waits for whoever closes in.
func drain(in chan job) int {
	total := 0
	for j := range in {
		total += j.n
	}
	return total
}

// drainEither reads in to its end on every path, through drain.
func drainEither(in chan job, twice bool) int {
	if twice {
		return 2 * drain(in)
	}
	return drain(in)
}

// drainSome stops at the first zero: it does not wait for in's close.
func drainSome(in chan job) int {
	total := 0
	for {
		j, ok := <-in
		if !ok || j.n == 0 {
			return total
		}
		total += j.n
	}
}

func countJobs(jobs []job) int {
	in := make(chan job)
	go func() {
		for _, j := range jobs {
			in <- j
		}
		close(in)
	}()
	return drain(in)
}

func countJobsEither(jobs []job) int {
	in := make(chan job)
	go func() {
		for _, j := range jobs {
			in <- j
		}
		close(in)
	}()
	return drainEither(in, len(jobs) > 3)
}

// workers reads in with n goroutines and closes out once they have all
// returned, that is once in is closed and read: it relays in's close to
// out.
func workers(n int, in chan job, out chan job) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range in {
				out <- job{j.n * 2}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(out)
	}()
}

// A pipeline of three stages: the feeder closes in, the workers close mid
// after reading in to its end, the tee closes out after reading mid to its
// end, and the function reads out to its end. Each stage has ended when
// the function returns.
func pipeline(jobs []job) int {
	in, mid, out := make(chan job), make(chan job), make(chan job)
	go func() {
		for _, j := range jobs {
			in <- j
		}
		close(in)
	}()
	go workers(4, in, mid)
	go func() {
		for j := range mid {
			out <- j
		}
		close(out)
	}()
	return drain(out)
}

// The tee stops early: nothing orders the feeder's close before the
// function's return.
func pipelineStopsEarly(jobs []job) int {
	in, out := make(chan job), make(chan job)
	go func() { // want `SV002: this goroutine outlives pipelineStopsEarly`
		for _, j := range jobs {
			in <- j
		}
		close(in)
	}()
	go func() { // the tee: drainSome gets out, and with it the tee
		for j := range in {
			if j.n == 0 {
				return
			}
			out <- j
		}
		close(out)
	}()
	return drainSome(out)
}

// A reader whose Read fails with ErrClosed once Close was called.
type reader struct{}

var ErrClosed = errors.New("reader closed")

func (*reader) Read() (int, error) { return 0, nil }
func (*reader) Close() error       { return nil }

// The loop returns only once Read says the reader was closed, which the
// goroutine's last act does.
func readUntilClosed(stop chan struct{}) int {
	rd := &reader{}
	go func() {
		<-stop
		rd.Close()
	}()
	total := 0
	for {
		n, err := rd.Read()
		if err != nil {
			if errors.Is(err, ErrClosed) {
				return total
			}
			continue
		}
		total += n
	}
}

// Any other error returns too, while the goroutine waits for stop.
func readUntilError(stop chan struct{}) (int, error) {
	rd := &reader{}
	go func() { // want `SV002: this goroutine outlives readUntilError`
		<-stop
		rd.Close()
	}()
	total := 0
	for {
		n, err := rd.Read()
		if errors.Is(err, ErrClosed) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		total += n
	}
}

// A loop whose condition is the constant true never ends: the function
// never returns, and nothing can outlive it.
func pollForever(tick <-chan time.Time, work func()) {
	go func() {
		for {
			work()
		}
	}()
	for ; true; <-tick {
		work()
	}
}

// A loop that closes a copy of its owner's channel as it ends, taken under
// the owner's lock; the owner's Close waits on a copy of it too.
type channel struct {
	mu     sync.Mutex
	active chan struct{}
	read   func() error
}

func (c *channel) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.active = make(chan struct{})
	go c.loop()
}

func (c *channel) loop() {
	defer func() {
		c.mu.Lock()
		active := c.active
		c.mu.Unlock()
		close(active)
	}()
	for c.read() == nil {
	}
}

func (c *channel) Close() {
	c.mu.Lock()
	active := c.active
	c.mu.Unlock()
	<-active
}

// Nothing waits on the copy of this one's channel.
type channelNoWait struct {
	mu     sync.Mutex
	active chan struct{}
	read   func() error
}

func (c *channelNoWait) Start() {
	c.active = make(chan struct{})
	go c.loop() // want `SV002: nothing waits for this goroutine before channelNoWait.Start returns`
}

func (c *channelNoWait) loop() {
	defer func() {
		c.mu.Lock()
		active := c.active
		c.mu.Unlock()
		close(active)
	}()
	for c.read() == nil {
	}
}

// A switch on a flag compares its cases with it: case true is not a
// condition that always holds.
func switchOnFlag(enabled bool, read func() []byte) []byte {
	got := make(chan []byte, 1)
	go func() { // want `SV002: this goroutine outlives switchOnFlag`
		got <- read()
	}()
	switch enabled {
	case true:
		return <-got
	case false:
	}
	return nil
}

// A test that polls, with testify's Eventually, the flag the goroutine sets
// as it ends goes on only once it is set.
func pollsFlagSetLast(t assert.TestingT, work func()) {
	var done atomic.Bool
	go func() {
		work()
		done.Store(true)
	}()
	assert.Eventually(t, func() bool { return done.Load() }, time.Second, time.Millisecond)
}

// Polling another flag waits for nothing of the goroutine's.
func pollsOtherFlag(t assert.TestingT, work func()) {
	var done, other atomic.Bool
	go func() { // want `SV002: nothing waits for this goroutine before pollsOtherFlag returns`
		work()
		done.Store(true)
	}()
	assert.Eventually(t, func() bool { return other.Load() }, time.Second, time.Millisecond)
}

// The goroutine cancels, as it ends, a context that nothing else cancels,
// and the function waits for its Done.
func waitsForCancel(work func()) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		defer cancel()
		work()
	}()
	<-ctx.Done()
}

func waitsForCancelInSelect(work func(), tick <-chan time.Time) int {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		work()
		cancel()
	}()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return n
		case <-tick:
			n++
		}
	}
}

// A parent's cancellation ends the wait too, with the goroutine still at
// work.
func waitsForCancelOfChild(parent context.Context, work func()) {
	ctx, cancel := context.WithCancel(parent)
	go func() { // want `SV002: nothing waits for this goroutine before waitsForCancelOfChild returns`
		defer cancel()
		work()
	}()
	<-ctx.Done()
}

// The function cancels it itself before it waits.
func cancelsItself(work func()) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { // want `SV002: nothing waits for this goroutine before cancelsItself returns`
		defer cancel()
		work()
	}()
	cancel()
	<-ctx.Done()
}

// The feeder goes on after its close: the stage that reads in to its end
// does not wait for what follows.
func pipelineWorkAfterClose(jobs []job, reset func()) int {
	in, out := make(chan job), make(chan job)
	go func() { // want `SV002: this goroutine outlives pipelineWorkAfterClose`
		for _, j := range jobs {
			in <- j
		}
		close(in)
		reset()
	}()
	go func() {
		for j := range in {
			out <- j
		}
		close(out)
	}()
	return drain(out)
}

// A loop that returns once its owner's stop takes it: the send on the
// unbuffered channel completes only when the loop has received it.
type stopTicker struct {
	stop chan struct{}
	tick <-chan time.Time
}

func newStopTicker(tick <-chan time.Time) *stopTicker {
	return &stopTicker{stop: make(chan struct{}), tick: tick}
}

func (t *stopTicker) start(work func()) {
	go func() {
		for {
			select {
			case <-t.tick:
				work()
			case <-t.stop:
				return
			}
		}
	}()
}

func (t *stopTicker) halt() { t.stop <- struct{}{} }

// With a buffer, the send completes while the loop may still be at work.
type bufferedTicker struct {
	stop chan struct{}
	tick <-chan time.Time
}

func newBufferedTicker(tick <-chan time.Time) *bufferedTicker {
	return &bufferedTicker{stop: make(chan struct{}, 1), tick: tick}
}

func (t *bufferedTicker) start(work func()) {
	go func() { // want `SV002: nothing waits for this goroutine before bufferedTicker.start returns`
		for {
			select {
			case <-t.tick:
				work()
			case <-t.stop:
				return
			}
		}
	}()
}

func (t *bufferedTicker) halt() { t.stop <- struct{}{} }

// Cancelling on the way is no end: the loop goes on after it.
func cancelsOnTheWay(tick <-chan time.Time, stop chan struct{}, seen func() bool) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { // want `SV002: nothing waits for this goroutine before cancelsOnTheWay returns`
		for {
			select {
			case <-stop:
				return
			case <-tick:
				if seen() {
					cancel()
				}
			}
		}
	}()
	<-ctx.Done()
}

// numbers' goroutine signals both channels it returns: receiving from
// either waits for it.
func numbers(n int) (<-chan int, <-chan error) {
	out, errs := make(chan int), make(chan error)
	go func() {
		for i := range n {
			out <- i
		}
		errs <- nil
	}()
	return out, errs
}

func readStream(n int) (int, error) {
	events, errs := numbers(n)
	total := 0
	for {
		select {
		case err := <-errs:
			return total, err
		case v := <-events:
			total += v
		}
	}
}

func readStreamGivingUp(n int, stop <-chan struct{}) int {
	events, errs := numbers(n) // want `SV002: the goroutine that numbers starts outlives readStreamGivingUp: the return on line \d+ is reached without waiting for it; receive from errs on every path`
	total := 0
	for {
		select {
		case <-errs:
			return total
		case v := <-events:
			total += v
		case <-stop:
			return total
		}
	}
}

// The goroutine's last act is a send in each case of the select that ends
// it; the owner's method receives it. (The copier it leaves behind on a
// bailout is reported.)
type interceptor struct {
	content chan string
	bailout chan struct{}
}

func (c *interceptor) start(copyAll func(), sink *string) {
	c.content = make(chan string)
	go func() {
		done := make(chan struct{})
		go func() { // want `SV002: this goroutine outlives the function literal`
			copyAll()
			close(done)
		}()
		select {
		case <-done:
			c.content <- *sink
		case <-c.bailout:
			c.content <- ""
		}
	}()
}

func (c *interceptor) stop() string { return <-c.content }

// What a review of the shapes above found them to let through, each
// reported again.

// A stage that closes its output on an early return, before it reads its
// input: the feeder is left blocked.
func stageSetup(in <-chan job, out chan<- job, setup func() error) {
	defer close(out)
	if err := setup(); err != nil {
		return
	}
	for j := range in {
		out <- j
	}
}

func pipelineSetup(jobs []job, setup func() error) int {
	in, out := make(chan job), make(chan job)
	go func() { // want `SV002: nothing waits for this goroutine before pipelineSetup returns`
		for _, j := range jobs {
			in <- j
		}
		close(in)
	}()
	go stageSetup(in, out, setup)
	return drain2(out)
}

func drain2(out chan job) int {
	n := 0
	for range out {
		n++
	}
	return n
}

// Work after the stop is taken: it goes on after halt returns.
type stopFlusher struct {
	stop  chan struct{}
	in    chan string
	flush func()
}

func newStopFlusher() *stopFlusher {
	return &stopFlusher{stop: make(chan struct{}), in: make(chan string)}
}

func (f *stopFlusher) start() {
	go func() { // want `SV002: nothing waits for this goroutine before stopFlusher.start returns`
		for {
			select {
			case <-f.in:
			case <-f.stop:
				f.flush()
				return
			}
		}
	}()
}

func (f *stopFlusher) halt() { f.stop <- struct{}{} }

// A stop that gives up after a while, and one stop for many workers.
type poller struct {
	quit chan struct{}
}

func newPoller() *poller { return &poller{quit: make(chan struct{})} }

func (p *poller) start(poll func(), tick <-chan time.Time) {
	go func() { // want `SV002: nothing waits for this goroutine before poller.start returns`
		for {
			select {
			case <-tick:
				poll()
			case <-p.quit:
				return
			}
		}
	}()
}

func (p *poller) halt(timeout <-chan time.Time) {
	select {
	case p.quit <- struct{}{}:
	case <-timeout:
	}
}

type quitPool struct {
	quit  chan struct{}
	tasks chan func()
}

func newQuitPool() *quitPool { return &quitPool{quit: make(chan struct{}), tasks: make(chan func())} }

func (w *quitPool) start(n int) {
	for range n {
		go func() { // want `SV002: nothing waits for this goroutine before quitPool.start returns`
			for {
				select {
				case t := <-w.tasks:
					t()
				case <-w.quit:
					return
				}
			}
		}()
	}
}

func (w *quitPool) halt() { w.quit <- struct{}{} }

// A cancel on the way as well as at the end, and one handed to a timer.
func cancelsOnSignalToo(sigs <-chan int, reload func()) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { // want `SV002: nothing waits for this goroutine before cancelsOnSignalToo returns`
		defer cancel()
		for s := range sigs {
			if s == 2 {
				cancel()
				continue
			}
			reload()
		}
	}()
	<-ctx.Done()
}

func cancelHandedToTimer(d time.Duration, work func()) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { // want `SV002: nothing waits for this goroutine before cancelHandedToTimer returns`
		defer cancel()
		t := time.AfterFunc(d, cancel)
		defer t.Stop()
		work()
	}()
	<-ctx.Done()
}

// A Close followed by more work, and an ErrClosed from another value.
func closeThenClean(rd *reader, stop chan struct{}, clean func()) int {
	rd2 := &reader{}
	go func() { // want `SV002: nothing waits for this goroutine before closeThenClean returns`
		<-stop
		rd2.Close()
		clean()
	}()
	for {
		if _, err := rd2.Read(); errors.Is(err, ErrClosed) {
			return 0
		}
	}
}

func closedOtherValue(upstream *reader, stop chan struct{}) int {
	down := &reader{}
	go func() { // want `SV002: nothing waits for this goroutine before closedOtherValue returns`
		<-stop
		down.Close()
	}()
	for {
		_, err := upstream.Read()
		if errors.Is(err, ErrClosed) {
			return 0
		}
	}
}

// A feeder whose reader sends on the caller's channel: the caller may
// wait for the reader, not for the feeder.
func fanIn(items []int, results chan<- int) {
	in := make(chan int)
	go func() { // want `SV002: this goroutine outlives fanIn`
		for _, x := range items {
			in <- x
		}
		close(in)
	}()
	go func() {
		for x := range in {
			results <- x * 2
		}
	}()
}

// The first event, not the end.
func firstNumber(n int) (int, error) {
	events, errs := numbers(n) // want `SV002: the goroutine that numbers starts outlives firstNumber: the return on line \d+ is reached without waiting for it; receive from errs on every path`
	select {
	case v := <-events:
		return v, nil
	case err := <-errs:
		return 0, err
	}
}

// A flag that says "running", and a condition that is not the flag.
func pollsRunning(t assert.TestingT, work func()) {
	var running atomic.Bool
	go func() { // want `SV002: nothing waits for this goroutine before pollsRunning returns`
		defer running.Store(false)
		running.Store(true)
		work()
	}()
	assert.Eventually(t, func() bool { return running.Load() }, time.Second, time.Millisecond)
}

func pollsNegated(t assert.TestingT, work func()) {
	var done atomic.Bool
	go func() { // want `SV002: nothing waits for this goroutine before pollsNegated returns`
		work()
		done.Store(true)
	}()
	assert.Eventually(t, func() bool { return !done.Load() }, time.Second, time.Millisecond)
}

// A copy of a field's channel that may be another channel.
type runner struct{ done chan struct{} }

func (r *runner) wait() { <-r.done }

func (r *runner) start(work func()) {
	done := r.done
	if done == nil {
		done = make(chan struct{})
	}
	go func() { // want `SV002: nothing waits for this goroutine before runner.start returns`
		work()
		close(done)
	}()
}

// The Close's own error handled as the goroutine's last act.
func readUntilClosedChecked(stop chan struct{}, fatal func(error)) int {
	rd := &reader{}
	go func() {
		<-stop
		if err := rd.Close(); err != nil {
			fatal(err)
		}
	}()
	for {
		if _, err := rd.Read(); errors.Is(err, ErrClosed) {
			return 0
		}
	}
}

// A loop that closes its stop channel as it returns: close sends on it and
// then waits for that close.
type sendLoop struct {
	stop  chan struct{}
	queue chan []byte
}

func newSendLoop() *sendLoop {
	return &sendLoop{stop: make(chan struct{}), queue: make(chan []byte)}
}

func (s *sendLoop) start(write func([]byte)) {
	go func() {
		defer close(s.stop)
		for {
			select {
			case b := <-s.queue:
				write(b)
			case <-s.stop:
				return
			}
		}
	}()
}

func (s *sendLoop) close() {
	s.stop <- struct{}{}
	<-s.stop
}

// The stop hands the loop a reply channel, which the loop closes as it
// returns.
type registrar struct{ quit chan chan struct{} }

func (r *registrar) start(tick <-chan time.Time, heartbeat func()) {
	r.quit = make(chan chan struct{})
	go func() {
		for {
			select {
			case <-tick:
				heartbeat()
			case q := <-r.quit:
				heartbeat() // the last one: stop waits for its reply
				close(q)
				return
			}
		}
	}()
}

func (r *registrar) stop() {
	q := make(chan struct{})
	r.quit <- q
	<-q
}
